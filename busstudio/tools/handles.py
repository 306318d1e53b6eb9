"""Where a point's curvature handle sits, and which tension a handle position means.

The handle lies on the outward normal at the point. At tension 0 (a smooth Catmull-Rom curve) it is
HANDLE_PX screen pixels away; dragging it onto the point gives tension 1 (a corner), dragging it to
twice that distance gives tension -1 (rounder than smooth).
"""

from __future__ import annotations

import numpy as np

HANDLE_PX = 28.0


def outward_normal(points: np.ndarray, index: int) -> np.ndarray:
    n = len(points)
    prev, nxt = points[(index - 1) % n], points[(index + 1) % n]
    d = nxt - prev
    normal = np.array([d[1], -d[0]])
    length = np.hypot(*normal)
    if length == 0:
        return np.array([0.0, -1.0])
    normal /= length
    if np.dot(points[index] - points.mean(axis=0), normal) < 0:
        normal = -normal
    return normal


def handle_position(points: np.ndarray, tensions: np.ndarray, index: int, scale: float) -> np.ndarray:
    """The handle of point `index` in image coordinates at `scale` screen px per image px."""
    distance = HANDLE_PX * (1.0 - float(tensions[index])) / max(scale, 1e-6)
    return points[index] + outward_normal(points, index) * distance


def tension_from_handle(points: np.ndarray, index: int, x: float, y: float, scale: float) -> float:
    """The tension that puts the handle where the pointer is (projected on the normal, clamped)."""
    along = float(np.dot(np.array([x, y]) - points[index], outward_normal(points, index)))
    distance_px = max(along, 0.0) * scale
    return float(np.clip(1.0 - distance_px / HANDLE_PX, -1.0, 1.0))
