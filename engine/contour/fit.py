"""Fit a Contour with few control points to a binary mask.

The outline of the mask's largest region is traced, moved half a pixel outwards (traced boundary
pixels are inside the mask, the outline runs along their outer edges) and lightly smoothed to remove
the pixel staircase. Control points are the vertices of a Douglas-Peucker simplification of it; the
tolerance is lowered step by step until the spline's raster reaches the target Dice, so smooth
outlines get few points and rough hand-drawn ones get more.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.contour.spline import Contour
from engine.errors import InputError
from engine.masks.descriptors import largest_region

TARGET_DICE = 0.975
# Douglas-Peucker tolerances in pixels, coarse to fine: the first that reaches the target wins.
TOLERANCES_PX = (4.0, 3.0, 2.4, 2.0, 1.6, 1.3, 1.0, 0.8, 0.6, 0.45, 0.3)


@dataclass
class Fit:
    contour: Contour
    dice: float  # between the mask and the contour's raster at the mask's size
    tolerance_px: float


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def traced_outline(region: np.ndarray, smooth_px: float = 0.7) -> np.ndarray:
    """Closed (M, 2) outline along the outer pixel edges of a region, smoothed over `smooth_px`."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    if len(c) < 3:  # a one- or two-pixel region: its pixel square
        x, y = c[:, 0].mean(), c[:, 1].mean()
        return np.array([[x - 0.5, y - 0.5], [x + 0.5, y - 0.5], [x + 0.5, y + 0.5], [x - 0.5, y + 0.5]])
    if smooth_px > 0:
        c = gaussian_filter1d(c, smooth_px, axis=0, mode="wrap")
    tangent = np.roll(c, -1, axis=0) - np.roll(c, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    # findContours runs counter-clockwise in image axes for outer contours: check by the signed area
    signed = 0.5 * float(np.dot(c[:, 0], np.roll(c[:, 1], -1)) - np.dot(c[:, 1], np.roll(c[:, 0], -1)))
    outward = normal if signed > 0 else -normal
    return c + 0.5 * outward


def fit_contour(mask: np.ndarray, target_dice: float = TARGET_DICE) -> Fit:
    """The contour with the fewest points (over TOLERANCES_PX) whose raster reaches `target_dice`
    against `mask`; if none does, the best one found."""
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise InputError(f"a mask must be a 2-D array, got shape {mask.shape}")
    region = largest_region(mask)
    outline = traced_outline(region)
    best: Fit | None = None
    for tol in TOLERANCES_PX:
        vertices = cv2.approxPolyDP(outline.astype(np.float32).reshape(-1, 1, 2), tol, True).reshape(-1, 2)
        if len(vertices) < 3:
            vertices = outline[np.linspace(0, len(outline), 4, endpoint=False).astype(int)]
        contour = Contour(vertices.astype(np.float64))
        d = dice(contour.raster(mask.shape), mask)
        if best is None or d > best.dice:
            best = Fit(contour, d, tol)
        if d >= target_dice:
            return Fit(contour, d, tol)
    return best
