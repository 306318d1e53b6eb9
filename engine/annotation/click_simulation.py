"""Simulated user for the 'clicks saved' figure: how many point edits reach a target Dice.

The simulated user looks at the worst place of the contour (farthest from the reference outline)
and drags the nearest control point onto the reference there, or inserts a point when no control
point is near; it repeats until the contour's raster reaches the target Dice against the reference.
Plain editing is placing points on the outline by hand: the fewest points whose spline reaches the
target (engine.contour.fit with that target). With livewire the user clicks points evenly spread
along the outline and the path between neighbouring clicks follows the image's edges
(engine.annotation.snapping.livewire_points): the fewest such clicks that reach the target; the
same even clicks joined by the plain spline are its baseline.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt

from engine.annotation.snapping import livewire_points
from engine.contour.fit import dice, fit_contour, traced_outline
from engine.contour.spline import Contour, sample_closed

PER_SEGMENT = 16
NEAR_POINT = 0.25  # a worst place this close (in segment parameter) to a control point moves that point


def plain_points(reference: np.ndarray, target: float = 0.9) -> int:
    """Points a user places to outline `reference` by hand with the spline at `target` Dice: the
    fewer of the contour fit's vertices (which follow the outline's bends, at a fixed tolerance in
    pixels, so large smooth lesions get more than they need) and evenly spread clicks."""
    return min(
        len(fit_contour(reference, target_dice=target).contour), clicks_to_reach(reference, None, target)
    )


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


def even_clicks(reference: np.ndarray, k: int) -> np.ndarray:
    """(k, 2) points spread evenly by arc length along the reference's outline."""
    outline = traced_outline(reference.astype(bool))
    closed = np.vstack([outline, outline[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    t = np.linspace(0.0, s[-1], k, endpoint=False)
    return np.stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])], axis=1)


def livewire_contour(gray: np.ndarray, clicks: np.ndarray) -> Contour:
    """The closed contour through `clicks` with each gap filled by the livewire path's points."""
    parts = []
    for a, b in zip(clicks, np.roll(clicks, -1, axis=0), strict=True):
        parts += [a[None], livewire_points(gray, a, b)]
    return Contour(np.concatenate(parts))


def clicks_to_reach(
    reference: np.ndarray, gray: np.ndarray | None = None, target: float = 0.9, max_clicks: int = 40
) -> int:
    """Fewest even clicks on the outline whose contour reaches `target` Dice: joined by livewire on
    `gray`, or by the plain spline when `gray` is None; max_clicks + 1 when none does."""
    reference = reference.astype(bool)
    for k in range(3, max_clicks + 1):
        clicks = even_clicks(reference, k)
        contour = Contour(clicks) if gray is None else livewire_contour(gray, clicks)
        if dice(contour.raster(reference.shape), reference) >= target:
            return k
    return max_clicks + 1
