"""Is an image file complete?  Checks run before SimpleITK reads it (NumPy only).

SimpleITK fills what a file lacks with zeros: a NIfTI cut in half loads with
its second half as zeros, a header-only NIfTI as a volume of zeros, and a
DICOM series with a missing slice loads with the slices after the gap
misplaced (it only warns).  These checks refuse such files; their messages say what is wrong, and the
caller (:func:`rarunet_lib.data.io.load_case`) adds the argument and the file
name:

* NIfTI (``.nii``, ``.nii.gz``): the header's ``vox_offset`` plus the voxel
  count times ``bitpix / 8`` must fit in the (decompressed) file, and a gzip
  stream must be complete;
* MetaImage (``.mhd``, ``.mha``): the data file named by ``ElementDataFile``
  must exist and hold ``DimSize`` x element size bytes (uncompressed data);
* DICOM series: slice positions (``ImagePositionPatient`` along the slice
  normal; ``InstanceNumber`` when positions are absent) must be distinct and
  evenly spaced: a gap of more than 1.5 steps is a missing slice, any other
  deviation above 1 % of the step (and 0.01 mm) is uneven spacing.

Other formats (NRRD) are left to the reader.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["check_image_file", "check_nifti", "check_metaimage", "check_dicom_series"]

_MET_SIZES = {
    "MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4,
    "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4,
    "MET_DOUBLE": 8,
}


def check_image_file(path) -> None:
    """Dispatch on the suffix: NIfTI and MetaImage files are checked, others pass.

    Example
    -------
    >>> from rarunet_lib.data.io import samples_dir
    >>> check_image_file(samples_dir() / "totalseg" / "ct_3mm.nii.gz") is None
    True
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        check_nifti(path)
    elif name.endswith((".mhd", ".mha")):
        check_metaimage(path)


def _nifti_header(head: bytes, path: Path) -> tuple[int, int, np.dtype | None]:
    """(data offset, data bytes, float dtype or None) of a NIfTI-1 or NIfTI-2 single file."""
    for end in "<>":
        if len(head) >= 348 and struct.unpack(end + "i", head[:4])[0] == 348:
            dims = struct.unpack(end + "8h", head[40:56])
            code, bitpix = struct.unpack(end + "2h", head[70:74])
            offset = max(struct.unpack(end + "f", head[108:112])[0], 352)
            break
        if len(head) >= 540 and struct.unpack(end + "i", head[:4])[0] == 540:
            code, bitpix = struct.unpack(end + "2h", head[12:16])
            dims = struct.unpack(end + "8q", head[16:80])
            offset = max(struct.unpack(end + "q", head[168:176])[0], 544)
            break
    else:
        raise ValueError(f"not a NIfTI file (no valid header in its first {len(head)} bytes; "
                         "empty or truncated?)")
    nd = dims[0]
    if not 1 <= nd <= 7 or any(d < 1 for d in dims[1: nd + 1]) or bitpix < 1 or bitpix % 8:
        raise ValueError(f"corrupt NIfTI header (dim={list(dims)}, bitpix={bitpix})")
    n = int(np.prod([int(d) for d in dims[1: nd + 1]], dtype=np.int64))
    floats = {16: "f4", 64: "f8"}  # NIfTI datatype codes FLOAT32, FLOAT64
    dtype = np.dtype(end + floats[code]) if code in floats else None
    return int(offset), n * (bitpix // 8), dtype


def check_nifti(path) -> None:
    """Refuse a NIfTI file shorter than its header says, a broken gzip stream, or NaN/inf voxels.

    ITK reads NaN voxels of a float NIfTI as 0 (water, in HU), so they are
    looked for in the file itself.

    Raises
    ------
    ValueError
        Saying what is wrong, with the bytes found and needed.

    Example
    -------
    >>> import gzip, tempfile
    >>> from rarunet_lib.data.io import samples_dir
    >>> raw = gzip.open(samples_dir() / "totalseg" / "ct_3mm.nii.gz").read()
    >>> cut = Path(tempfile.mkdtemp()) / "cut.nii"
    >>> _ = cut.write_bytes(raw[:352])
    >>> check_nifti(cut)
    Traceback (most recent call last):
    ...
    ValueError: NIfTI data is incomplete: the header needs 5520608 bytes, the file holds 352 (truncated, or a header without data?)
    """
    path = Path(path)
    gz = path.name.lower().endswith(".gz")
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            head = f.read(540)
            offset, nbytes, dtype = _nifti_header(head, path)
            if dtype is None:
                size = len(head) + sum(len(c) for c in iter(lambda: f.read(1 << 22), b""))
                blob = None
            else:
                blob = head + f.read()
                size = len(blob)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"the gzip stream is truncated or corrupt ({err})") from err
    if size < offset + nbytes:
        raise ValueError(f"NIfTI data is incomplete: the header needs {offset + nbytes} bytes, "
                         f"the file holds {size} (truncated, or a header without data?)")
    if blob is not None:
        data = np.frombuffer(blob, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset)
        bad = int(np.count_nonzero(~np.isfinite(data)))
        if bad:
            raise ValueError(f"holds {bad} NaN or inf voxels (ITK would read them as 0); "
                             "finite values are required")


