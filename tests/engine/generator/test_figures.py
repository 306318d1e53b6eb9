"""The generator figures: realism classifier, distances, controls, floor mask, and one tiny end-to-end run."""

import numpy as np
import pytest
import torch

from engine.errors import InputError, ModelError
from engine.generator.distances import (
    REAL_VS_REAL,
    InceptionFeatures,
    frechet_distance,
    kernel_distance,
    segmenter_features,
    split_half_distances,
)
from engine.generator.figures import lesion_free_mask
from engine.generator.realism import ClassifierConfig, classifier_auc, cut_and_paste_control, naive_control

from .tiny import ellipse, tissue


def _speckle_windows(n, size, seed):
    return np.stack([tissue((size, size), seed + i).astype(np.float32) / 255.0 for i in range(n)])


def test_a_visible_difference_scores_auc_near_one_and_groups_share_a_fold():
    torch.set_num_threads(1)
    n, size = 24, 32
    real = _speckle_windows(n, size, 0)
    synthetic = _speckle_windows(n, size, 1000)
    synthetic[:, 10:22, 10:22] = 0.95  # a bright square: a flaw any classifier must catch
    groups = [f"image{i // 2}" for i in range(n)]  # two lesions per image
    r = classifier_auc(real, synthetic, groups, ClassifierConfig(epochs=5, depth=3), seed=0)
    assert r["auc"] >= 0.95 and min(r["fold_aucs"]) >= 0.9
    assert r["pooled_low"] <= r["pooled_auc"] <= r["pooled_high"] <= 1.0
    assert r["folds"] == 5 and r["windows"] == 2 * n
    folds = r["fold_of_lesion"]
    assert all(folds[i] == folds[i + 1] for i in range(0, n, 2))  # one image, one fold
    assert len(set(folds)) == 5


def test_realism_refuses_unbalanced_or_ungroupable_input():
    real = _speckle_windows(4, 16, 0)
    with pytest.raises(InputError, match="one synthetic window per real one"):
        classifier_auc(real, real[:3], ["a", "b", "c", "d"])
    with pytest.raises(InputError, match="at least 2 images"):
        classifier_auc(real, real, ["a"] * 4)


