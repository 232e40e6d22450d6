"""Read the pixel spacing of a radiograph from its DICOM header (pydicom, lazily imported).

PixelSpacing (0028,0030) is preferred; radiographs often carry only ImagerPixelSpacing
(0018,1164), spacing at the detector, which is what users type in when nothing else is
known. Both are [row, column] spacing in mm.
"""

from __future__ import annotations

from typing import Any

from hipspine.errors import InputError


def read_pixel_spacing(path: str) -> tuple[float, float]:
    """Return (row_mm, column_mm) from a DICOM file, or raise `InputError` naming why."""
    return _spacing(_read(path), path)


def read_image_size(path: str) -> tuple[int, int] | None:
    """(width, height) in pixels from Columns and Rows, when the header has them."""
    ds = _read(path)
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if rows and cols:
        return int(cols), int(rows)
    return None


def _read(path: str) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError) as exc:
        raise InputError.single("--dicom", path, "a readable DICOM file",
                                str(exc), what="command-line argument") from None


def _spacing(ds: Any, path: str) -> tuple[float, float]:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None and len(value) == 2:
            row, col = float(value[0]), float(value[1])
            if row > 0 and col > 0:
                return row, col
    raise InputError.single("--dicom", path,
                            "a DICOM file with PixelSpacing or ImagerPixelSpacing",
                            "neither tag is present", what="command-line argument")
