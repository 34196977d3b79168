"""Readers for real CT: MetaImage, NIfTI, DICOM series, the CSI 2014 set, the demo samples.

All formats go through SimpleITK: it is the reference reader for MetaImage
(ITK defined the format), reads NIfTI and DICOM series too, and keeps every
image's physical geometry (origin, spacing, direction), so that an image and
a label map stored in different orientations can be aligned by physical
position (the DICOM demo's labels are stored with the y axis flipped).
One dependency instead of three (nibabel, pydicom and a hand-written
MetaImage parser).  It is imported only when a file is read.

SimpleITK reads an incomplete file without complaint (a truncated NIfTI
comes back with its missing part as zeros, a DICOM series with a missing
slice comes back with the slices after the gap misplaced), so every file is
checked first (:mod:`rarunet_lib.data.filechecks`): a NIfTI must hold the
bytes its header announces, a MetaImage's data file must exist and be long
enough, a DICOM series must have evenly spaced slice positions.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np

from ..checks import ArgumentTypeError, check_choice, check_number, check_path, refuse
from .case import Case
from .filechecks import check_dicom_series, check_image_file

__all__ = [
    "DATA_DIR_ENV_VAR",
    "CSI_HU_OFFSET",
    "load_case",
    "save_mask",
    "MASK_SUFFIXES",
    "find_csi2014",
    "load_csi2014",
    "demo_names",
    "load_demo",
    "samples_dir",
]

DATA_DIR_ENV_VAR = "RARUNET_DATA_DIR"
#: CSI 2014 files store HU + 1000 as unsigned 12-bit values.
CSI_HU_OFFSET = 1000
_IMAGE_SUFFIXES = (".mhd", ".mha", ".nii.gz", ".nii", ".nrrd")
#: File endings :func:`save_mask` writes (the format follows the ending).
MASK_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd")
#: TotalSegmentator v2 "total" ids of the vertebrae (C1 ... S1).
TOTALSEG_VERTEBRA_IDS = tuple(range(26, 51))


def samples_dir() -> Path:
    """Folder of the real CT samples shipped with the package (see its NOTICE)."""
    return Path(str(resources.files("rarunet_lib.data") / "samples"))


def _read(path: Path, arg: str) -> tuple[object, dict]:
    import SimpleITK as sitk

    if not path.exists():
        raise FileNotFoundError(f"{arg}={str(path)!r} does not exist")
    if path.is_dir():
        reader = sitk.ImageSeriesReader()
        names = reader.GetGDCMSeriesFileNames(str(path))
        if not names:
            raise ValueError(f"{arg}={str(path)!r} could not be read as a CT image: "
                             "no DICOM series found in the folder")
    try:
        if path.is_dir():
            check_dicom_series(path, names)
        else:
            check_image_file(path)
    except (ValueError, FileNotFoundError) as err:
        raise type(err)(f"{arg}={str(path)!r} could not be read as a CT image: {err}") from err
    try:
        if path.is_dir():
            reader.SetFileNames(names)
            image = reader.Execute()
        else:
            image = sitk.ReadImage(str(path))
    except RuntimeError as err:  # SimpleITK raises RuntimeError on corrupt files
        lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
        why = next((ln for ln in reversed(lines) if not ln.startswith(("Exception thrown", "/"))),
                   lines[0] if lines else type(err).__name__)
        raise ValueError(f"{arg}={str(path)!r} could not be read as a CT image: {why}") from err
    if image.GetDimension() != 3:
        raise ValueError(f"{arg}={str(path)!r} is {image.GetDimension()}-D; a 3-D volume is required")
    # the arrays are LPS; the file's own grid is kept so that save_mask can write on it
    return sitk.DICOMOrient(image, "LPS"), _geometry(image)


def _geometry(image) -> dict:
    """An image's grid: size (x, y, z), spacing, origin, direction, as plain tuples."""
    return {"size": tuple(int(v) for v in image.GetSize()),
            "spacing": tuple(float(v) for v in image.GetSpacing()),
            "origin": tuple(float(v) for v in image.GetOrigin()),
            "direction": tuple(float(v) for v in image.GetDirection())}


