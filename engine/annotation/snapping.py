"""Edge snapping: move a point to the strongest nearby boundary along the contour's normal, and a
livewire (minimal path) between two points on a cost made from the despeckled gradient.

Both work on a small window around the points only, so they run while a point is dragged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import map_coordinates
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from engine.annotation.despeckle import despeckle
from engine.contour.spline import Contour
from engine.errors import InputError

DEFAULT_TOLERANCE_PX = 6.0
DISTANCE_PENALTY = 0.15  # per tolerance: prefer the nearer of two almost equal edges
LIVEWIRE_MARGIN_PX = 12
LIVEWIRE_SIMPLIFY_PX = 1.0  # Douglas-Peucker tolerance that turns the pixel path into control points


@dataclass(frozen=True)
class EdgeMap:
    """Gradient of the despeckled image over a region (x0, y0 is its top-left corner in the image)."""

    gx: np.ndarray
    gy: np.ndarray
    x0: int
    y0: int

    @property
    def magnitude(self) -> np.ndarray:
        return np.hypot(self.gx, self.gy)


def edge_map(gray: np.ndarray, region: tuple[int, int, int, int] | None = None) -> EdgeMap:
    """Sobel gradient of the despeckled image, over `region` (x0, y0, x1, y1) or the whole image."""
    g = np.asarray(gray)
    if g.ndim != 2:
        raise InputError(f"snapping needs a 2-D grayscale image, got shape {g.shape}")
    h, w = g.shape
    x0, y0, x1, y1 = (0, 0, w, h) if region is None else region
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        raise InputError(f"snapping region ({x0}, {y0}, {x1}, {y1}) is outside the {w} x {h} image")
    smooth = despeckle(g[y0:y1, x0:x1])
    return EdgeMap(
        cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3), x0, y0
    )


def point_normals(points: np.ndarray) -> np.ndarray:
    """Unit normals of a closed polygon at its vertices (from the chord between the neighbours)."""
    chord = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    normal = np.stack([chord[:, 1], -chord[:, 0]], axis=1)
    return normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)


def snap_along(
    edges: EdgeMap, point, normal, tolerance_px: float = DEFAULT_TOLERANCE_PX
) -> tuple[float, float]:
    """The place within `tolerance_px` along `normal` where the gradient across the normal is
    strongest (minus a small penalty for distance); the point itself when there is no edge."""
    n = np.asarray(normal, float)
    n = n / max(float(np.linalg.norm(n)), 1e-9)
    offsets = np.arange(-tolerance_px, tolerance_px + 0.25, 0.5)
    xs = point[0] + offsets * n[0] - edges.x0
    ys = point[1] + offsets * n[1] - edges.y0
    gx = map_coordinates(edges.gx, [ys, xs], order=1, mode="nearest")
    gy = map_coordinates(edges.gy, [ys, xs], order=1, mode="nearest")
    across = np.abs(gx * n[0] + gy * n[1])
    if across.max() <= 1e-6:
        return float(point[0]), float(point[1])
    score = across / across.max() - DISTANCE_PENALTY * np.abs(offsets) / max(tolerance_px, 1e-9)
    k = int(np.argmax(score))
    return float(point[0] + offsets[k] * n[0]), float(point[1] + offsets[k] * n[1])


def _region_around(points: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    lo, hi = points.min(axis=0) - margin, points.max(axis=0) + margin
    return int(np.floor(lo[0])), int(np.floor(lo[1])), int(np.ceil(hi[0])) + 1, int(np.ceil(hi[1])) + 1


def snap_point(
    gray: np.ndarray, contour: Contour, index: int, tolerance_px: float = DEFAULT_TOLERANCE_PX
) -> tuple[float, float]:
    """Where point `index` of `contour` snaps to: along the normal given by its neighbours."""
    pts = contour.points
    if not 0 <= index < len(pts):
        raise InputError(f"point index {index} is outside 0..{len(pts) - 1}")
    p = pts[index]
    edges = edge_map(gray, _region_around(p[None], tolerance_px + 4))
    return snap_along(edges, p, point_normals(pts)[index], tolerance_px)


def snap_contour(gray: np.ndarray, contour: Contour, tolerance_px: float = DEFAULT_TOLERANCE_PX) -> Contour:
    """A copy of `contour` with every control point snapped along its normal."""
    pts = contour.points
    edges = edge_map(gray, _region_around(pts, tolerance_px + 4))
    normals = point_normals(pts)
    snapped = np.array([snap_along(edges, p, n, tolerance_px) for p, n in zip(pts, normals, strict=True)])
    return Contour(snapped, contour.tensions.copy())


def livewire(gray: np.ndarray, start, end, margin_px: int = LIVEWIRE_MARGIN_PX) -> np.ndarray:
    """(K, 2) pixel path from `start` to `end` (x, y) that follows the strongest edges: Dijkstra on
    8-connected pixels of the box around both points, step cost (1 - normalized gradient) * length
    plus a small constant so the path does not wander along weak texture."""
    a, b = np.round(np.asarray(start, float)), np.round(np.asarray(end, float))
    h, w = np.asarray(gray).shape
    for p in (a, b):
        if not (0 <= p[0] < w and 0 <= p[1] < h):
            raise InputError(f"livewire point {tuple(p)} is outside the {w} x {h} image")
    x0, y0, x1, y1 = _region_around(np.stack([a, b]), margin_px)
    edges = edge_map(gray, (x0, y0, x1, y1))
    mag = edges.magnitude
    cost = 1.0 - mag / max(float(np.percentile(mag, 99)), 1e-6)
    cost = np.clip(cost, 0.0, 1.0) + 0.05
    rows, cols = cost.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    src, dst, weight = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ys = slice(0, rows - dy)
        xs = slice(max(-dx, 0), cols - max(dx, 0))
        yd = slice(dy, rows)
        xd = slice(max(dx, 0), cols + min(dx, 0))
        i, j = idx[ys, xs].ravel(), idx[yd, xd].ravel()
        c = 0.5 * (cost[ys, xs].ravel() + cost[yd, xd].ravel()) * np.hypot(dx, dy)
        src += [i, j]
        dst += [j, i]
        weight += [c, c]
    graph = coo_matrix(
        (np.concatenate(weight), (np.concatenate(src), np.concatenate(dst))), shape=(rows * cols,) * 2
    ).tocsr()
    s = int(idx[int(a[1]) - edges.y0, int(a[0]) - edges.x0])
    t = int(idx[int(b[1]) - edges.y0, int(b[0]) - edges.x0])
    _, pred = dijkstra(graph, indices=s, return_predecessors=True)
    path = [t]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    path = np.array(path[::-1])
    return np.stack([path % cols + edges.x0, path // cols + edges.y0], axis=1).astype(np.float64)


def livewire_points(
    gray: np.ndarray,
    start,
    end,
    margin_px: int = LIVEWIRE_MARGIN_PX,
    simplify_px: float = LIVEWIRE_SIMPLIFY_PX,
) -> np.ndarray:
    """(K, 2) control points strictly between `start` and `end` that make the contour's spline follow
    the livewire path: the inner vertices of its Douglas-Peucker simplification (the path bends
    where they are; a straight run needs none)."""
    path = livewire(gray, start, end, margin_px)
    if len(path) < 3:
        return np.empty((0, 2))
    vertices = cv2.approxPolyDP(path.astype(np.float32).reshape(-1, 1, 2), simplify_px, False)
    return vertices.reshape(-1, 2)[1:-1].astype(np.float64)


def livewire_around(
    gray: np.ndarray, contour: Contour, index: int, margin_px: int = LIVEWIRE_MARGIN_PX
) -> tuple[Contour, int]:
    """`contour` with the two segments next to point `index` replaced by livewire paths to its
    neighbours (new control points, tension 0), and the point's index in the new contour."""
    pts, tensions = contour.points, contour.tensions
    n = len(pts)
    if not 0 <= index < n:
        raise InputError(f"point index {index} is outside 0..{n - 1}")
    into = livewire_points(gray, pts[(index - 1) % n], pts[index], margin_px)
    out_of = livewire_points(gray, pts[index], pts[(index + 1) % n], margin_px)
    # inserting just before `index` in the array is between its neighbours even for index 0: closed curve
    points = np.concatenate([pts[:index], into, pts[index : index + 1], out_of, pts[index + 1 :]])
    ten = np.concatenate(
        [
            tensions[:index],
            np.zeros(len(into)),
            tensions[index : index + 1],
            np.zeros(len(out_of)),
            tensions[index + 1 :],
        ]
    )
    return Contour(points, ten), index + len(into)
