import json

import cv2
import numpy as np
import pytest

from engine.cli.main import main as cli_main
from engine.errors import InputError, ModelError
from engine.language import LesionDescription, Margin
from engine.language.classifier import (
    EnsembleModel,
    balanced_accuracy,
    confusion_matrix,
    fit_logistic,
    model_from_dict,
)
from engine.language.features import lesion_features
from engine.language.measure import (
    MODEL_FORMAT,
    TASK_FEATURES,
    TASK_VIEWS,
    DescribeModel,
    load_describe_model,
    measure,
)
from engine.language.validation import Sample, cross_validate, grouped_folds, write_report


def _phantom(below: int, ellipse=(40, 25), lesion_gray=20, seed=0):
    """Speckled tissue (gray ~120) with an elliptic lesion; the band below it has gray `below`."""
    rng = np.random.default_rng(seed)
    img = rng.rayleigh(120 / 1.25, (300, 300))
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, (150, 110), ellipse, 0, 0, 360, 1, -1)
    mask = mask.astype(bool)
    ys, xs = np.nonzero(mask)
    img[ys.max() + 1 :, xs.min() + 5 : xs.max() - 5] *= below / 120
    img[mask] = rng.rayleigh(lesion_gray / 1.25, mask.sum())
    return np.clip(img, 0, 255).astype(np.uint8), mask


def test_features_see_dark_lesions_and_what_lies_below():
    shadow = lesion_features(*_phantom(below=40))
    enhanced = lesion_features(*_phantom(below=200))
    assert shadow["echo_log_ratio"] < -1.0 and shadow["echo_dark_fraction"] > 0.5
    assert shadow["posterior_near"] < -0.5 < 0.3 < enhanced["posterior_near"]
    assert enhanced["shape_width_height"] > 0.3  # log(width/height) of a 80 x 50 ellipse
    with pytest.raises(InputError, match="same size"):
        lesion_features(np.zeros((10, 10), np.uint8), np.zeros((10, 11), bool))


def _split_phantom(left_gray: int, right_gray: int, centre=(150, 110)):
    """Lesion whose shadow falls under its left half and whose enhancement under its right half."""
    rng = np.random.default_rng(3)
    img = rng.rayleigh(120 / 1.25, (300, 300))
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, centre, (40, 25), 0, 0, 360, 1, -1)
    mask = mask.astype(bool)
    ys, xs = np.nonzero(mask)
    mid = (xs.min() + xs.max()) // 2
    img[ys.max() + 1 :, xs.min() + 3 : mid] *= left_gray / 120
    img[ys.max() + 1 :, mid : xs.max() - 3] *= right_gray / 120
    img[mask] = rng.rayleigh(20 / 1.25, mask.sum())
    return np.clip(img, 0, 255).astype(np.uint8), mask


def test_posterior_features_tell_a_combined_pattern_by_its_lateral_split():
    combined = lesion_features(*_split_phantom(40, 220))
    shadow = lesion_features(*_split_phantom(40, 40))
    none = lesion_features(*_split_phantom(120, 120))
    assert combined["posterior_sub_both"] > 0.3 and combined["posterior_own_side_both"] > 0.3
    assert shadow["posterior_sub_both"] < 0 and none["posterior_sub_both"] < 0.15
    assert shadow["posterior_near"] < -0.5 and abs(none["posterior_near"]) < 0.15
    assert combined["posterior_sub_spread"] > 1.0 > shadow["posterior_sub_spread"]
    # the curve over depth: the shadow runs all the way down
    assert shadow["posterior_far"] < -0.5 and shadow["posterior_room"] == 1.0


def test_posterior_features_respect_the_image_boundary():
    # lesion against the bottom edge: no room below; against the left edge: no columns on the left
    at_bottom = lesion_features(*_split_phantom(40, 40, centre=(150, 299)))
    assert at_bottom["posterior_room"] == 0.0 and at_bottom["posterior_near"] == 0.0
    low = lesion_features(*_split_phantom(40, 40, centre=(150, 240)))
    assert 0 < low["posterior_room"] < 1 and low["posterior_near"] < -0.5
    at_left = lesion_features(*_split_phantom(40, 40, centre=(38, 110)))
    assert at_left["posterior_near"] < -0.5 and np.isfinite(list(at_left.values())).all()


