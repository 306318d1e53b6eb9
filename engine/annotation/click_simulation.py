"""Simulated user for the 'clicks saved' figure: how many point edits reach a target Dice.

The simulated user looks at the worst place of the contour (farthest from the reference outline)
and drags the nearest control point onto the reference there, or inserts a point when no control
point is near; it repeats until the contour's raster reaches the target Dice against the reference.
Plain editing is placing points on the outline by hand: the fewest points whose spline reaches the
target (engine.contour.fit with that target).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt

from engine.contour.fit import dice, fit_contour
from engine.contour.spline import Contour, sample_closed

PER_SEGMENT = 16
NEAR_POINT = 0.25  # a worst place this close (in segment parameter) to a control point moves that point


def plain_points(reference: np.ndarray, target: float = 0.9) -> int:
    """Points a user places to outline `reference` by hand with the spline at `target` Dice."""
    return len(fit_contour(reference, target_dice=target).contour)


def edits_to_reach(contour: Contour, reference: np.ndarray, target: float = 0.9, max_edits: int = 40) -> int:
    """Point moves/inserts the simulated user needs from `contour`; max_edits + 1 when not reached."""
    reference = reference.astype(bool)
    edge = reference & ~binary_erosion(reference, border_value=0)
    distance, (iy, ix) = distance_transform_edt(~edge, return_indices=True)
    h, w = reference.shape
    c = contour.copy()
    for edits in range(max_edits + 1):
        if dice(c.raster(reference.shape), reference) >= target:
            return edits
        samples = sample_closed(c.points, c.tensions, PER_SEGMENT)
        sx = np.clip(np.round(samples[:, 0]).astype(int), 0, w - 1)
        sy = np.clip(np.round(samples[:, 1]).astype(int), 0, h - 1)
        k = int(np.argmax(distance[sy, sx]))
        goal = (float(ix[sy[k], sx[k]]), float(iy[sy[k], sx[k]]))
        segment, t = divmod(k, PER_SEGMENT)
        t /= PER_SEGMENT
        if t <= NEAR_POINT:
            c.move(segment, *goal)
        elif t >= 1 - NEAR_POINT:
            c.move((segment + 1) % len(c), *goal)
        else:
            c.insert(segment + 1, *goal)
    return max_edits + 1