def _meta_header(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("latin-1").strip()
            if "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            fields[key] = value
            if key == "ElementDataFile":  # the last header field; data may follow (.mha)
                break
    return fields


def check_metaimage(path) -> None:
    """Refuse a MetaImage whose data file is missing or shorter than ``DimSize`` needs.

    Raises
    ------
    FileNotFoundError
        If the ``.raw`` (``ElementDataFile``) does not exist.
    ValueError
        If the header is incomplete or the data shorter than needed.
    """
    path = Path(path)
    h = _meta_header(path)
    if "DimSize" not in h or "ElementDataFile" not in h:
        raise ValueError("not a MetaImage header (DimSize or ElementDataFile missing)")
    data = h["ElementDataFile"]
    compressed = h.get("CompressedData", "False").lower() == "true"
    element = _MET_SIZES.get(h.get("ElementType", ""))
    try:
        dims = [int(v) for v in h["DimSize"].split()]
        channels = int(h.get("ElementNumberOfChannels", "1"))
        header_size = int(h.get("HeaderSize", "0"))
    except ValueError:
        raise ValueError(f"corrupt MetaImage header (DimSize={h['DimSize']!r})") from None
    if any(d < 1 for d in dims):
        raise ValueError(f"corrupt MetaImage header (DimSize={h['DimSize']!r})")
    if data.upper() == "LOCAL":
        target, start = path, _local_data_start(path)
    elif data.upper().startswith("LIST") or "%" in data or " " in data:
        return  # one file per slice: left to the reader
    else:
        target, start = path.parent / data, 0
        if not target.exists():
            raise FileNotFoundError(f"its data file {data!r} (ElementDataFile) does not exist "
                                    f"in {str(path.parent)!r}")
    if compressed or element is None or header_size < 0:
        return
    needs = start + header_size + int(np.prod(dims, dtype=np.int64)) * channels * element
    size = target.stat().st_size
    if size < needs:
        raise ValueError(f"its data file {target.name!r} is incomplete: the header needs {needs} bytes, "
                         f"the file holds {size} (truncated?)")


def _local_data_start(path: Path) -> int:
    with open(path, "rb") as f:
        pos = 0
        for raw in f:
            pos += len(raw)
            if raw.decode("latin-1").strip().startswith("ElementDataFile"):
                return pos
    return pos


def _dicom_positions(names: Sequence[str]) -> tuple[np.ndarray, str]:
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    pos, inst, normal = [], [], None
    for n in names:
        reader.SetFileName(n)
        reader.ReadImageInformation()
        if reader.HasMetaDataKey("0020|0032") and reader.HasMetaDataKey("0020|0037"):
            if normal is None:
                iop = [float(v) for v in reader.GetMetaData("0020|0037").split("\\")]
                normal = np.cross(iop[:3], iop[3:6])
            pos.append(float(np.dot([float(v) for v in reader.GetMetaData("0020|0032").split("\\")], normal)))
        if reader.HasMetaDataKey("0020|0013"):
            inst.append(float(reader.GetMetaData("0020|0013").strip() or "nan"))
    if len(pos) == len(names):
        return np.asarray(pos), "position"
    if len(inst) == len(names) and np.isfinite(inst).all():
        return np.asarray(inst), "instance"
    return np.empty(0), "none"


def check_dicom_series(folder, names: Sequence[str]) -> None:
    """Refuse a DICOM series with duplicated, missing or unevenly spaced slices.

    Raises
    ------
    ValueError
        Naming the files on either side of the problem.

    Example
    -------
    >>> from rarunet_lib.data.io import samples_dir
    >>> folder = samples_dir() / "totalseg" / "ct_dicom"
    >>> names = sorted(str(p) for p in folder.iterdir())
    >>> check_dicom_series(folder, names) is None
    True
    >>> check_dicom_series(folder, names[:5] + names[6:])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: DICOM series has a gap of 4 mm between ... where the step is 2: 1 slice(s) missing
    """
    folder = Path(folder)
    if len(names) < 3:
        return
    try:
        values, how = _dicom_positions(names)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"a DICOM file of the series could not be read ({err})") from err
    if how == "none":
        return
    order = np.argsort(values, kind="stable")
    v = values[order]
    d = np.diff(v)
    files = [Path(names[i]).name for i in order]
    unit = "mm" if how == "position" else "instance numbers"
    tol = 1e-3 if how == "position" else 0.5
    if (d < tol).any():
        i = int(np.flatnonzero(d < tol)[0])
        raise ValueError(f"DICOM slices {files[i]} and {files[i + 1]} lie at the same "
                         f"{how} ({v[i]:g}): a duplicate slice")
    step = float(np.median(d))
    if how == "instance":
        step = 1.0
    big = d > 1.5 * step
    if big.any():
        i = int(np.flatnonzero(big)[0])
        missing = int(round(d[i] / step)) - 1
        raise ValueError(f"DICOM series has a gap of {d[i]:g} {unit} between {files[i]} and "
                         f"{files[i + 1]} where the step is {step:g}: {missing} slice(s) missing")
    off = np.abs(d - step) > max(0.01 * step, 0.01 if how == "position" else 0.5)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ValueError(f"DICOM series has uneven slice spacing: {d[i]:g} {unit} between "
                         f"{files[i]} and {files[i + 1]} where the step is {step:g}")