def test_frechet_distance_matches_the_closed_form():
    rng = np.random.default_rng(0)
    n = 40000
    a = rng.normal(size=(n, 2)) * [1.0, 2.0]  # covariance diag(1, 4)
    b = rng.normal(size=(n, 2)) * [2.0, 1.0] + [0.5, -1.0]  # diag(4, 1), mean shifted
    # |mu|^2 + tr(A + B - 2 sqrt(AB)) = 1.25 + (5 + 5 - 2 * (2 + 2))
    assert frechet_distance(a, b) == pytest.approx(3.25, abs=0.1)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_with_fewer_samples_than_features_matches_the_matrix_root():
    from scipy import linalg

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(30, 50)), rng.gamma(2.0, size=(25, 50))
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    mu = a.mean(0) - b.mean(0)
    expected = mu @ mu + np.trace(cov_a + cov_b) - 2 * np.trace(linalg.sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_kernel_distance_is_the_unbiased_mmd_of_the_cubic_kernel():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5

    def k(x, y):
        return (x @ y / 3 + 1) ** 3

    xx = sum(k(a[i], a[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    yy = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    xy = sum(k(x, y) for x in a for y in b) / 35
    assert kernel_distance(a, b) == pytest.approx(xx + yy - 2 * xy)


def test_split_half_puts_a_copy_of_real_on_the_real_vs_real_scale_and_a_shift_above_it():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(60, 4))
    groups = [f"g{i}" for i in range(60)]
    out = split_half_distances(real, {"copy": real.copy(), "shifted": real + 1.0}, groups, splits=3, seed=0)
    assert out["copy"]["fid"] == pytest.approx(out[REAL_VS_REAL]["fid"])
    assert out["shifted"]["fid"] > out[REAL_VS_REAL]["fid"] + 3.0  # |shift|^2 = 4
    assert out["shifted"]["kid"] > out[REAL_VS_REAL]["kid"]


def test_controls_change_only_the_mask_in_their_own_way():
    frame, mask = tissue(), ellipse()
    donor, donor_mask = tissue(seed=5), ellipse(cy=100, cx=80, ry=10, rx=30)
    dark = naive_control(frame, mask, seed=0)
    assert np.array_equal(dark[~mask], frame[~mask])
    assert dark[mask].mean() < 0.6 * frame[mask].mean()
    pasted = cut_and_paste_control(frame, mask, donor * 0 + 200, donor_mask)
    assert np.array_equal(pasted[~mask], frame[~mask]) and np.all(pasted[mask] == 200)


def test_the_floor_mask_sits_beside_the_lesion_at_its_depth():
    mask = ellipse()
    free = lesion_free_mask(mask)
    assert free.sum() == mask.sum()
    assert np.array_equal(np.nonzero(free.any(1))[0], np.nonzero(mask.any(1))[0])  # same rows
    cols, lesion_cols = np.nonzero(free.any(0))[0], np.nonzero(mask.any(0))[0]
    assert cols.min() > lesion_cols.max() or cols.max() < lesion_cols.min()
    wide = np.zeros((40, 50), bool)
    wide[10:20, 5:45] = True
    assert lesion_free_mask(wide) is None  # no room beside it


def test_segmenter_features_see_the_lesion():
    from engine.annotation.segmenter import load_segmenter

    windows = _speckle_windows(8, 96, 0)
    windows[4:, 30:60, 30:60] *= 0.2  # a dark lesion in the box of the last four
    feats = segmenter_features(load_segmenter(), windows, [(30, 30, 60, 60)] * 8)
    assert feats.shape == (8, 128) and np.isfinite(feats).all()
    plain, lesion = feats[:4], feats[4:]
    between = np.linalg.norm(plain.mean(0) - lesion.mean(0))
    within = np.mean([np.linalg.norm(f - g.mean(0)) for g in (plain, lesion) for f in g])
    assert between > 2 * within  # measured 3.5x


def test_inception_features_load_a_torchvision_state_dict_and_refuse_another(tmp_path):
    from engine.generator.inception import InceptionV3Features

    torch.manual_seed(0)
    state = InceptionV3Features().state_dict()  # torchvision's names (checked against its source)
    state["fc.weight"] = torch.zeros(1000, 2048)  # heads of a classifier state dict are ignored
    state["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    path = tmp_path / "inception.pt"
    torch.save(state, path)
    feats = InceptionFeatures(path)(_speckle_windows(2, 96, 0))
    assert feats.shape == (2, 2048) and np.isfinite(feats).all()
    assert not np.allclose(feats[0], feats[1])
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ModelError, match="not a torchvision inception_v3 state dict"):
        InceptionFeatures(tmp_path / "other.pt")
    with pytest.raises(ModelError, match="no Inception weights file"):
        InceptionFeatures(tmp_path / "missing.pt")


def test_paired_summary_ratio_and_its_interval():
    from engine.generator.figures import paired_summary

    reference = np.random.default_rng(0).uniform(0.2, 1.0, 50)
    s = paired_summary(0.5 * reference, reference, seed=0)
    assert s["ratio"] == pytest.approx(0.5) and s["ratio_low"] == pytest.approx(0.5)
    assert s["low"] < s["mean"] < s["high"] and s["n"] == 50
    noisy = paired_summary(reference + np.random.default_rng(1).normal(0, 0.2, 50), reference, seed=0)
    assert noisy["ratio_low"] < noisy["ratio"] < noisy["ratio_high"]


def test_realism_by_dataset_reads_each_datasets_own_scores():
    from engine.generator.figures import auc_by_dataset

    # BUSI twins perfectly told apart, BrEaST twins indistinguishable (scores interleaved).
    result = {
        "real_scores": [0.1, 0.2, 0.3, 0.2, 0.6, 0.4],
        "synthetic_scores": [0.9, 0.8, 0.7, 0.2, 0.6, 0.4],
    }
    groups = ["busi/a", "busi/b", "busi/c", "breast/x", "breast/y", "breast/z"]
    by = auc_by_dataset(result, groups, seed=0)
    assert by["busi"]["pooled_auc"] == 1.0 and by["busi"]["lesions"] == 3
    assert by["breast"]["pooled_auc"] == 0.5 and by["breast"]["lesions"] == 3
