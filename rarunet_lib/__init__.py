"""rarunet_lib: the library behind the RAR-U-Net book.

Modules (importing this package imports none of them, unless Keras is loaded already: then
:mod:`~rarunet_lib.models` is imported, so that the custom layers are registered and
``keras.saving.load_model`` reads a ``model.keras`` the library wrote):

- NumPy/SciPy only: :mod:`~rarunet_lib.config`, :mod:`~rarunet_lib.data`, :mod:`~rarunet_lib.noise`,
  :mod:`~rarunet_lib.metrics`, :mod:`~rarunet_lib.adl`, :mod:`~rarunet_lib.paper`, :mod:`~rarunet_lib.plotting`;
- Keras/TensorFlow: :mod:`~rarunet_lib.models`, :mod:`~rarunet_lib.losses`, :mod:`~rarunet_lib.data.pipeline`,
  :mod:`~rarunet_lib.train`;
- command line: ``python -m rarunet_lib train --help``.
"""

__version__ = "0.1.0"

import sys as _sys

if "keras" in _sys.modules:  # register CBAM, ResPath... for keras.saving.load_model; never imports Keras itself
    from . import models as _models  # noqa: F401
