"""A synthetic spine-CT phantom with exact whole-vertebra masks (NumPy/SciPy only).

One case is a continuous stack of axial slices through several vertebrae of one
synthetic patient.  The recipe follows ``shared/spec/phantom.md``:

* **geometry in millimetres**, drawn as signed-distance shapes (ellipses with
  irregular outlines, capsules) in patient coordinates; each vertebra has a body
  (thin cortical shell, textured cancellous bone, endplates), pedicles, laminae,
  transverse and spinous processes and articular processes, whose presence
  follows the slice's position within the vertebra (pedicle level: a closed
  ring around the canal; lower body: body plus separate posterior islands;
  disc level: disc and facets only).  Thoracic spinous processes slope down and
  show as separate islands below their vertebra.  Sizes by level follow the
  spec's tables (T1 to L5) with per-case variation.
* **surroundings by region**: skin, subcutaneous fat, muscle wall, paraspinal
  and psoas muscles, lungs with vessels, heart, aorta (three contrast phases),
  IVC, liver, spleen, stomach, kidneys, bowel with gas, ribs (not in the mask),
  sternum, scapulae, iliac wings, and the CT table.
* **rendering**: analytic partial-volume coverage from the signed distances
  (equivalent to supersampling smooth edges), Gaussian blur for the scanner's
  resolution, correlated noise with a ramp-shaped noise power spectrum, int16 HU.
* **mask**: the union of the vertebra parts at 50 % pixel coverage, measured by
  4 x 4 supersampling on the pixels near an edge.  Ribs are not in the mask.
* **per-case variation**: body size and fat, field of view, bone density,
  contrast phase, rotation, offset, first level (thoracic to lumbar), noise level.
* **variation "random"** (:mod:`.randomise`, :mod:`.acquisition`): SynthSeg-style
  domain randomisation, every case drawing tissue HU, contrast phase, noise level and
  texture, blur, slice thickness (partial volume along z), a bias field, field of view
  (mostly spine-centred), body size, vertebra shape by part and posture (tilt,
  scoliosis-like drift) within the spec's ranges, each a switch of
  :data:`RANDOMISATIONS` that ``synthetic_case(..., randomise=...)`` can turn off;
  its ribs are attached to their vertebrae (heads on the bodies, necks against the
  transverse processes).  It is not yet the default: in first realism runs a U-Net
  trained on it transferred to the real samples no better than on the ``csi``/``wide`` mix.

Everything random comes from generators seeded by ``seed`` (``default_rng(seed)``,
and ``default_rng([seed, 1])`` or ``[seed, 2]`` for the draws of "wide" and "random"):
the same seed gives the same case.

The parts, each a module named for what it draws: :mod:`.geometry` (signed-distance shapes and
the canvas), :mod:`.texture` (textures and scanner noise), :mod:`.patient` (per-case parameters),
:mod:`.soft_tissue`, :mod:`.spine` (sizes by level, vertebra parts, discs, canal),
:mod:`.skeleton` (ribs, sternum, scapulae, pelvis, arms; how each bone looks), :mod:`.render`
(one slice), :mod:`.randomise` (the draws of variation "random"), :mod:`.acquisition` (its scan:
thickness, bias field, blur, noise) and :mod:`.synthetic` (the public functions).
"""

from .randomise import RANDOMISATIONS
from .spine import LEVEL_NAMES
from .synthetic import synthetic_case, synthetic_dataset

__all__ = ["synthetic_case", "synthetic_dataset", "LEVEL_NAMES", "RANDOMISATIONS"]
