"""Native-resolution speckle under the model's output.

The model draws the lesion on its grid (128 px for a window that is often 300-500 px of the frame),
so its output, upsampled alone, has no speckle at the scanner's own grain and a blurred margin: a
small CNN told such lesions from real ones with AUC 0.995. Here the model keeps the frequencies its
grid holds and the rest comes from the frame's scale:
- the lesion's outline is the requested mask at native resolution, as sharp as the margin class
  asks (engine.generator.physics.margin_blur; a soft mask from the mask generator overrides it):
  the model's output is smoothed inside and outside the mask separately, then joined there;
- the speckle above the grid's resolution is multiplied back in (speckle is multiplicative): the
  tissue's own speckle, as a ratio to its local mean, outside the mask, and inside it a fresh
  speckle field with the grain and contrast measured around the lesion. Nothing of what was under
  the mask is reused, so a lesion drawn over a real one keeps none of its texture.

Measured on the default model's 180 held-out lesions (the realism figure of `generator-figures`,
strength 0.6): AUC 0.995 without this step; see the README for the figures with it.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.generator.physics import margin_blur, rayleigh_speckle, speckle_around
from engine.generator.window import Window
from engine.language.description import LesionDescription

CUT_GRID_PX = 1.0  # the split between the model's band and the speckle's: Gaussian sigma in grid px
MAX_RATIO = 4.0  # a speckle ratio is capped, so one bright reflector never becomes a flare


def masked_lowpass(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian local mean of `values` over the pixels `weight` selects (normalised convolution):
    the mean never mixes the two sides of an edge that `weight` excludes."""
    num = ndimage.gaussian_filter(values * weight, sigma)
    den = ndimage.gaussian_filter(weight.astype(np.float64), sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), 0.0)


def lesion_alpha(
    mask: np.ndarray, description: LesionDescription, soft_mask: np.ndarray | None
) -> np.ndarray:
    """How much of each pixel is lesion: the mask blurred as the margin class asks, or the soft mask."""
    if soft_mask is not None:
        return np.clip(soft_mask.astype(np.float64), 0.0, 1.0)
    ys, xs = np.nonzero(mask)
    size = float(max(np.ptp(ys), np.ptp(xs)) + 1)
    return ndimage.gaussian_filter(mask.astype(np.float64), max(size * margin_blur(description), 0.5))


def native_detail(
    gray: np.ndarray,
    mask: np.ndarray,
    model_native: np.ndarray,
    window: Window,
    description: LesionDescription,
    seed: int,
    soft_mask: np.ndarray | None = None,
) -> np.ndarray:
    """The model's window at native resolution with the native outline and speckle (grey levels).

    `gray` and `mask` are the frame's window (native size), `model_native` the model's output
    resampled to it (window.to_native). Deterministic for a seed.
    """
    mask = mask.astype(bool)
    g = gray.astype(np.float64)
    inside = mask.astype(np.float64)
    scale = max(window.width, window.height) / window.size  # native px per grid px
    sigma = max(CUT_GRID_PX * scale, 0.5)

    alpha = lesion_alpha(mask, description, soft_mask)
    low = alpha * masked_lowpass(model_native, inside, sigma) + (1.0 - alpha) * masked_lowpass(
        model_native, 1.0 - inside, sigma
    )

    tissue_mean = masked_lowpass(g, 1.0 - inside, sigma)
    # The grain is measured on the tissue around the lesion, with the mask filled by that tissue's
    # local mean, so not even the statistics depend on what the mask covers.
    around = np.where(mask, np.rint(tissue_mean), g).astype(gray.dtype)
    fresh = rayleigh_speckle(g.shape, speckle_around(around, mask), np.random.default_rng((seed, 1)))
    fresh = np.clip(fresh / np.maximum(ndimage.gaussian_filter(fresh, sigma), 1e-3), 0.0, MAX_RATIO)
    tissue = np.clip(g / np.maximum(tissue_mean, 2.0), 0.0, MAX_RATIO)
    # Under the mask only fresh speckle: whatever was there (a real lesion) leaves no trace.
    tissue = np.where(mask | (tissue_mean <= 2.0), np.where(mask, fresh, 1.0), tissue)
    speckle = alpha * fresh + (1.0 - alpha) * tissue
    return low * speckle