def _gain_phantom(below_factor: float, border: int = 0, centre=(150, 100)):
    """Speckle whose mean rises with depth (a time-gain curve), an elliptic lesion, the columns below it
    scaled by `below_factor`, and `border` black columns on each side (a sector's surround)."""
    rng = np.random.default_rng(5)
    mean = 50 + 0.5 * np.arange(300)[:, None]
    img = rng.rayleigh(1 / 1.25, (300, 300)) * mean
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, centre, (40, 25), 0, 0, 360, 1, -1)
    mask = mask.astype(bool)
    ys, xs = np.nonzero(mask)
    img[ys.max() + 1 :, xs.min() + 4 : xs.max() - 4] *= below_factor
    img[mask] = rng.rayleigh(20 / 1.25, mask.sum())
    if border:
        img[:, :border] = img[:, -border:] = 0
    return np.clip(img, 0, 255).astype(np.uint8), mask


def test_below_features_read_the_band_against_the_image_depth_curve():
    none, enhanced, shadow = (lesion_features(*_gain_phantom(f)) for f in (1.0, 1.8, 0.4))
    # the tissue brightens with depth; against the image's own depth curve it reads flat
    assert abs(none["below_full_level"]) < 0.1 and abs(none["below_full_vs_side"]) < 0.1
    assert enhanced["below_full_vs_side"] > 0.4 and enhanced["below_near_bright"] > 0.8
    assert shadow["below_full_vs_side"] < -0.5 and shadow["below_deep_dark"] > 0.8
    assert shadow["below_full_both"] == 0.0 and none["below_room"] == 1.0
    # black columns around a sector are not tissue: the depth curve leaves them out
    bordered = lesion_features(*_gain_phantom(1.0, border=55))
    assert abs(bordered["below_full_level"]) < 0.1 and abs(bordered["below_full_vs_side"]) < 0.1
    # no room below the lesion: nothing is read, every value finite
    at_bottom = lesion_features(*_gain_phantom(0.4, centre=(150, 299)))
    assert at_bottom["below_room"] == 0.0 and at_bottom["below_full_vs_side"] == 0.0
    assert np.isfinite([v for k, v in at_bottom.items() if k.startswith("below_")]).all()


def test_ensemble_pools_its_views_by_mean_log_probability():
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal(0, 1, (40, 3)) + [2, 2, 0]])
    y = ["a"] * 40 + ["b"] * 40
    m1 = fit_logistic(x[:, [0]], y, ["f0"], 1.0)
    m2 = fit_logistic(x[:, [1, 2]], y, ["f1", "f2"], 1.0)
    ens = EnsembleModel(["f0", "f1", "f2"], [m1, m2])
    p = ens.predict_proba(x)
    expected = np.sqrt(m1.predict_proba(x[:, [0]]) * m2.predict_proba(x[:, [1, 2]]))
    assert np.allclose(p, expected / expected.sum(axis=1, keepdims=True))
    assert balanced_accuracy(y, ens.predict(x)) > 0.85
    # columns are found by name: the same rows in another column order give the same answer
    shuffled = EnsembleModel(["f2", "f0", "f1"], [m1, m2])
    assert np.allclose(shuffled.predict_proba(x[:, [2, 0, 1]]), p)
    back = model_from_dict(json.loads(json.dumps(ens.to_dict())))
    assert isinstance(back, EnsembleModel) and np.allclose(back.predict_proba(x), p)
    assert isinstance(model_from_dict(m1.to_dict()), type(m1))
    with pytest.raises(ValueError, match="lack"):
        EnsembleModel(["f0"], [m1, m2])


def test_logistic_model_fits_round_trips_and_balances_classes():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (90, 3)), rng.normal(0, 1, (10, 3)) + [3, 0, 0]])
    y = ["common"] * 90 + ["rare"] * 10
    model = fit_logistic(x, y, ["a", "b", "c"], l2=1.0)
    pred = model.predict(x)
    assert balanced_accuracy(y, pred) > 0.9
    assert pred.count("rare") >= 9  # class balance: the rare class is not swallowed
    back = type(model).from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.allclose(back.predict_proba(x), model.predict_proba(x))
    assert confusion_matrix(["a", "b", "b"], ["a", "a", "b"], ["a", "b"]).tolist() == [[1, 0], [1, 1]]
    assert balanced_accuracy(["a", "b", "b"], ["a", "a", "b"]) == pytest.approx(0.75)


