import numpy as np
import pytest

from engine.annotation.click_segment import chan_vese, segment
from engine.errors import InputError
from engine.evaluation.metrics import dice

from .synthetic import lesion_frame


def test_classical_box_and_click_find_the_lesion_and_say_which_method_ran():
    gray, mask = lesion_frame()
    by_box = segment(gray, box=(62, 58, 128, 102))
    assert by_box.method == "chan-vese-box"
    assert dice(by_box.contour.raster(gray.shape), mask) > 0.85
    by_click = segment(gray, click=(95, 80))
    assert by_click.method == "chan-vese-click"
    assert dice(by_click.contour.raster(gray.shape), mask) > 0.75
    assert 3 <= len(by_box.contour) < 40  # an editable contour, not a pixel chain


def test_same_input_same_contour():
    gray, _ = lesion_frame(seed=3)
    a = segment(gray, box=(62, 58, 128, 102)).contour.points
    b = segment(gray, box=(62, 58, 128, 102)).contour.points
    np.testing.assert_array_equal(a, b)


def test_chan_vese_moves_a_wrong_start_onto_the_dark_region():
    _, mask = lesion_frame()
    image = np.where(mask, 40.0, 160.0).astype(np.float32)
    start = np.zeros_like(mask)
    start[70:90, 80:110] = True
    assert dice(chan_vese(image, start), mask) > 0.95


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"click": (500, 10)}, "outside"),
        ({}, "either a click"),
        ({"click": (10, 10), "box": (0, 0, 20, 20)}, "either a click"),
    ],
)
def test_bad_prompts_are_input_errors(kwargs, match):
    gray, _ = lesion_frame()
    with pytest.raises(InputError, match=match):
        segment(gray, **kwargs)


def test_flat_image_has_no_lesion():
    with pytest.raises(InputError, match="no lesion"):
        segment(np.full((100, 100), 90, np.uint8), box=(30, 30, 70, 70))
