"""Speckle reduction shared by the classical segmenter, snapping and propagation."""

from __future__ import annotations

import cv2
import numpy as np


def despeckle(gray: np.ndarray, median_px: int = 5, sigma_px: float = 1.0) -> np.ndarray:
    """float32: a median filter (removes the speckle's bright dots without blurring edges much),
    then a light Gaussian so gradients are not dominated by single pixels."""
    g = np.asarray(gray)
    if g.dtype != np.uint8:
        g = np.clip(g, 0, 255).astype(np.uint8)
    out = cv2.medianBlur(g, median_px).astype(np.float32)
    return cv2.GaussianBlur(out, (0, 0), sigma_px) if sigma_px > 0 else out
