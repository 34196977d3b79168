"""rarunet_lib: the library behind the RAR-U-Net book.

Modules (importing this package imports none of them):

- NumPy/SciPy only: :mod:`~rarunet_lib.config`, :mod:`~rarunet_lib.data`, :mod:`~rarunet_lib.noise`,
  :mod:`~rarunet_lib.metrics`, :mod:`~rarunet_lib.adl`, :mod:`~rarunet_lib.paper`, :mod:`~rarunet_lib.plotting`;
- Keras/TensorFlow: :mod:`~rarunet_lib.models`, :mod:`~rarunet_lib.losses`, :mod:`~rarunet_lib.data.pipeline`,
  :mod:`~rarunet_lib.train`;
- command line: ``python -m rarunet_lib train --help``.
"""

__version__ = "0.1.0"
