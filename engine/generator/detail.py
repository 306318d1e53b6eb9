"""Native-resolution detail under the model's output.

The model draws the lesion on its grid (128 px for a window that is often 300-500 px of the frame),
so its output, upsampled alone, has no speckle at the scanner's own grain, a blurred margin, and
tissue around the lesion redrawn at the grid's resolution: a small CNN told such lesions from real
ones with AUC 0.995 (the realism figure of `generator-figures`, 180 held-out lesions). Here:
- inside the mask the model keeps every frequency its grid holds, and fresh speckle with the grain
  and contrast measured around the lesion is multiplied in (speckle is multiplicative); nothing of
  what was under the mask is reused, so a lesion drawn over a real one keeps none of its texture;
- outside it the tissue keeps its own structure and speckle, and the model sets only its broad level
  (posterior shadowing or enhancement, a halo): the tissue's ratio to its local mean times the
  model's local mean, both over several grid pixels;
- the two meet at the requested outline at native resolution, as sharp as the margin class asks
  (engine.generator.physics.margin_blur; a soft mask from the mask generator overrides it), each
  side smoothed only over its own pixels so neither bleeds across the edge.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.generator.physics import margin_blur, rayleigh_speckle, speckle_around
from engine.generator.window import Window
from engine.language.description import LesionDescription

# Where the model's band ends and the frame's begins (Gaussian sigma, in model-grid pixels): inside
# the lesion the model draws everything its grid holds; outside it only broad changes of level
# (posterior shadowing or enhancement, a halo), the tissue keeps its own structure below that.
# Chosen on figure 1 of `generator-figures` (180 held-out lesions, default model; AUC mean of folds /
# pooled): the lesion cut 1.0 gave 0.759 / 0.679, 0.7 0.683 / 0.633, 0.5 0.738 / 0.708, 0.35 0.823 /
# 0.666 (so the differences are partly the classifier's noise); the tissue cut 1.0 gave 0.896 / 0.812
# and 4 or 8 about 0.69 / 0.62 (an earlier variant of this module). Figure 1b was not used to choose.
LESION_CUT_GRID_PX = 0.7
TISSUE_CUT_GRID_PX = 4.0
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
    outside = 1.0 - inside
    scale = max(window.width, window.height) / window.size  # native px per grid px
    sigma_in = max(LESION_CUT_GRID_PX * scale, 0.5)
    sigma_out = max(TISSUE_CUT_GRID_PX * scale, 0.5)

    # Inside: the model's lesion at its grid's resolution times fresh speckle. The grain is measured
    # on the tissue around the lesion with the mask filled by that tissue's local mean, so not even
    # the statistics depend on what the mask covers.
    lesion_low = masked_lowpass(model_native, inside, sigma_in)
    around = np.where(mask, np.rint(masked_lowpass(g, outside, sigma_in)), g).astype(gray.dtype)
    fresh = rayleigh_speckle(g.shape, speckle_around(around, mask), np.random.default_rng((seed, 1)))
    fresh = np.clip(fresh / np.maximum(ndimage.gaussian_filter(fresh, sigma_in), 1e-3), 0.0, MAX_RATIO)
    lesion = lesion_low * fresh

    # Outside: the tissue itself, its broad level set by the model (posterior features, halo).
    tissue_mean = masked_lowpass(g, outside, sigma_out)
    ratio = np.clip(g / np.maximum(tissue_mean, 2.0), 0.0, MAX_RATIO)
    ratio = np.where(tissue_mean > 2.0, ratio, 1.0)
    # Under the mask the fresh speckle, never the frame's: whatever was there (a real lesion) leaves
    # no trace, even where a soft margin lets the tissue level show through.
    ratio = np.where(mask, fresh, ratio)
    tissue = masked_lowpass(model_native, outside, sigma_out) * ratio

    alpha = lesion_alpha(mask, description, soft_mask)
    return alpha * lesion + (1.0 - alpha) * tissue
