"""Pixel sizes travel with the arrays: (row, column) mm per pixel at the model's size, so HD95 can be
given in mm where the dataset has a calibration (BrEaST) and in px where it has none (BUSI)."""

import numpy as np
import pytest

from engine.datasets import load_breast, load_folder
from engine.datasets.images import read_gray
from engine.evaluation.arrays import concatenate, from_arrays, load_cases
from engine.evaluation.runner import distance_unit

from .toy import write_toy_folder


def test_spacing_is_scaled_to_the_model_size_per_axis():
    grays = [np.zeros((120, 160), np.uint8), np.zeros((64, 64), np.uint8)]
    masks = [np.zeros_like(g, bool) for g in grays]
    s = from_arrays("x", grays, masks, ["benign", "malignant"], ["a", "b"], 32, [0.1, None])
    assert s.spacing[0] == pytest.approx([0.1 * 120 / 32, 0.1 * 160 / 32])
    assert np.isnan(s.spacing[1]).all() and not s.calibrated
    assert s.subset([0]).calibrated and distance_unit(s.subset([0])) == "mm"
    assert distance_unit(s) == "px"
    both = concatenate("c", s.subset([0]), s.subset([0]))
    assert both.spacing.shape == (2, 2) and both.calibrated


def test_folder_calibration_and_its_absence(tmp_path):
    calibrated = write_toy_folder(tmp_path / "mm", n_lesions=4, size=96, mm_per_pixel=0.3)
    plain = write_toy_folder(tmp_path / "px", n_lesions=4, size=96)
    mm = load_cases("mm", load_folder(calibrated).lesion_cases(), 32)
    assert mm.calibrated and mm.spacing == pytest.approx(np.full((4, 2), 0.3 * 96 / 32))
    assert distance_unit(load_cases("px", load_folder(plain).lesion_cases(), 32)) == "px"


def test_breast_frames_carry_their_pixel_size(breast_dir):
    cases = load_breast(breast_dir).lesion_cases()[:3]
    s = load_cases("breast", cases, 64)
    assert s.calibrated
    for case, (row, col) in zip(cases, s.spacing, strict=True):
        h, w = read_gray(case.image_path).shape
        assert row == pytest.approx(case.mm_per_pixel * h / 64) and col == pytest.approx(
            case.mm_per_pixel * w / 64
        )
