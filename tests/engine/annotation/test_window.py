import numpy as np
import pytest

from engine.annotation.window import Window, box_prior, box_window, click_prior, click_window, model_input
from engine.errors import InputError


def test_points_round_trip_and_box_window_contains_the_box_with_margin():
    w = box_window((40, 30, 100, 60))
    assert w.side == pytest.approx(60 * 1.5)
    pts = np.array([[40.0, 30.0], [100.0, 60.0]])
    back = w.to_image(w.to_window(pts, 96), 96)
    np.testing.assert_allclose(back, pts)
    inside = w.to_window(pts, 96)
    assert (inside > 0).all() and (inside < 96).all()


def test_crop_and_paste_map_the_same_pixels():
    image = np.zeros((120, 150), np.float32)
    image[50:70, 60:90] = 1.0
    w = click_window(75, 60, 64)
    crop = w.crop(image, 64)  # side 64 -> 64 px: one pixel per pixel
    assert crop.sum() == pytest.approx(image.sum(), rel=1e-5)
    back = w.paste(crop, image.shape)
    np.testing.assert_allclose(back[40:80, 50:100], image[40:80, 50:100], atol=1e-5)


def test_priors_mark_the_click_and_the_box():
    w = Window(0, 0, 96)
    dot = click_prior(w, 30, 50, 96)
    assert np.unravel_index(dot.argmax(), dot.shape) == (50, 30)
    box = box_prior(w, (10, 20, 40, 60), 96)
    assert box[30, 20] == 1 and box[10, 20] == 0 and box.sum() == pytest.approx(30 * 40, abs=80)
    x = model_input(np.full((96, 96), 7, np.uint8), box)
    assert x.shape == (2, 96, 96) and x.dtype == np.float32 and abs(x[0]).max() == 0


def test_degenerate_box_is_an_input_error():
    with pytest.raises(InputError, match="box"):
        box_window((10, 10, 11, 40))
