"""The context window: crop a square around the lesion, resize to the model's size, paste back.

The window holds the lesion box with a margin on every side and extra depth below it, because
posterior shadowing or enhancement is drawn in the columns under the lesion. Only the "generation
region" (the mask grown by a band, plus the posterior columns) is ever changed; the paste blends it
in with a feathered seam whose weight is exactly zero at the window's border, so every pixel
outside the window, and every pixel inside it that the seam does not reach, stays bit-identical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
from scipy import ndimage

from engine.errors import InputError

MODEL_SIZE = 64


@dataclass(frozen=True)
class Window:
    """A window in frame pixels (x1, y1 exclusive) and the square model grid it maps to."""

    x0: int
    y0: int
    x1: int
    y1: int
    size: int = MODEL_SIZE

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def to_dict(self) -> dict:
        return asdict(self)


def lesion_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the mask's non-zero pixels, x1/y1 exclusive."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise InputError("the lesion mask is empty: draw or generate a mask first")
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def choose_window(
    mask: np.ndarray,
    margin: float = 0.5,
    posterior: float = 1.5,
    min_side: int = 32,
    size: int = MODEL_SIZE,
) -> Window:
    """A square window around the mask: `margin` x lesion size on each side, `posterior` x height below.

    The square is shifted to stay inside the frame; where the frame is too small it is clipped (and
    the resize then changes the aspect ratio a little, which the paste undoes).
    """
    if mask.ndim != 2:
        raise InputError(f"the mask must be 2-D, got shape {mask.shape}")
    h_img, w_img = mask.shape
    bx0, by0, bx1, by1 = lesion_box(mask)
    bw, bh = bx1 - bx0, by1 - by0
    pad = margin * max(bw, bh)
    top, bottom = by0 - pad, by1 + max(pad, posterior * bh)
    left, right = bx0 - pad, bx1 + pad
    side = int(np.ceil(max(right - left, bottom - top, min_side)))
    cx = (left + right) / 2.0
    # Keep the posterior extension: centre the square vertically on the padded box.
    cy = (top + bottom) / 2.0
    x0 = int(round(cx - side / 2.0))
    y0 = int(round(cy - side / 2.0))
    x0 = min(max(x0, 0), max(w_img - side, 0))
    y0 = min(max(y0, 0), max(h_img - side, 0))
    return Window(x0, y0, min(x0 + side, w_img), min(y0 + side, h_img), size)


def generation_region(mask: np.ndarray, band_px: float, posterior: bool = True) -> np.ndarray:
    """The pixels the generator may change: the mask grown by `band_px`, plus the columns under it.

    Works at any resolution (frame or model grid). The posterior part spans the lesion's columns
    (widened by the band) from the lesion's middle down to the bottom of the array.
    """
    mask = mask > 0.5 if mask.dtype != bool else mask
    r = max(int(round(band_px)), 1)
    # The dilation by a disk of radius r, as a distance threshold: the same pixels (an integer
    # squared distance <= r^2 exactly when its root <= r), and ~100x faster than binary_dilation.
    region = ndimage.distance_transform_edt(~mask) <= r if mask.any() else np.zeros(mask.shape, bool)
    if posterior and mask.any():
        cols = np.nonzero(mask.any(axis=0))[0]
        rows = np.nonzero(mask.any(axis=1))[0]
        y_mid = (rows.min() + rows.max()) // 2
        c0, c1 = max(cols.min() - r, 0), min(cols.max() + r + 1, mask.shape[1])
        region[y_mid:, c0:c1] = True
    return region


def crop_gray(frame: np.ndarray, window: Window) -> np.ndarray:
    """Window of a uint8 frame -> float32 [size, size] in [-1, 1] (area resampling)."""
    patch = frame[window.slices].astype(np.float32)
    patch = cv2.resize(patch, (window.size, window.size), interpolation=cv2.INTER_AREA)
    return patch / 127.5 - 1.0


def crop_mask(mask: np.ndarray, window: Window) -> np.ndarray:
    """Window of a mask (bool or soft float) -> float32 [size, size] in [0, 1] (area: soft edges)."""
    patch = mask[window.slices].astype(np.float32)
    return np.clip(cv2.resize(patch, (window.size, window.size), interpolation=cv2.INTER_AREA), 0, 1)


def feather_weight(region: np.ndarray, feather_px: float) -> np.ndarray:
    """Blend weight in [0, 1]: 1 deep inside `region`, a smooth seam, exactly 0 on the array border."""
    w = region.astype(np.float32)
    if feather_px > 0:
        w = ndimage.gaussian_filter(w, sigma=feather_px / 2.0, mode="nearest")
    h, wd = w.shape
    # Linear taper to exactly 0 at the window border, so the seam never shows as a square.
    ramp = max(feather_px, 1.0)
    dy = np.minimum(np.arange(h), np.arange(h)[::-1])[:, None]
    dx = np.minimum(np.arange(wd), np.arange(wd)[::-1])[None, :]
    taper = np.clip(np.minimum(dy, dx) / ramp, 0.0, 1.0)
    w = w * taper
    w[w < 1e-3] = 0.0
    return np.clip(w, 0.0, 1.0)


def to_native(generated: np.ndarray, window: Window, hi: float = 255.0) -> np.ndarray:
    """A model-grid window ([-1, 1] floats) resampled to the window's native size, in grey levels 0..hi."""
    native = cv2.resize(
        generated.astype(np.float32), (window.width, window.height), interpolation=cv2.INTER_CUBIC
    )
    return (native.astype(np.float64) + 1.0) * 0.5 * hi


def blend(frame: np.ndarray, window: Window, native: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A native-size window (grey levels) blended into a copy of the frame by `weight`.

    The result has the frame's shape and dtype; where the weight is 0 (everywhere outside the
    window, and most of its border) the pixels are the frame's own, bit for bit.
    """
    if frame.ndim != 2:
        raise InputError(f"paste expects a 2-D grayscale frame, got shape {frame.shape}")
    if weight.shape != (window.height, window.width) or native.shape != weight.shape:
        raise InputError(
            f"weight {weight.shape} and window pixels {native.shape} differ from the window "
            f"{window.height}x{window.width}"
        )
    info = np.iinfo(frame.dtype) if np.issubdtype(frame.dtype, np.integer) else None
    out = frame.copy()
    original = frame[window.slices].astype(np.float64)
    blended = original * (1.0 - weight) + native * weight
    if info:
        blended = np.clip(np.rint(blended), info.min, info.max)
    blended = blended.astype(frame.dtype)
    keep = weight <= 0.0
    blended[keep] = frame[window.slices][keep]
    out[window.slices] = blended
    return out


def grey_max(frame: np.ndarray) -> float:
    """The frame's white level: its integer type's maximum, 1.0 for float frames."""
    return float(np.iinfo(frame.dtype).max) if np.issubdtype(frame.dtype, np.integer) else 1.0


def paste(
    frame: np.ndarray,
    window: Window,
    generated: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Blend a generated model-size window ([-1, 1] floats) back into a copy of the frame.

    `weight` is at the window's native size (see feather_weight); see `blend` for what is kept.
    """
    if frame.ndim != 2:
        raise InputError(f"paste expects a 2-D grayscale frame, got shape {frame.shape}")
    if weight.shape != (window.height, window.width):
        raise InputError(
            f"weight shape {weight.shape} differs from the window {window.height}x{window.width}"
        )
    return blend(frame, window, to_native(generated, window, grey_max(frame)), weight)
