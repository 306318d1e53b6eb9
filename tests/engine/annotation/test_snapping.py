import numpy as np
import pytest

from engine.annotation.snapping import livewire, snap_contour, snap_point
from engine.contour.spline import Contour
from engine.errors import InputError


def disc(radius=30.0, size=120):
    yy, xx = np.mgrid[0:size, 0:size]
    img = np.full((size, size), 190, np.uint8)
    img[np.hypot(xx - 60, yy - 60) < radius] = 60
    return img


def circle(radius, n=10):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return Contour(np.stack([60 + radius * np.cos(t), 60 + radius * np.sin(t)], axis=1))


def test_snap_moves_points_onto_the_edge_along_the_normal():
    img = disc()
    snapped = snap_contour(img, circle(25.0), tolerance_px=8)
    r = np.hypot(*(snapped.points - 60).T)
    assert np.abs(r - 30).max() <= 1.0
    # along the normal: the angle of each point is unchanged
    before = np.arctan2(*(circle(25.0).points - 60).T[::-1])
    after = np.arctan2(*(snapped.points - 60).T[::-1])
    np.testing.assert_allclose(after, before, atol=1e-6)


def test_snap_stays_within_the_tolerance_and_ignores_flat_regions():
    img = disc()
    x, y = snap_point(img, circle(15.0), 0, tolerance_px=5)  # the edge is 15 px away
    assert abs(np.hypot(x - 60, y - 60) - 15) <= 5.01
    flat = np.full((120, 120), 100, np.uint8)
    assert snap_point(flat, circle(25.0), 2, tolerance_px=6) == tuple(circle(25.0).points[2])


def test_livewire_follows_the_boundary_between_two_points():
    img = disc()
    path = livewire(img, (30, 60), (60, 30))
    r = np.hypot(*(path - 60).T)
    assert np.abs(r - 29.5).max() <= 1.6  # on the arc, not the straight chord (r ~ 21 at its middle)
    np.testing.assert_array_equal(path[0], [30, 60])
    np.testing.assert_array_equal(path[-1], [60, 30])
    assert (np.abs(np.diff(path, axis=0)) <= 1).all()  # 8-connected


def test_livewire_point_outside_is_an_input_error():
    with pytest.raises(InputError, match="outside"):
        livewire(disc(), (5, 5), (500, 5))
