import numpy as np
import pytest

from engine.errors import DataError
from engine.generator.canvas_realism import load_canvases, moved_mask


def test_moved_mask_keeps_shape_and_relative_position():
    mask = np.zeros((100, 200), bool)
    mask[20:40, 150:180] = True
    mask[25, 150] = False
    moved = moved_mask(mask, (300, 100))
    ys, xs = np.nonzero(moved)
    assert moved.sum() == mask.sum()
    assert np.array_equal(moved[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], mask[20:40, 150:180])
    assert abs((ys.min() + ys.max()) / 2 - 0.3 * 300) <= 1  # same relative depth (0.3)
    assert xs.max() < 100  # shifted to stay inside the narrower frame


def test_moved_mask_that_cannot_fit_is_none():
    mask = np.zeros((100, 100), bool)
    mask[10:90, 10:90] = True
    assert moved_mask(mask, (50, 200)) is None


def test_canvases_are_busi_normal_frames(data_root):
    canvases = load_canvases(data_root)
    assert len(canvases) == 133  # bus/README.md: 133 normal frames
    assert all("normal" in name for name, _ in canvases[:5])
    assert all(frame.dtype == np.uint8 and frame.ndim == 2 for _, frame in canvases[:5])


def test_missing_canvases_are_a_data_error(tmp_path):
    with pytest.raises(DataError, match="normal"):
        load_canvases(tmp_path)
