"""Metrics of the downstream tasks, with bootstrap intervals over test images and model seeds.

Segmentation (per image): Dice, IoU, HD95. Classification (per test set): AUC, accuracy,
sensitivity, specificity, malignant being the positive class. Intervals: percentile bootstrap over
test images; each resample is scored for every seed and the seed scores are averaged, so the
interval carries the test-set and the training-seed variation together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """2|P∩T| / (|P|+|T|); 1 when both are empty."""
    p, t = pred.astype(bool), truth.astype(bool)
    total = p.sum() + t.sum()
    return 1.0 if total == 0 else float(2.0 * (p & t).sum() / total)


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = pred.astype(bool), truth.astype(bool)
    union = (p | t).sum()
    return 1.0 if union == 0 else float((p & t).sum() / union)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def hd95(pred: np.ndarray, truth: np.ndarray, spacing: float | tuple[float, float] = 1.0) -> float:
    """95th percentile of the symmetric surface distances, in the unit of `spacing`: pixels by
    default, mm with the pixel size (one number, or (row, column) when a resize made it anisotropic).

    An empty prediction against a lesion scores the image diagonal (the worst possible), so a model
    that misses lesions is penalised instead of silently dropped; 0 when both are empty.
    """
    p, t = pred.astype(bool), truth.astype(bool)
    sy, sx = (spacing, spacing) if np.isscalar(spacing) else spacing
    if not p.any() and not t.any():
        return 0.0
    if not p.any() or not t.any():
        return float(np.hypot(p.shape[0] * sy, p.shape[1] * sx))
    sp, st = _surface(p), _surface(t)
    to_t = ndimage.distance_transform_edt(~st, sampling=(sy, sx))[sp]
    to_p = ndimage.distance_transform_edt(~sp, sampling=(sy, sx))[st]
    return float(np.percentile(np.concatenate([to_t, to_p]), 95))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with midranks for ties); nan with one class only."""
    y = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(np.asarray(scores, float))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_rates(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy, sensitivity (true positive rate) and specificity (true negative rate)."""
    y = np.asarray(labels).astype(bool)
    p = np.asarray(predicted).astype(bool)
    tp, tn = int((y & p).sum()), int((~y & ~p).sum())
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return {
        "accuracy": (tp + tn) / len(y) if len(y) else float("nan"),
        "sensitivity": tp / n_pos if n_pos else float("nan"),
        "specificity": tn / n_neg if n_neg else float("nan"),
    }


def classification_metrics(labels: np.ndarray, probability: np.ndarray, threshold: float = 0.5) -> dict:
    out = {"auc": roc_auc(labels, probability)}
    out.update(binary_rates(labels, np.asarray(probability) >= threshold))
    return out


SEGMENTATION_METRICS = ("dice", "iou", "hd95")
CLASSIFICATION_METRICS = ("auc", "accuracy", "sensitivity", "specificity")
HIGHER_IS_BETTER = {
    "dice": True,
    "iou": True,
    "hd95": False,
    "auc": True,
    "accuracy": True,
    "sensitivity": True,
    "specificity": True,
}


@dataclass(frozen=True)
class Estimate:
    value: float  # on the full test set, averaged over seeds
    low: float  # 2.5th bootstrap percentile
    high: float  # 97.5th bootstrap percentile
    seeds: int
    n: int  # test items

    def to_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "seeds": self.seeds, "n": self.n}

    def text(self, digits: int = 3) -> str:
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


# A statistic maps (per-seed data, indices of the resampled items) to one number for that seed.
Statistic = Callable[[object, np.ndarray], float]


def _over_seeds(per_seed: list, statistic: Statistic, idx: np.ndarray) -> float:
    values = np.array([statistic(d, idx) for d in per_seed], float)
    # a resample may hold one class only (AUC undefined): nan, dropped from the percentiles
    return float(values[np.isfinite(values)].mean()) if np.isfinite(values).any() else float("nan")


def bootstrap(
    per_seed: list, n_items: int, statistic: Statistic, resamples: int = 1000, seed: int = 0
) -> Estimate:
    """Percentile 95 % interval of the seed-averaged statistic over resampled test items."""
    rng = np.random.default_rng(seed)
    full = _over_seeds(per_seed, statistic, np.arange(n_items))
    draws = np.array(
        [_over_seeds(per_seed, statistic, rng.integers(0, n_items, n_items)) for _ in range(resamples)]
    )
    lo, hi = np.nanpercentile(draws, [2.5, 97.5])
    return Estimate(full, float(lo), float(hi), len(per_seed), n_items)


@dataclass(frozen=True)
class Comparison:
    difference: Estimate  # b minus a
    p_value: float  # two-sided paired bootstrap

    def to_dict(self) -> dict:
        return {"difference": self.difference.to_dict(), "p_value": self.p_value}


def paired_bootstrap(
    per_seed_a: list,
    per_seed_b: list,
    n_items: int,
    statistic: Statistic,
    resamples: int = 1000,
    seed: int = 0,
) -> Comparison:
    """b against a on the same resampled test items (paired), with a two-sided p-value.

    p is twice the smaller tail of the bootstrap distribution of the difference around zero
    (floored at 1/resamples: a bootstrap cannot tell smaller p-values apart).
    """
    rng = np.random.default_rng(seed)

    def diff(idx):
        return _over_seeds(per_seed_b, statistic, idx) - _over_seeds(per_seed_a, statistic, idx)

    full = diff(np.arange(n_items))
    draws = np.array([diff(rng.integers(0, n_items, n_items)) for _ in range(resamples)])
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return Comparison(Estimate(full, float("nan"), float("nan"), len(per_seed_a), n_items), float("nan"))
    lo, hi = np.percentile(draws, [2.5, 97.5])
    tail = min((draws <= 0).mean(), (draws >= 0).mean())
    p = float(min(1.0, max(2 * tail, 1.0 / draws.size)))
    return Comparison(Estimate(full, float(lo), float(hi), len(per_seed_a), n_items), p)


def mean_of(values: np.ndarray, idx: np.ndarray) -> float:
    """Statistic for per-image scores (Dice, IoU, HD95): their mean over the resampled images."""
    return float(np.mean(np.asarray(values)[idx]))


def classification_statistic(name: str) -> Statistic:
    """Statistic for one classification metric over (labels, probabilities) of one seed."""

    if name not in CLASSIFICATION_METRICS:
        raise ValueError(f"unknown classification metric {name!r}")

    def statistic(data, idx: np.ndarray) -> float:
        labels, prob = data
        y, p = np.asarray(labels)[idx], np.asarray(prob)[idx]
        # only what is asked for: the AUC's ranking is the costly part of a bootstrap
        return roc_auc(y, p) if name == "auc" else binary_rates(y, p >= 0.5)[name]

    return statistic


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ((nan, nan) with no trials)."""
    if trials == 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two raters over the same items (any hashable categories)."""
    a, b = list(a), list(b)
    if len(a) != len(b) or not a:
        raise ValueError("Cohen's kappa needs two equally long, non-empty rating lists")
    cats = sorted(set(a) | set(b), key=str)
    observed = np.mean([x == y for x, y in zip(a, b, strict=True)])
    expected = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in cats)
    return 1.0 if expected == 1 else float((observed - expected) / (1 - expected))


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an [items, categories] table of how many raters chose each category
    (every item rated by the same number of raters)."""
    counts = np.asarray(counts, float)
    n = counts.sum(axis=1)
    if counts.ndim != 2 or len(counts) == 0 or not np.all(n == n[0]) or n[0] < 2:
        raise ValueError("Fleiss' kappa needs every item rated by the same number (>= 2) of raters")
    r = n[0]
    p_item = ((counts * (counts - 1)).sum(axis=1)) / (r * (r - 1))
    p_cat = counts.sum(axis=0) / counts.sum()
    pe = float((p_cat**2).sum())
    return 1.0 if pe == 1 else float((p_item.mean() - pe) / (1 - pe))
