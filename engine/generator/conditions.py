"""Model-grid inputs for one lesion: the window, its conditions, and the native-size blend weight.

Shared by training and sampling so both see exactly the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.generator.window import (
    MODEL_SIZE,
    Window,
    choose_window,
    crop_gray,
    crop_mask,
    feather_weight,
    generation_region,
)

# Band and seam widths as fractions of the window side (the same at any native resolution).
BAND_FRACTION = 0.06


def soft_band(mask: np.ndarray, width_px: float) -> np.ndarray:
    """1 on the mask's boundary, falling off over `width_px` on both sides (float32 [0, 1])."""
    mask = mask > 0.5
    if not mask.any():
        return np.zeros(mask.shape, np.float32)
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    distance = np.where(mask, inside, outside)
    return np.exp(-((distance / max(width_px, 0.5)) ** 2)).astype(np.float32)


def condition_stack(
    window_px: np.ndarray, mask_m: np.ndarray, band_m: np.ndarray | None = None
) -> np.ndarray:
    """[4, S, S] float32: mask, band, region, context (window with the region blanked to 0)."""
    size = window_px.shape[-1]
    band_px = BAND_FRACTION * size
    region = generation_region(mask_m > 0.5, band_px).astype(np.float32)
    band = soft_band(mask_m, band_px / 2) if band_m is None else band_m.astype(np.float32)
    context = window_px * (1.0 - region)
    return np.stack([mask_m.astype(np.float32), band, region, context.astype(np.float32)])


@dataclass
class LesionWindow:
    window: Window
    pixels: np.ndarray  # [S, S] model grid in [-1, 1]
    conditions: np.ndarray  # [4, S, S]
    weight: np.ndarray  # native window size, blend weight for the paste


def prepare(
    frame: np.ndarray, mask: np.ndarray, soft_mask: np.ndarray | None = None, size: int = MODEL_SIZE
) -> LesionWindow:
    """Window, `size`-pixel model-grid pixels and conditions, and the native blend weight for one lesion."""
    window = choose_window(mask, size=size)
    pixels = crop_gray(frame, window)
    mask_m = crop_mask(mask, window)
    band_m = None
    if soft_mask is not None:
        # The mask generator's soft boundary: its in-between values are the band.
        soft_m = crop_mask(soft_mask, window)
        band_m = np.clip(1.0 - np.abs(2.0 * soft_m - 1.0), 0, 1).astype(np.float32)
    conditions = condition_stack(pixels, mask_m, band_m)
    native_band = BAND_FRACTION * max(window.width, window.height)
    weight = feather_weight(generation_region(mask[window.slices] > 0, native_band), native_band)
    return LesionWindow(window, pixels, conditions, weight)