def load_case(
    image_path,
    labels=None,
    *,
    hu_offset: float | str = "auto",
    keep_labels: Iterable[int] | None = None,
    name: str | None = None,
) -> Case:
    """Read a CT volume (and its label map) into a :class:`Case`.

    Parameters
    ----------
    image_path : str or Path
        A MetaImage (``.mhd`` with its ``.raw``, or ``.mha``), NIfTI
        (``.nii``/``.nii.gz``) or NRRD file, or a folder holding one DICOM series.
    labels : str or Path, optional
        Label map in any of those formats.  It is resampled onto the image grid
        by physical position (nearest neighbour), so a label map stored in
        another orientation or on another grid lines up with the pixels.
    hu_offset : float or "auto", default "auto"
        Subtracted from the stored values to give Hounsfield units.
        ``"auto"``: 1000 for MetaImage files whose values are all >= 0 (the
        CSI 2014 convention, HU + 1000), else 0 (DICOM rescale slopes and
        intercepts are applied by the reader).  HU are rounded to integers;
        NaN or inf values and HU beyond the int16 range (-32768 to 32767)
        are **refused** (never clipped or cast: NaN would become 0 HU, water).
    keep_labels : iterable of int, optional
        Label ids that are vertebrae; every other id becomes 0 (for
        multi-organ maps such as TotalSegmentator's, vertebrae = 26-50).
    name : str, optional
        Case name (default: the image file name).

    Returns
    -------
    Case
        Axial slices first, rows anterior to posterior, columns patient right
        to left, slices inferior to superior; ``spacing`` as (z, y, x) mm.
        ``meta["geometry"]`` is the grid of these arrays and
        ``meta["geometry_as_stored"]`` the file's own (SimpleITK order: size
        and spacing x, y, z; origin; direction), which :func:`save_mask` writes on.

    Raises
    ------
    TypeError
        If a path is not a str or PathLike, ``hu_offset`` not a number or
        "auto", ``keep_labels`` not integers, ``name`` not a str.
    FileNotFoundError
        If a path (or a MetaImage's data file) does not exist (the message
        names the argument and the file).
    ValueError
        If a file cannot be read or is incomplete (a NIfTI shorter than its
        header says, a MetaImage ``.raw`` too short, a DICOM series with a
        missing, duplicated or unevenly spaced slice), is not 3-D, holds NaN
        or HU beyond int16, the labels are not non-negative integers, or the
        label map does not overlap the image; the message names the file.

    Example
    -------
    >>> d = samples_dir() / "totalseg"
    >>> case = load_case(d / "ct_3mm.nii.gz", d / "ct_3mm_vertebrae.nii.gz")
    >>> case.hu.shape, case.spacing
    ((112, 101, 122), (3.0, 3.0, 3.0))
    """
    import SimpleITK as sitk

    image_path = check_path("image_path", image_path)
    if labels is not None:
        labels = check_path("labels", labels)
    if isinstance(hu_offset, str) and hu_offset != "auto":
        raise refuse("hu_offset", hu_offset, "a finite number or 'auto'")
    if not isinstance(hu_offset, str):
        try:
            check_number("hu_offset", hu_offset)
        except ValueError as err:  # ArgumentTypeError included
            raise type(err)(f"{err} or 'auto'") from None
    keep = None if keep_labels is None else _check_keep_labels(keep_labels)
    if name is not None and not isinstance(name, str):
        raise refuse("name", name, "a str or None", ArgumentTypeError)

    image, as_stored = _read(image_path, "image_path")
    hu = sitk.GetArrayFromImage(image)
    if hu.dtype.kind == "f" and not np.isfinite(hu).all():
        raise ValueError(f"image_path={str(image_path)!r} holds {int(np.count_nonzero(~np.isfinite(hu)))} "
                         "NaN or inf values; a CT image in HU needs finite values")
    if hu_offset == "auto":
        is_meta = image_path.suffix.lower() in (".mhd", ".mha")
        offset = CSI_HU_OFFSET if is_meta and hu.min() >= 0 else 0
    else:
        offset = float(hu_offset)
    hu = np.rint(hu.astype(np.float64) - offset)
    if hu.min() < -32768 or hu.max() > 32767:  # refused before the int16 cast, which would wrap
        raise ValueError(f"image_path={str(image_path)!r} holds HU from {hu.min():g} to {hu.max():g} "
                         f"(hu_offset={offset:g}), beyond the int16 range -32768 to 32767")
    hu = hu.astype(np.int16)

    lab = None
    if labels is not None:
        lab_img, _ = _read(labels, "labels")
        raw = sitk.GetArrayFromImage(lab_img)
        if not np.issubdtype(raw.dtype, np.integer) and not np.all(np.mod(raw, 1) == 0):
            raise ValueError(f"labels={str(labels)!r} holds non-integer values; a label map is required")
        if raw.min() < 0:
            raise ValueError(f"labels={str(labels)!r} holds negative ids (min {raw.min():g}); "
                             "a label map holds 0 (background) and positive ids")
        same_grid = (lab_img.GetSize() == image.GetSize()
                     and np.allclose(lab_img.GetOrigin(), image.GetOrigin(), atol=1e-3)
                     and np.allclose(lab_img.GetSpacing(), image.GetSpacing(), atol=1e-6)
                     and np.allclose(lab_img.GetDirection(), image.GetDirection(), atol=1e-6))
        if not same_grid:
            lab_img = sitk.Resample(sitk.Cast(lab_img, sitk.sitkInt32), image, sitk.Transform(),
                                    sitk.sitkNearestNeighbor, 0, sitk.sitkInt32)
        lab = sitk.GetArrayFromImage(lab_img).astype(np.int32)
        if (raw != 0).any() and not (lab != 0).any():
            raise ValueError(f"labels={str(labels)!r} does not overlap image_path in physical space")
        if keep is not None:
            lab = np.where(np.isin(lab, keep), lab, 0).astype(np.int32)

    spacing = tuple(float(s) for s in reversed(image.GetSpacing()))
    meta = {"source": str(image_path), "labels_source": None if labels is None else str(labels),
            "hu_offset": offset,
            # the grid of the arrays (LPS) and of the file as stored: save_mask writes a mask on the latter
            "geometry": _geometry(image), "geometry_as_stored": as_stored}
    return Case(hu, lab, spacing, name=name or image_path.name.split(".")[0], meta=meta)


