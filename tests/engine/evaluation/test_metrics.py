import numpy as np
import pytest

from engine.evaluation import metrics


def _square(shape, y0, x0, side):
    m = np.zeros(shape, bool)
    m[y0 : y0 + side, x0 : x0 + side] = True
    return m


def test_dice_and_iou_of_overlapping_squares():
    a = _square((20, 20), 2, 2, 10)  # 100 px
    b = _square((20, 20), 2, 7, 10)  # 100 px, 50 shared
    assert metrics.dice(a, b) == pytest.approx(2 * 50 / 200)
    assert metrics.iou(a, b) == pytest.approx(50 / 150)
    assert metrics.dice(a, a) == 1.0
    empty = np.zeros((20, 20), bool)
    assert metrics.dice(empty, empty) == 1.0 and metrics.dice(a, empty) == 0.0


def test_hd95_of_a_shifted_square_and_of_a_missed_lesion():
    a = _square((40, 40), 10, 10, 12)
    assert metrics.hd95(a, a) == 0.0
    assert metrics.hd95(np.roll(a, 3, axis=1), a) == pytest.approx(3.0)
    assert metrics.hd95(np.roll(a, 3, axis=1), a, spacing=0.5) == pytest.approx(1.5)
    assert metrics.hd95(np.zeros_like(a), a) == pytest.approx(np.hypot(40, 40))


def test_hd95_in_mm_with_an_anisotropic_pixel_size():
    a = _square((40, 40), 10, 10, 12)
    # a 3-pixel shift along columns counts column spacing only; along rows, row spacing only
    assert metrics.hd95(np.roll(a, 3, axis=1), a, (0.5, 2.0)) == pytest.approx(6.0)
    assert metrics.hd95(np.roll(a, 3, axis=0), a, (0.5, 2.0)) == pytest.approx(1.5)
    # a missed lesion: the frame's diagonal in mm
    assert metrics.hd95(np.zeros_like(a), a, (0.5, 2.0)) == pytest.approx(np.hypot(20, 80))


def test_auc_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    s = np.round(rng.random(60) + 0.3 * y, 1)  # rounding makes ties
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p in s[y == 1] for n in s[y == 0]]
    assert metrics.roc_auc(y, s) == pytest.approx(np.mean(pairs))
    assert np.isnan(metrics.roc_auc(np.ones(5), np.arange(5)))


def test_binary_rates():
    r = metrics.binary_rates([1, 1, 1, 0, 0], [1, 0, 1, 0, 1])
    assert r == {"accuracy": 3 / 5, "sensitivity": 2 / 3, "specificity": 1 / 2}


def test_wilson_interval_textbook_value():
    lo, hi = metrics.wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert metrics.wilson_interval(0, 10)[0] == 0.0


def test_cohen_kappa_two_by_two():
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 -> po 0.7, pe 0.5
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert metrics.cohen_kappa(a, b) == pytest.approx(0.4)


def test_fleiss_kappa_published_example():
    # Fleiss (1971) worked example as given on Wikipedia: 10 items, 14 raters, kappa 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert metrics.fleiss_kappa(np.array(table)) == pytest.approx(0.210, abs=5e-4)
    with pytest.raises(ValueError):
        metrics.fleiss_kappa(np.array([[1, 1], [2, 1]]))


def test_bootstrap_interval_contains_the_mean_narrows_with_n_and_repeats():
    rng = np.random.default_rng(0)
    small = [rng.normal(0.7, 0.1, 30) for _ in range(3)]
    large = [rng.normal(0.7, 0.1, 600) for _ in range(3)]
    e_small = metrics.bootstrap(small, 30, metrics.mean_of, 300)
    e_large = metrics.bootstrap(large, 600, metrics.mean_of, 300)
    assert e_small.low < e_small.value < e_small.high
    assert e_small.value == pytest.approx(np.mean([s.mean() for s in small]))
    assert (e_large.high - e_large.low) < (e_small.high - e_small.low) / 2
    assert metrics.bootstrap(small, 30, metrics.mean_of, 300) == e_small
    assert e_small.seeds == 3 and e_small.n == 30


def test_paired_bootstrap_detects_a_consistent_gain_and_not_a_null_one():
    rng = np.random.default_rng(2)
    a = [rng.uniform(0.4, 0.9, 50) for _ in range(3)]
    better = [x + 0.05 for x in a]
    c = metrics.paired_bootstrap(a, better, 50, metrics.mean_of, 400)
    assert c.difference.value == pytest.approx(0.05)
    assert c.p_value <= 1 / 400 + 1e-12 and c.difference.low > 0
    same = metrics.paired_bootstrap(a, a, 50, metrics.mean_of, 400)
    assert same.p_value == 1.0 and same.difference.value == 0.0


def test_classification_statistic_on_resampled_items():
    labels = np.array([0, 0, 1, 1])
    prob = np.array([0.1, 0.6, 0.4, 0.9])
    stat = metrics.classification_statistic("auc")
    assert stat((labels, prob), np.arange(4)) == pytest.approx(0.75)
    assert stat((labels, prob), np.array([0, 3])) == 1.0
