"""Read dataset images and masks as arrays (grayscale uint8 images, boolean masks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import DataError


def _open(path: Path) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()
        return img
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{path}: cannot read image: {exc}") from exc


def read_gray(path: Path) -> np.ndarray:
    """Grayscale uint8; alpha is dropped (BrEaST keeps RGB values under transparent pixels)."""
    img = _open(path)
    if img.mode in ("LA", "RGBA", "P", "PA"):
        img = img.convert("RGB")
    return np.asarray(img.convert("L"), dtype=np.uint8)


def read_mask(path: Path) -> np.ndarray:
    """Boolean lesion mask (any non-zero gray value is lesion)."""
    img = _open(path)
    return np.asarray(img.convert("L")) > 127


def read_case_mask(mask_paths, shape: tuple[int, int]) -> np.ndarray:
    """Union of a case's lesion masks; raises DataError when a mask's size differs from the image."""
    out = np.zeros(shape, bool)
    for p in mask_paths:
        m = read_mask(p)
        if m.shape != shape:
            raise DataError(f"{p}: mask size {m.shape[::-1]} differs from its image {shape[::-1]}")
        out |= m
    return out
