import numpy as np

from engine.datasets import load_breast, load_busi
from engine.datasets.images import read_case_mask, read_gray


def test_busi_counts_match_its_readme(busi_dir):
    index = load_busi(busi_dir)
    by_label = {k: sum(c.label == k for c in index.cases) for k in ("benign", "malignant", "normal")}
    assert by_label == {"benign": 437, "malignant": 210, "normal": 133}
    assert sum(len(c.mask_paths) for c in index.cases if c.label != "normal") >= 647 + 18
    assert index.skipped == []
    twin = next(c for c in index.cases if c.case_id == "malignant (145)")
    assert twin.patient_id == "benign (433)"  # identical pixels share a split group


def test_breast_counts_scale_and_labels(breast_dir):
    index = load_breast(breast_dir)
    assert len(index) == 256 and len(index.lesion_cases()) == 252
    case = next(c for c in index.cases if c.case_id == "case001")
    assert abs(case.mm_per_pixel - 0.078125) < 1e-9 and case.description.shape.value == "irregular"
    image = read_gray(case.image_path)
    mask = read_case_mask(case.mask_paths, image.shape)
    assert image.dtype == np.uint8 and mask.any() and mask.mean() < 0.5