def test_cross_validation_is_patient_grouped_and_reports_every_task(tmp_path):
    groups = [f"p{i // 2}" for i in range(60)]  # two images per patient
    folds = grouped_folds(groups, 5, seed=0)
    for g in set(groups):
        assert len({f for f, h in zip(folds, groups, strict=True) if h == g}) == 1
    rng = np.random.default_rng(1)
    names = ["shape_a", "margin_a", "echo_a", "posterior_a", "below_a"]
    shapes, posts = ["oval", "round", "irregular"], ["no posterior features", "enhancement", "shadowing"]
    samples = []
    for i, g in enumerate(groups):
        k = i % 3
        desc = LesionDescription(shape=shapes[k], margin=Margin(k < 2, set() if k < 2 else {"indistinct"}),
                                 echo_pattern="hypoechoic" if k else "isoechoic", posterior_features=posts[k])  # fmt: skip
        samples.append(Sample(f"c{i}", g, {n: k + rng.normal(0, 0.3) for n in names}, desc))
    results = {r.task: r for r in cross_validate(samples, folds=3)}
    repeated = {r.task: r for r in cross_validate(samples, folds=3, repeats=2)}
    assert len(repeated["posterior"].per_repeat) == 2 and repeated["posterior"].confusion.sum() == 120
    assert repeated["posterior"].balanced_accuracy == pytest.approx(np.mean(repeated["posterior"].per_repeat))
    assert repeated["posterior"].per_repeat[0] == pytest.approx(results["posterior"].balanced_accuracy)
    assert set(results) == set(TASK_FEATURES)
    assert all(len(l2) == len(TASK_VIEWS["posterior"]) for l2 in results["posterior"].l2_chosen)
    assert results["posterior"].balanced_accuracy > 0.9
    assert results["shape"].balanced_accuracy > 0.9 and results["shape"].chance == pytest.approx(1 / 3)
    assert results["shape"].confusion.sum() == 60
    paths = write_report(list(results.values()), tmp_path)
    assert "| shape | 3 | 60 |" in paths[0].read_text() and paths[2].read_bytes()[:4] == b"\x89PNG"


def test_measure_with_the_shipped_model():
    model = load_describe_model()
    assert set(model.models) == set(TASK_FEATURES)
    assert isinstance(model.models["posterior"], EnsembleModel)
    assert len(model.models["posterior"].members) == len(TASK_VIEWS["posterior"])
    img, mask = _phantom(below=40, ellipse=(40, 25))
    desc, conf = measure(img, mask, mm_per_pixel=0.1)
    assert desc.orientation.value == "parallel" and desc.echo_pattern.value in ("hypoechoic", "anechoic")
    assert desc.size_mm == pytest.approx(8.1, abs=0.3) and desc.perpendicular_mm == pytest.approx(
        5.1, abs=0.3
    )
    assert all(0 < v <= 1 for v in conf.values())
    assert {"shape", "margin", "echo_pattern", "posterior_features"} <= set(conf)
    tall, _ = measure(*_phantom(below=120, ellipse=(20, 40)))
    assert tall.orientation.value == "not parallel" and tall.size_mm is None
    with pytest.raises(InputError, match="uint8"):
        measure(img.astype(float), mask)


def test_missing_or_foreign_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_describe_model(tmp_path / "none.json")
    with pytest.raises(ModelError, match="format"):
        DescribeModel.from_dict({"format": "other"})
    # a format-1 file (one logistic model per task) still reads; files are written as the current format
    shipped = load_describe_model()
    d = shipped.to_dict()
    assert d["format"] == MODEL_FORMAT
    d["format"] = "bus-studio describe model 1"
    d["models"]["posterior"] = d["models"]["posterior"]["members"][0]
    old = DescribeModel.from_dict(d)
    img, mask = _phantom(below=200)
    desc, _ = measure(img, mask, model=old)
    assert desc.posterior_features is not None


def test_describe_command_on_a_breast_case(breast_dir, capsys):
    case = breast_dir / "case002.png"
    assert cli_main(["describe", str(case), str(breast_dir / "case002_tumor.png"), "--mm-per-pixel", "0.0646",
                     "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    d = LesionDescription.from_dict(out["description"])
    assert d.size_mm is not None and 3 < d.size_mm < 30 and out["sentence"].endswith("mm")
