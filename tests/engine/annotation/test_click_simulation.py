"""The simulated user behind the 'clicks saved' figure."""

import numpy as np

from engine.annotation.click_simulation import (
    clicks_to_reach,
    edits_to_reach,
    even_clicks,
    livewire_contour,
    plain_points,
)
from engine.contour.fit import dice
from engine.contour.spline import Contour


def box_image():
    yy, xx = np.mgrid[0:120, 0:160]
    box = (xx >= 40) & (xx < 120) & (yy >= 30) & (yy < 90)
    speckle = np.random.default_rng(0).rayleigh(1.0, box.shape) / 1.25
    return np.clip(np.where(box, 60.0, 180.0) * speckle, 0, 255).astype(np.uint8), box


def test_even_clicks_lie_on_the_outline_evenly_spaced():
    _, box = box_image()
    clicks = even_clicks(box, 8)
    assert clicks.shape == (8, 2)
    on_outline = np.minimum.reduce([np.abs(clicks[:, 0] - 39.5), np.abs(clicks[:, 0] - 119.5),
                                    np.abs(clicks[:, 1] - 29.5), np.abs(clicks[:, 1] - 89.5)])  # fmt: skip
    assert on_outline.max() < 1.0
    gaps = np.linalg.norm(np.roll(clicks, -1, axis=0) - clicks, axis=1)
    assert gaps.max() < 1.5 * 280 / 8  # the perimeter is 280 px


def test_livewire_needs_fewer_clicks_than_the_plain_spline_on_a_sharp_outline():
    gray, box = box_image()
    plain, wired = clicks_to_reach(box, None, 0.97), clicks_to_reach(box, gray, 0.97)
    assert wired < plain
    contour = livewire_contour(gray, even_clicks(box, wired))
    assert dice(contour.raster(box.shape), box) >= 0.97
    assert plain_points(box, 0.97) <= len(Contour(even_clicks(box, plain)))


def test_edits_reach_the_target_from_a_rough_start():
    _, box = box_image()
    t = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    rough = Contour(np.stack([80 + 30 * np.cos(t), 60 + 20 * np.sin(t)], axis=1))
    n = edits_to_reach(rough, box, 0.9)
    assert 0 < n <= 40
    assert edits_to_reach(rough, box, 0.2) == 0
