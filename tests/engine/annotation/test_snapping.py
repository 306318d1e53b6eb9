import numpy as np
import pytest

from engine.annotation.snapping import livewire, livewire_around, livewire_points, snap_contour, snap_point
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


def test_livewire_points_put_the_control_points_where_the_path_bends():
    img = disc()
    between = livewire_points(img, (30, 60), (60, 30))
    assert len(between) >= 2  # an arc needs some; a straight chord would need none
    assert np.abs(np.hypot(*(between - 60).T) - 29.5).max() <= 1.6
    yy, xx = np.mgrid[0:120, 0:120]
    edge = np.where(yy < 60, 60, 190).astype(np.uint8)  # one straight horizontal edge
    assert len(livewire_points(edge, (20, 60), (100, 60))) == 0


def test_livewire_around_rewires_both_segments_of_a_point_and_keeps_the_rest():
    yy, xx = np.mgrid[0:120, 0:120]
    box = (np.abs(xx - 60) < 30) & (np.abs(yy - 60) < 20)
    img = np.where(box, 60, 190).astype(np.uint8)
    diamond = Contour(np.array([[60.0, 40.0], [90.0, 60.0], [60.0, 80.0], [30.0, 60.0]]))
    wired, index = livewire_around(img, diamond, 1)  # the right point: its segments turn two corners
    into = livewire_points(img, diamond.points[0], diamond.points[1])
    assert index == 1 + len(into) and len(into) > 0
    np.testing.assert_array_equal(wired.points[index], diamond.points[1])
    np.testing.assert_array_equal(wired.points[0], diamond.points[0])
    np.testing.assert_array_equal(wired.points[-1], diamond.points[3])
    overlap = lambda c: (c.raster(img.shape) & box).sum() / box.sum()  # noqa: E731
    assert overlap(wired) > overlap(diamond) + 0.1
    with pytest.raises(InputError, match="outside"):
        livewire_around(img, diamond, 4)
