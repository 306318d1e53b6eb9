import numpy as np
import pytest

from engine.errors import InputError
from engine.generator.window import (
    choose_window,
    crop_gray,
    crop_mask,
    feather_weight,
    generation_region,
    paste,
)


def _ellipse(shape, cy, cx, ry, rx):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def test_window_holds_lesion_and_extends_below():
    mask = _ellipse((300, 400), 100, 200, 20, 30)
    w = choose_window(mask)
    assert w.x0 <= 170 and w.x1 >= 231 and w.y0 <= 80 and w.y1 >= 121
    # More room below the lesion than above it, for posterior features.
    assert (w.y1 - 121) > (80 - w.y0)
    assert w.width == w.height


def test_window_stays_inside_frame_at_the_border():
    mask = _ellipse((120, 160), 110, 5, 8, 12)
    w = choose_window(mask)
    assert 0 <= w.x0 < w.x1 <= 160 and 0 <= w.y0 < w.y1 <= 120
    assert mask[w.slices].sum() == mask.sum()


def test_empty_mask_is_a_clear_error():
    with pytest.raises(InputError, match="empty"):
        choose_window(np.zeros((50, 50), bool))


def test_crop_ranges_and_size():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (300, 400), dtype=np.uint8)
    mask = _ellipse((300, 400), 100, 200, 20, 30)
    w = choose_window(mask)
    g = crop_gray(frame, w)
    m = crop_mask(mask, w)
    assert g.shape == m.shape == (64, 64)
    assert g.min() >= -1.0 and g.max() <= 1.0
    assert m.min() >= 0.0 and m.max() == 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_paste_keeps_size_dtype_and_everything_outside_the_seam(dtype):
    rng = np.random.default_rng(1)
    hi = np.iinfo(dtype).max
    frame = rng.integers(0, hi, (240, 320), dtype=dtype)
    mask = _ellipse((240, 320), 90, 150, 15, 25)
    w = choose_window(mask)
    region = generation_region(mask[w.slices], band_px=4)
    weight = feather_weight(region, 4)
    generated = np.full((64, 64), -1.0, np.float32)  # paint everything black
    out = paste(frame, w, generated, weight)
    assert out.shape == frame.shape and out.dtype == frame.dtype
    outside = np.ones(frame.shape, bool)
    outside[w.slices] = False
    assert np.array_equal(out[outside], frame[outside])
    inner = out[w.slices]
    # Zero weight -> bit-identical; the lesion itself -> the generated value.
    assert np.array_equal(inner[weight == 0], frame[w.slices][weight == 0])
    assert (weight == 0).any()
    assert inner[mask[w.slices]].max() <= hi * 0.05
    # The window border is never touched (the seam fades to 0 there).
    assert np.array_equal(inner[0], frame[w.slices][0]) and np.array_equal(
        inner[:, -1], frame[w.slices][:, -1]
    )


def test_feather_weight_is_smooth_and_bounded():
    region = np.zeros((64, 64), bool)
    region[20:44, 20:44] = True
    w = feather_weight(region, 6)
    assert w.max() <= 1 and w.min() >= 0
    assert w[32, 32] > 0.99 and w[0].max() == 0
    # A seam, not a step: some intermediate values across the edge.
    assert ((w > 0.1) & (w < 0.9)).sum() > 50