def save_mask(path, array, like: Case, *, dtype: str = "uint8") -> Path:
    """Write a volume on the grid of ``like`` as the file it was read from: same size, spacing, origin, direction.

    The format follows the ending of ``path``: NIfTI (``.nii.gz``, ``.nii``) or
    MetaImage (``.mha``; ``.mhd`` with its compressed ``.zraw`` beside it).
    ``array`` is on the case's arrays' grid (LPS, as :func:`load_case` returns
    them); it is reoriented back to the file's own orientation and given that
    file's geometry (what SimpleITK's ``CopyInformation`` does), so a viewer
    lays it over the scan.  A case built in memory (no file geometry) gets its
    spacing, origin 0 and the LPS directions.  Written atomically (a temporary
    file, then a rename; for ``.mhd`` the data file first, the header last).

    Parameters
    ----------
    path : str or Path
        Output file; its folder is created if missing.
    array : array_like, shape ``like.hu.shape``
        A 0/1 mask (written as uint8) or, with ``dtype="float32"``, probabilities.
    like : Case
        The case whose grid ``array`` is on.
    dtype : {"uint8", "float32"}, default "uint8"
        ``"uint8"``: ``array`` must hold only 0 and 1 (a label image);
        ``"float32"``: any finite values.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        For an ending other than :data:`MASK_SUFFIXES`, an array of another
        shape, a uint8 mask with values other than 0 and 1, or a file that
        cannot be written (the message names ``path``).

    Example
    -------
    >>> import tempfile, SimpleITK as sitk
    >>> case = load_demo("abdomen_3mm")
    >>> out = save_mask(Path(tempfile.mkdtemp()) / "mask.nii.gz", case.mask, like=case)
    >>> sitk.ReadImage(str(out)).GetSize() == sitk.ReadImage(case.meta["source"]).GetSize()
    True
    """
    import SimpleITK as sitk

    path = check_path("path", path, exists=False)
    name = path.name.lower()
    suffix = next((s for s in MASK_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        raise ValueError(f"path={str(path)!r} is not allowed; use a file name ending in one of "
                         f"{', '.join(MASK_SUFFIXES)} (the format follows the ending)")
    if not isinstance(like, Case):
        raise refuse("like", like, "the Case the array is on (load_case)", ArgumentTypeError)
    check_choice("dtype", dtype, ("uint8", "float32"))
    a = np.asarray(array)
    if a.shape != like.hu.shape:
        raise ValueError(f"array has shape {a.shape}; it must be on the grid of like={like.name!r}, {like.hu.shape}")
    if dtype == "uint8":
        if a.dtype.kind not in "biuf" or not np.isin(a, (0, 1)).all():
            raise ValueError("array holds values other than 0 and 1; a mask is required (threshold first), "
                             "or pass dtype='float32' for probabilities")
        a = a.astype(np.uint8)
    else:
        a = np.asarray(a, dtype=np.float32)
        if not np.isfinite(a).all():
            raise ValueError("array holds NaN or inf; probabilities must be finite")
    image = sitk.GetImageFromArray(a)
    grid = like.meta.get("geometry")
    stored = like.meta.get("geometry_as_stored")
    if grid is None:
        image.SetSpacing(tuple(reversed(like.spacing)))
    else:
        image.SetSpacing(grid["spacing"])
        image.SetOrigin(grid["origin"])
        image.SetDirection(grid["direction"])
    if stored is not None:
        orient = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(stored["direction"])
        image = sitk.DICOMOrient(image, orient)
        if tuple(image.GetSize()) != tuple(stored["size"]):  # pragma: no cover - a reorientation is a permutation
            raise ValueError(f"like={like.name!r}: the mask could not be put back on the file's grid "
                             f"{stored['size']} (got {image.GetSize()})")
        image.SetSpacing(stored["spacing"])  # exact values, not the round-off of the two reorientations
        image.SetOrigin(stored["origin"])
        image.SetDirection(stored["direction"])
    return _write_image(image, path, suffix)


def _write_image(image, path: Path, suffix: str) -> Path:
    import shutil
    import tempfile

    import SimpleITK as sitk

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    except OSError as err:
        raise ValueError(f"path={str(path)!r} cannot be written: {err.strerror or err}") from None
    try:
        sitk.WriteImage(image, str(tmp / path.name), True)  # compressed; .mhd writes its .zraw beside it
        written = sorted(tmp.iterdir(), key=lambda p: p.name == path.name)  # the header (or the file) last
        for p in written:
            os.replace(p, path.parent / p.name)
    except RuntimeError as err:
        raise ValueError(f"path={str(path)!r} cannot be written: {str(err).strip().splitlines()[-1]}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _check_keep_labels(keep_labels) -> np.ndarray:
    allowed = "an iterable of non-negative integer label ids"
    if isinstance(keep_labels, (str, bytes)) or not isinstance(keep_labels, Iterable):
        raise refuse("keep_labels", keep_labels, allowed, ArgumentTypeError)
    ids = list(keep_labels)
    if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) for i in ids):
        raise refuse("keep_labels", keep_labels, allowed, ArgumentTypeError)
    if any(i < 0 for i in ids):
        raise refuse("keep_labels", keep_labels, allowed)
    return np.asarray(ids, dtype=np.int64)


def _find_file(root: Path, stem: str) -> Path | None:
    for suffix in _IMAGE_SUFFIXES:
        p = root / f"{stem}{suffix}"
        if p.exists():
            return p
    return None


def find_csi2014(root=None) -> dict[int, tuple[Path, Path]]:
    """Locate the ten CSI 2014 cases: ``{n: (image, labels)}`` for n = 1..10.

    Parameters
    ----------
    root : str or Path, optional
        Folder with ``case1.mhd`` ... ``case10.mhd`` and ``caseN_label.mhd``
        (``.mha``, ``.nii.gz``, ``.nii`` and ``.nrrd`` also accepted).  Default:
        the ``RARUNET_DATA_DIR`` environment variable.

    Raises
    ------
    TypeError
        If ``root`` is not a str or PathLike.
    FileNotFoundError
        If the folder is not given or missing, or a case is missing (named).
    """
    if root is None:
        root = os.environ.get(DATA_DIR_ENV_VAR)
        if not root:
            raise FileNotFoundError(
                f"no dataset folder given: pass root=... or set {DATA_DIR_ENV_VAR} to the folder "
                "holding case1.mhd ... case10.mhd"
            )
    root = check_path("root", root, exists=False)
    if not root.is_dir():
        raise FileNotFoundError(f"root={str(root)!r} is not a folder")
    found, missing = {}, []
    for n in range(1, 11):
        img, lab = _find_file(root, f"case{n}"), _find_file(root, f"case{n}_label")
        if img is None:
            missing.append(f"case{n} (image)")
        if lab is None:
            missing.append(f"case{n}_label (labels)")
        if img is not None and lab is not None:
            found[n] = (img, lab)
    if missing:
        raise FileNotFoundError(f"CSI 2014 files missing in {str(root)!r}: {', '.join(missing)}")
    return found


def load_csi2014(root=None, *, hu_offset: float = CSI_HU_OFFSET) -> dict[str, list[Case]]:
    """Load the paper's dataset with its split: cases 1-9 train, case 10 test.

    Parameters
    ----------
    root : str or Path, optional
        See :func:`find_csi2014` (default ``RARUNET_DATA_DIR``).
    hu_offset : float, default 1000
        The CSI files store HU + 1000 (some copies use 1024).

    Returns
    -------
    dict
        ``{"train": [case1, ..., case9], "test": [case10]}``.
    """
    check_number("hu_offset", hu_offset)
    paths = find_csi2014(root)
    cases = {n: load_case(img, lab, hu_offset=hu_offset, name=f"case{n}") for n, (img, lab) in paths.items()}
    return {"train": [cases[n] for n in range(1, 10)], "test": [cases[10]]}


_DEMOS = {
    "abdomen_3mm": ("ct_3mm.nii.gz", "ct_3mm_vertebrae.nii.gz", None,
                    "non-contrast abdomen and pelvis, 3 mm isotropic, T11 to S1"),
    "upper_abdomen_dicom": ("ct_dicom", "ct_dicom_seg.nii.gz", TOTALSEG_VERTEBRA_IDS,
                            "contrast-enhanced upper abdomen, DICOM, 0.98 mm pixels, 2 mm step, T11-T12"),
}


def demo_names() -> list[str]:
    """Names of the real CT samples shipped with the package.

    Example
    -------
    >>> demo_names()
    ['abdomen_3mm', 'upper_abdomen_dicom']
    """
    return list(_DEMOS)


def load_demo(name: str) -> Case:
    """Load one of the real CT samples (TotalSegmentator test fixtures, Apache-2.0).

    Their masks are TotalSegmentator **model predictions**, not manual labels.

    Parameters
    ----------
    name : str
        One of :func:`demo_names`.

    Example
    -------
    >>> load_demo("upper_abdomen_dicom").hu.shape
    (20, 512, 512)
    """
    try:
        check_choice("name", name, tuple(_DEMOS))
    except ValueError:
        raise refuse("name", name, f"the name of a demo case, one of {tuple(_DEMOS)}") from None
    image, labels, keep, description = _DEMOS[name]
    folder = samples_dir() / "totalseg"
    case = load_case(folder / image, folder / labels, keep_labels=keep, name=name)
    case.meta.update(description=description, licence="Apache-2.0 (TotalSegmentator test fixtures)",
                     labels_are="TotalSegmentator model predictions, not manual labels")
    return case
