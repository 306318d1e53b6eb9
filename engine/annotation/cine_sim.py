"""Synthetic cine loops from one real frame, with the true lesion mask of every frame known.

Frame k is the base frame resampled through a smooth backward map B_k (probe translation that
drifts and oscillates, axial compression from the skin line, a low-frequency elastic wobble),
multiplied by a speckle field that decorrelates from frame to frame (AR(1) in time). The true mask of
frame k is the base mask resampled through the same map, so propagation error is measurable.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt


@dataclass(frozen=True)
class Motion:
    shift_px: float = 6.0  # probe oscillation amplitude (lateral; half that axially)
    drift_px: float = 0.15  # lateral drift per frame
    compression: float = 0.06  # peak axial compression (fraction)
    wobble_px: float = 2.0  # elastic displacement amplitude
    period: int = 24  # frames per breathing/compression cycle
    speckle_sigma: float = 0.25  # log-amplitude of the multiplicative speckle field
    speckle_rho: float = 0.9  # frame-to-frame correlation of that field


def backward_map(
    k: int, shape: tuple[int, int], motion: Motion, phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(map_x, map_y) float32 for cv2.remap: the base-frame position shown at each pixel of frame k."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = 2 * np.pi * k / motion.period
    tx = motion.shift_px * np.sin(t) + motion.drift_px * k
    ty = 0.5 * motion.shift_px * np.sin(0.5 * t + phase[0])
    squeeze = 1.0 - motion.compression * 0.5 * (1 - np.cos(t))
    ex = motion.wobble_px * np.sin(2 * np.pi * yy / h + phase[1] + 0.7 * t) * np.sin(t)
    ey = motion.wobble_px * np.sin(2 * np.pi * xx / w + phase[2] + 0.5 * t) * np.sin(t)
    return (xx - tx + ex).astype(np.float32), ((yy - ty) / squeeze + ey).astype(np.float32)


def loop_phase(seed: int) -> np.ndarray:
    """The motion phases make_loop(seed=seed) draws first."""
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, 3)


def pull_to_base(k: int, shape: tuple[int, int], motion: Motion, seed: int, iterations: int = 8):
    """(map_x, map_y) for cv2.remap that bring frame k of make_loop(seed=seed) back into the base
    frame's geometry: the inverse of backward_map, by fixed-point iteration (the map is smooth and
    close to the identity, so a few steps reach well under 0.01 px)."""
    bx, by = backward_map(k, shape, motion, loop_phase(seed))
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fx, fy = xx.copy(), yy.copy()
    for _ in range(iterations):
        ex = cv2.remap(bx, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) - xx
        ey = cv2.remap(by, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) - yy
        fx, fy = fx - ex, fy - ey
    return fx, fy


def _speckle(rng: np.random.Generator, shape) -> np.ndarray:
    z = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 1.0)
    return z / max(float(z.std()), 1e-6)


def make_loop(gray: np.ndarray, mask: np.ndarray, n_frames: int, motion: Motion = Motion(), seed: int = 0):
    """(frames uint8 [n, h, w], true masks bool [n, h, w]); frame 0 is the base frame's speckle-
    modulated copy with no motion."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 3)  # = loop_phase(seed)
    base = gray.astype(np.float32)
    z = _speckle(rng, gray.shape)
    frames, masks = [], []
    for k in range(n_frames):
        if k > 0:
            z = motion.speckle_rho * z + np.sqrt(1 - motion.speckle_rho**2) * _speckle(rng, gray.shape)
        mx, my = backward_map(k, gray.shape, motion, phase)
        warped = cv2.remap(base, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        frames.append(
            np.clip(warped * np.exp(motion.speckle_sigma * z - motion.speckle_sigma**2 / 2), 0, 255).astype(
                np.uint8
            )
        )
        m = cv2.remap(mask.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        masks.append(m > 0.5)
    return np.stack(frames), np.stack(masks)


def _edge(mask: np.ndarray) -> np.ndarray:
    return mask & ~binary_erosion(mask, border_value=0)


def mean_boundary_distance(pred: np.ndarray, truth: np.ndarray) -> float:
    """Symmetric mean distance between the two masks' boundary pixels, in pixels."""
    p, t = _edge(pred.astype(bool)), _edge(truth.astype(bool))
    if not p.any() or not t.any():
        return float(np.hypot(*pred.shape))
    return float(0.5 * (distance_transform_edt(~t)[p].mean() + distance_transform_edt(~p)[t].mean()))
