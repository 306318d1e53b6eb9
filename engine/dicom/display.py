"""Photometric interpretation -> display frame: 8-bit grayscale plus the 8-bit RGB colour frame.

pydicom's decoders already turn YBR_FULL, YBR_FULL_422, YBR_RCT and YBR_ICT into RGB; this module
applies palettes (8 and 16 bit, segmented included, through pydicom.pixels.apply_color_lut), inverts
MONOCHROME1, brings more than 8 bits down to 8, and derives the grayscale display from colour with
ITU-R BT.601 luma (exact for the gray content of colour-encoded B-mode images, where R = G = B).
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

COLOUR_PHOTOMETRICS = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420")


def _to_uint8(arr: np.ndarray, bits: int, signed: bool = False) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    a = arr.astype(np.int64)
    if signed:
        a = a + (1 << (bits - 1))
    if bits <= 8:
        return np.clip(a, 0, 255).astype(np.uint8)
    return np.clip(a >> (bits - 8), 0, 255).astype(np.uint8)


def _stored_range(ds: Dataset, bits: int, signed: bool) -> tuple[float, float]:
    """The range of values after the Modality LUT (rescale), as PS3.3 C.11.2.1.2 windows it."""
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is not None and intercept is not None:
        ends = (lo * float(slope) + float(intercept), hi * float(slope) + float(intercept))
        lo, hi = min(ends), max(ends)
    return float(lo), float(hi)


def _window(ds: Dataset) -> tuple[float, float] | None:
    """The first Window Center/Width pair, or None when absent or unusable (width < 1)."""
    try:
        center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
        if center is None or width is None or center == "" or width == "":
            return None
        center = float(center[0] if getattr(ds["WindowCenter"], "VM", 1) > 1 else center)
        width = float(width[0] if getattr(ds["WindowWidth"], "VM", 1) > 1 else width)
    except (TypeError, ValueError, IndexError):
        return None
    return (center, width) if width >= 1 else None


def grayscale_to_uint8(arr: np.ndarray, ds: Dataset, bits: int, signed: bool) -> np.ndarray:
    """A grayscale frame of up to 16 bits as the 8-bit display frame (before MONOCHROME1 inversion).

    8 bits pass unchanged. Above 8 bits: the Modality LUT (rescale) first, then the first Window
    Center/Width through pydicom's windowing (LINEAR, LINEAR_EXACT or SIGMOID, as VOI LUT Function
    says) when the file gives one, else the full range of Bits Stored, mapped onto 0..255.
    """
    if bits <= 8:
        return _to_uint8(arr, bits, signed)
    from pydicom.pixels import apply_modality_lut, apply_windowing

    values = arr
    if ds.get("RescaleSlope") is not None and ds.get("RescaleIntercept") is not None:
        values = apply_modality_lut(arr, ds)
    lo, hi = _stored_range(ds, bits, signed)
    window = _window(ds)
    if window is not None:
        windowed = Dataset()
        for keyword in ("VOILUTFunction", "RescaleSlope", "RescaleIntercept"):
            if keyword in ds:
                setattr(windowed, keyword, ds[keyword].value)
        windowed.WindowCenter, windowed.WindowWidth = window
        windowed.BitsStored, windowed.PixelRepresentation = bits, int(signed)
        windowed.PhotometricInterpretation = "MONOCHROME2"  # MONOCHROME1 is inverted by the caller
        values = apply_windowing(values.astype(np.float64), windowed)  # output spans lo..hi
    scaled = (np.asarray(values, np.float64) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def luma(rgb: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 RGB -> uint8 HxW gray (BT.601 weights, rounded)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((299 * r + 587 * g + 114 * b + 500) // 1000).astype(np.uint8)


def display_frames(arr: np.ndarray, photometric: str, ds: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """One decoded frame (as pydicom returns it) -> (gray uint8 HxW, colour uint8 HxWx3 or None).

    `photometric` is the interpretation of `arr` as decoded (pydicom reports RGB after converting YBR).
    """
    from pydicom.pixels import apply_color_lut, convert_color_space

    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    signed = int(ds.get("PixelRepresentation") or 0) == 1
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        if rgb.dtype != np.uint8:
            # LUT entries of 16 bits are scaled to 16 bits by pydicom; keep the top 8.
            lut_bits = 16
            descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
            if descriptor is not None and int(descriptor[2]) == 8:
                lut_bits = 8
            rgb = _to_uint8(rgb, lut_bits)
        return luma(rgb), np.ascontiguousarray(rgb)
    if photometric in COLOUR_PHOTOMETRICS or (arr.ndim == 3 and arr.shape[-1] == 3):
        if photometric.startswith("YBR"):
            arr = convert_color_space(arr, photometric, "RGB")
        rgb = _to_uint8(arr, bits, signed)
        return luma(rgb), np.ascontiguousarray(rgb)
    if arr.ndim != 2:
        raise ValueError(f"unexpected decoded shape {arr.shape} for {photometric}")
    gray = grayscale_to_uint8(arr, ds, bits, signed)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return np.ascontiguousarray(gray), None
