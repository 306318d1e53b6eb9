import numpy as np
import pytest

from engine.contour.fit import dice, fit_contour
from engine.datasets import load_breast, load_busi
from engine.datasets.images import read_mask
from engine.errors import InputError


def _sample_masks(index, every):
    return [read_mask(p) for c in index.lesion_cases()[::every] for p in c.mask_paths[:1]]


def test_fit_reaches_dice_097_with_few_points_on_real_masks(breast_dir, busi_dir):
    masks = _sample_masks(load_breast(breast_dir), 25) + _sample_masks(load_busi(busi_dir), 60)
    assert len(masks) >= 20
    fits = [fit_contour(m) for m in masks]
    for m, f in zip(masks, fits, strict=True):
        assert f.dice >= 0.97
        assert dice(f.contour.raster(m.shape), m) == pytest.approx(f.dice)
    assert np.median([len(f.contour) for f in fits]) <= 30


def test_smooth_shape_needs_fewer_points_than_a_rough_one():
    yy, xx = np.mgrid[:200, :200]
    theta = np.arctan2(yy - 100, xx - 100)
    smooth = np.hypot(xx - 100, yy - 100) < 60
    rough = np.hypot(xx - 100, yy - 100) < 60 + 8 * np.sin(14 * theta)
    fs, fr = fit_contour(smooth), fit_contour(rough)
    assert fs.dice >= 0.975 and fr.dice >= 0.975
    assert len(fs.contour) < len(fr.contour)


def test_fit_rejects_empty_or_non_2d_masks():
    with pytest.raises(InputError, match="empty"):
        fit_contour(np.zeros((20, 20), bool))
    with pytest.raises(InputError, match="2-D"):
        fit_contour(np.zeros((2, 20, 20), bool))
