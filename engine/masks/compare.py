"""Comparing sets of masks: descriptor distributions (realism) and pairwise overlap (diversity)."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.stats import wasserstein_distance

from engine.masks.descriptors import REALISM_DESCRIPTORS, largest_region, shape_descriptors

CANVAS = 64  # side of the canvas masks are centred and scaled onto for the overlap
CANVAS_RADIUS = 20.0  # equivalent radius on that canvas


def descriptor_matrix(masks, names=REALISM_DESCRIPTORS) -> np.ndarray:
    """(len(masks), len(names)) descriptors."""
    rows = []
    for m in masks:
        d = shape_descriptors(m)
        rows.append([d[n] for n in names])
    return np.asarray(rows, float)


def normalized_wasserstein(real: np.ndarray, other: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per descriptor: 1-D Wasserstein distance between columns, divided by `scale` (the real pooled
    standard deviation of that descriptor)."""
    return np.array(
        [wasserstein_distance(real[:, j], other[:, j]) / max(scale[j], 1e-12) for j in range(real.shape[1])]
    )


def centred_scaled(mask: np.ndarray) -> np.ndarray:
    """The largest region moved to the canvas centre (centroid) and scaled to CANVAS_RADIUS."""
    region = largest_region(mask)
    ys, xs = np.nonzero(region)
    factor = CANVAS_RADIUS / np.sqrt(len(xs) / np.pi)
    cx, cy = xs.mean(), ys.mean()
    c = (CANVAS - 1) / 2
    affine = np.array([[factor, 0, c - factor * cx], [0, factor, c - factor * cy]], np.float32)
    out = cv2.warpAffine(region.astype(np.float32), affine, (CANVAS, CANVAS), flags=cv2.INTER_AREA)
    return out >= 0.5


def mean_pairwise_iou(masks) -> float:
    """Mean IoU over all pairs, after centring and scaling each mask (no rotation: orientation is
    part of a lesion's description)."""
    flat = np.stack([centred_scaled(m).ravel() for m in masks]).astype(np.float32)
    inter = flat @ flat.T
    area = flat.sum(1)
    union = area[:, None] + area[None] - inter
    iu = np.triu_indices(len(flat), 1)
    return float((inter[iu] / union[iu]).mean())
