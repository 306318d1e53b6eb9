import numpy as np
import pytest

from engine.contour.spline import Contour
from engine.errors import InputError


def ellipse(n=16, cx=128.0, cy=100.0, a=60.0, b=30.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return Contour(np.stack([cx + a * np.cos(t), cy + b * np.sin(t)], axis=1))


def test_raster_area_matches_the_curve_area_without_bias():
    c = ellipse()
    mask = c.raster((256, 256))
    assert mask.dtype == bool
    assert abs(mask.sum() - c.area_px()) / c.area_px() < 0.01
    assert abs(c.area_px() - np.pi * 60 * 30) / (np.pi * 60 * 30) < 0.01
    assert mask[100, 128] and not mask[100, 20] and not mask[20, 128]


def test_antialiased_raster_is_fractional_only_on_the_edge_and_keeps_the_area():
    c = ellipse()
    soft = c.raster((256, 256), antialias=True)
    assert soft.dtype == np.float32 and soft.min() >= 0 and soft.max() <= 1
    frac = (soft > 0) & (soft < 1)
    assert 0 < frac.sum() < 0.1 * (soft > 0).sum()
    assert abs(soft.sum() - c.area_px()) / c.area_px() < 0.005


def test_raster_at_twice_the_resolution_has_four_times_the_area():
    c = ellipse()
    small, big = c.raster((256, 256)).sum(), c.raster((512, 512), scale=2.0).sum()
    assert abs(big / small - 4) < 0.03


def test_tension_one_makes_corners_and_negative_tension_rounds_out():
    square = np.array([[50, 50], [150, 50], [150, 150], [50, 150]], float)
    corners = Contour(square, np.ones(4))
    assert abs(corners.area_px() - 100 * 100) < 1
    round_ = Contour(square, np.zeros(4)).area_px()
    looser = Contour(square, -np.ones(4)).area_px()
    assert 100 * 100 < round_ < looser


def test_edit_points_and_hit_testing():
    c = ellipse(n=8)
    i, d = c.nearest_point(188.0, 101.0)
    assert i == 0 and d == pytest.approx(1.0)
    pos = c.nearest_curve_position(128.0, 135.0)  # just below the bottom of the curve (y down)
    assert pos.distance < 6
    j = c.insert_on_curve(pos, tension=0.5)
    assert len(c) == 9 and c.tensions[j] == 0.5
    assert np.allclose(c.points[j], pos.point)
    before = c.area_px()
    c.move(j, pos.point[0], pos.point[1] + 20)
    assert c.area_px() > before
    c.delete(j)
    assert len(c) == 8
    with pytest.raises(InputError, match="at least 3"):
        Contour(np.zeros((2, 2)))
    with pytest.raises(InputError, match="tension"):
        c.set_tension(0, 2.0)
    with pytest.raises(InputError, match="does not exist"):
        c.move(99, 0, 0)


def test_diameters_of_an_ellipse():
    d = ellipse(n=32).diameters()
    assert d.longest_px == pytest.approx(120, abs=1)
    assert d.perpendicular_px == pytest.approx(60, abs=1)
    assert d.in_mm(0.1) == pytest.approx((12.0, 6.0), abs=0.1)


def test_json_round_trip_and_bad_json():
    c = ellipse()
    c.set_tension(3, -0.25)
    back = Contour.from_json(c.to_json())
    assert np.allclose(back.points, c.points, atol=1e-4) and np.allclose(back.tensions, c.tensions)
    with pytest.raises(InputError, match="contour JSON"):
        Contour.from_json('{"points": [[1, 2], [3')
    with pytest.raises(InputError, match=r"\(N, 2\)"):
        Contour.from_json('{"points": 3}')


@pytest.mark.parametrize("clockwise", [False, True])
def test_fast_fill_agrees_with_the_exact_raster_up_to_edge_pixels(clockwise):
    from engine.contour.spline import fill_polygon, fill_polygon_fast

    rng = np.random.default_rng(0)
    for _ in range(10):
        t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
        r = 50 * np.exp(0.2 * np.cos(3 * t + rng.uniform(0, 6)) + 0.05 * np.cos(11 * t + rng.uniform(0, 6)))
        c = rng.uniform(110, 140, 2)
        poly = np.stack([c[0] + r * np.cos(t), c[1] + r * np.sin(t)], axis=1)
        if clockwise:
            poly = poly[::-1]
        exact, fast = fill_polygon(poly, (256, 256)), fill_polygon_fast(poly, (256, 256))
        assert fast.dtype == bool
        # no area bias (fillPoly alone grows the region by ~half a pixel all round: ~2 %)
        assert abs(fast.sum() / exact.sum() - 1) < 0.006
        # the pixels that differ are edge pixels only: a small fraction of the perimeter
        perimeter = np.hypot(*np.diff(np.vstack([poly, poly[:1]]), axis=0).T).sum()
        assert (fast ^ exact).sum() < 0.25 * perimeter
