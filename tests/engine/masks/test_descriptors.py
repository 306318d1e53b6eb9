import numpy as np
import pytest

from engine.contour.spline import Contour
from engine.errors import InputError
from engine.masks.descriptors import REALISM_DESCRIPTORS, shape_descriptors


def disc(r, size=256):
    yy, xx = np.mgrid[:size, :size]
    return np.hypot(xx - size / 2, yy - size / 2) < r


def star(spikes, depth, n=None):
    t = np.linspace(0, 2 * np.pi, 2 * spikes, endpoint=False)
    r = np.where(np.arange(2 * spikes) % 2 == 0, 80.0, 80.0 * (1 - depth))
    return Contour(np.stack([128 + r * np.cos(t), 128 + r * np.sin(t)], 1), np.ones(2 * spikes)).raster(
        (256, 256)
    )


def test_disc_is_round_smooth_and_convex_at_any_size():
    small, big = shape_descriptors(disc(30)), shape_descriptors(disc(90))
    for d in (small, big):
        assert d["circularity"] > 0.95 and d["solidity"] > 0.97 and d["concavities"] == 0
        assert d["aspect_ratio"] < 1.05 and d["fractal_dimension"] < 1.1
        assert d["curvature_energy"] < 2  # 1 for an ideal circle; pixel outlines add a little
    for k in set(REALISM_DESCRIPTORS) - {"curvature_energy"}:  # scaled to one radius: sizes agree
        assert small[k] == pytest.approx(big[k], rel=0.25, abs=0.02), k


def test_a_star_is_less_circular_less_solid_and_rougher_than_a_disc():
    d, s = shape_descriptors(disc(60)), shape_descriptors(star(10, 0.4))
    assert s["circularity"] < d["circularity"] - 0.2
    assert s["solidity"] < d["solidity"] - 0.1
    assert s["concavities"] >= 8
    assert s["curvature_energy"] > 5 * d["curvature_energy"]
    assert s["fourier_high"] > 10 * d["fourier_high"]


def test_wide_ellipse_is_parallel_and_tall_is_not():
    yy, xx = np.mgrid[:256, :256]
    wide = ((xx - 128) / 80) ** 2 + ((yy - 128) / 40) ** 2 < 1
    wd, td = shape_descriptors(wide), shape_descriptors(wide.T)
    assert wd["aspect_ratio"] == pytest.approx(2, rel=0.05) and td["aspect_ratio"] == pytest.approx(
        2, rel=0.05
    )
    assert wd["width_height"] > 1.8 and td["width_height"] < 0.6
    assert wd["orientation_deg"] < 5 and td["orientation_deg"] > 85
    assert wd["fourier_low"] > 10 * shape_descriptors(disc(60))["fourier_low"]


def test_empty_mask_is_an_input_error():
    with pytest.raises(InputError, match="empty"):
        shape_descriptors(np.zeros((10, 10), bool))
