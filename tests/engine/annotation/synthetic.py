"""A speckled frame with one dark elliptical lesion, for fast tests that need a known outline."""

from __future__ import annotations

import numpy as np


def lesion_frame(shape=(160, 200), centre=(95.0, 80.0), axes=(30.0, 20.0), seed=0):
    """(gray uint8, mask bool): bright tissue with Rayleigh speckle, a darker ellipse."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    mask = ((xx - centre[0]) / axes[0]) ** 2 + ((yy - centre[1]) / axes[1]) ** 2 <= 1
    level = np.where(mask, 50.0, 150.0)
    speckle = rng.rayleigh(1.0, shape) / np.sqrt(np.pi / 2)
    return np.clip(level * speckle, 0, 255).astype(np.uint8), mask
