"""The four figures of the mask generator (issue 5), computed against real BrEaST masks.

1 fidelity   classifiers trained only on real masks' descriptors (5-fold cross-validated) recognise
             each requested class in generated masks at least as often as on held-out real masks
2 realism    mean normalised Wasserstein distance of descriptors, ours vs the tuned elastic ellipse
3 diversity  mean pairwise IoU (centred, scaled) of 1,000 generated masks vs the real masks
4 speed      masks per second at 256x256 on one core, ours and the baseline in the same run
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from engine.masks.baseline import elastic_ellipse, tune_elastic
from engine.masks.compare import descriptor_matrix, mean_pairwise_iou, normalized_wasserstein
from engine.masks.descriptors import REALISM_DESCRIPTORS
from engine.masks.generator import description_for_class, generate_mask, generate_masks
from engine.masks.priors import MARGIN_CLASSES, SHAPES, Priors, RealMask

CLASSIFIER_FEATURES = REALISM_DESCRIPTORS + ("width_height",)
_LOG_FEATURES = {
    "concavities",
    "curvature_energy",
    "fourier_low",
    "fourier_high",
    "aspect_ratio",
    "width_height",
}
SUBTYPES = ("indistinct", "microlobulated", "angular", "spiculated")


def features(desc_rows: list[dict]) -> np.ndarray:
    cols = []
    for k in CLASSIFIER_FEATURES:
        v = np.array([d[k] for d in desc_rows], float)
        cols.append(np.log(v + 1e-3) if k in _LOG_FEATURES else v)
    return np.stack(cols, axis=1)


@dataclass
class LogisticClassifier:
    """Multinomial logistic regression with L2 penalty and class-balanced weights (numpy + scipy)."""

    l2: float = 1.0
    mean: np.ndarray = None
    sd: np.ndarray = None
    w: np.ndarray = None
    classes: list = field(default_factory=list)

    def fit(self, x: np.ndarray, y: list) -> LogisticClassifier:
        self.classes = sorted(set(y))
        yi = np.array([self.classes.index(v) for v in y])
        self.mean, self.sd = x.mean(0), x.std(0) + 1e-9
        z = np.hstack([(x - self.mean) / self.sd, np.ones((len(x), 1))])
        k = len(self.classes)
        counts = np.bincount(yi, minlength=k)
        weight = (len(yi) / (k * counts))[yi]
        onehot = np.eye(k)[yi]

        def loss(flat):
            w = flat.reshape(z.shape[1], k)
            logits = z @ w
            logits -= logits.max(1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            nll = -(weight * (onehot * logp).sum(1)).sum() / weight.sum()
            p = np.exp(logp)
            grad = z.T @ (weight[:, None] * (p - onehot)) / weight.sum()
            reg = np.ones_like(w)
            reg[-1] = 0  # no penalty on the bias
            return nll + 0.5 * self.l2 * (reg * w * w).sum() / len(z), (
                grad + self.l2 * reg * w / len(z)
            ).ravel()

        self.w = minimize(loss, np.zeros(z.shape[1] * k), jac=True, method="L-BFGS-B").x.reshape(
            z.shape[1], k
        )
        return self

    def predict(self, x: np.ndarray) -> list:
        z = np.hstack([(x - self.mean) / self.sd, np.ones((len(x), 1))])
        return [self.classes[i] for i in np.argmax(z @ self.w, axis=1)]


def cross_validated_predictions(x: np.ndarray, y: list, folds: int = 5, seed: int = 0) -> list:
    """Held-out predictions: stratified folds, seeded."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), int)
    for cls in sorted(set(y)):
        idx = np.flatnonzero(np.array(y) == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    pred = [None] * len(y)
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        clf = LogisticClassifier().fit(x[train], [y[i] for i in np.flatnonzero(train)])
        for i, p in zip(np.flatnonzero(test), clf.predict(x[test]), strict=True):
            pred[i] = p
    return pred


# --- tasks: how each real mask is labelled, and how to request each class ------------------------
TASKS = ("shape", "circumscribed", "spiculated", "subtype")


def task_label(task: str, shape: str, margin: str):
    """The class of a mask with this shape and margin class in one task (None: not in the task)."""
    if task == "shape":
        return shape
    if task == "circumscribed":
        return "circumscribed" if margin == "circumscribed" else "not circumscribed"
    if task == "spiculated":
        return "spiculated" if margin == "spiculated" else "not spiculated"
    if task == "subtype":
        return margin if margin in SUBTYPES else None
    raise ValueError(task)


def _task_label(task: str, r: RealMask):
    return task_label(task, r.shape, r.margin)


def _request(task: str, cls: str, rng: np.random.Generator, priors: Priors):
    """(shape, margin class) of one generated request for `cls`, drawn with the real masks' mix of
    (shape, margin) pairs within that class (as realism and diversity request), so generated and
    held-out real masks of a class are compared like for like."""
    # sorted keys: the same draws whatever the dict order (JSON-loaded and freshly fitted priors differ)
    pairs = [
        (s, m, priors.margin_frequency[s][m])
        for s in sorted(priors.margin_frequency)
        for m in sorted(priors.margin_frequency[s])
        if priors.margin_frequency[s][m] > 0 and task_label(task, s, m) == cls
    ]
    p = np.array([c for _, _, c in pairs], float)
    s, m, _ = pairs[rng.choice(len(pairs), p=p / p.sum())]
    return s, m


BATCH = 64  # masks per generate_masks call: large enough to share the array passes, small enough for cache


def _generated_many(pairs, seeds, priors) -> list[np.ndarray]:
    """Masks of (shape, margin class) requests, by the batch path (the same masks as _generated)."""
    descs = [description_for_class(shape, margin, size_mm=15.0) for shape, margin in pairs]
    seeds = list(seeds)
    out = []
    for i in range(0, len(descs), BATCH):
        got = generate_masks(
            descs[i : i + BATCH], seeds[i : i + BATCH], 0.1, (256, 256), priors=priors, soft=False
        )
        out.extend(g.mask for g in got)
    return out


def fidelity(real: list[RealMask], priors: Priors, n: int = 200, log=print) -> list[dict]:
    rows = []
    for t_i, task in enumerate(TASKS):
        chosen = [r for r in real if _task_label(task, r) is not None]
        x = features([r.descriptors for r in chosen])
        y = [_task_label(task, r) for r in chosen]
        held_out = cross_validated_predictions(x, y)
        accuracy = float(np.mean([a == b for a, b in zip(held_out, y, strict=True)]))
        clf = LogisticClassifier().fit(x, y)
        rng = np.random.default_rng(100 + t_i)
        for c_i, cls in enumerate(sorted(set(y))):
            real_recall = float(np.mean([p == cls for p, t in zip(held_out, y, strict=True) if t == cls]))
            pairs = [_request(task, cls, rng, priors) for _ in range(n)]
            masks = _generated_many(pairs, [10_000 * (t_i + 1) + 1000 * c_i + i for i in range(n)], priors)
            from engine.masks.descriptors import shape_descriptors

            gen_pred = clf.predict(features([shape_descriptors(m) for m in masks]))
            gen_rate = float(np.mean([p == cls for p in gen_pred]))
            row = {
                "task": task,
                "class": cls,
                "real_n": y.count(cls),
                "cv_accuracy": accuracy,
                "real_recall": real_recall,
                "generated_recognised": gen_rate,
                "pass": gen_rate >= real_recall,
            }
            rows.append(row)
            log(
                f"  {task:13s} {cls:18s} real n={row['real_n']:3d} held-out recall {real_recall:.2f}  "
                f"generated recognised {gen_rate:.2f}  {'ok' if row['pass'] else 'BELOW'}   "
                f"(task accuracy {accuracy:.2f})"
            )
    return rows


def _class_members(real, kind, cls):
    return [r for r in real if (r.shape if kind == "shape" else r.margin) == cls]


def realism(real: list[RealMask], priors: Priors, n: int = 150, log=print) -> list[dict]:
    pooled_sd = np.array([np.std([r.descriptors[k] for r in real]) for k in REALISM_DESCRIPTORS])
    rows = []
    classes = [("margin", c) for c in MARGIN_CLASSES] + [("shape", s) for s in SHAPES]
    for k_i, (kind, cls) in enumerate(classes):
        members = _class_members(real, kind, cls)
        if len(members) < 5:
            continue
        real_m = np.array([[r.descriptors[k] for k in REALISM_DESCRIPTORS] for r in members])
        ours_masks = _generated_many(
            [(members[i % len(members)].shape, members[i % len(members)].margin) for i in range(n)],
            [50_000 + 1000 * k_i + i for i in range(n)],
            priors,
        )
        ours = normalized_wasserstein(real_m, descriptor_matrix(ours_masks), pooled_sd)

        def baseline_loss(e, count=n // 3, members=members, real_m=real_m, k_i=k_i):
            masks = [
                elastic_ellipse(members[i % len(members)].shape, 70_000 + 1000 * k_i + i, priors, e)
                for i in range(count)
            ]
            return float(normalized_wasserstein(real_m, descriptor_matrix(masks), pooled_sd).mean())

        best, _ = tune_elastic(baseline_loss)
        base_masks = [
            elastic_ellipse(members[i % len(members)].shape, 90_000 + 1000 * k_i + i, priors, best)
            for i in range(n)
        ]
        base = normalized_wasserstein(real_m, descriptor_matrix(base_masks), pooled_sd)
        row = {
            "kind": kind,
            "class": cls,
            "real_n": len(members),
            "ours": float(ours.mean()),
            "baseline": float(base.mean()),
            "baseline_alpha": best.alpha,
            "baseline_sigma": best.sigma,
            "ours_per_descriptor": dict(zip(REALISM_DESCRIPTORS, ours.round(3).tolist(), strict=True)),
            "baseline_per_descriptor": dict(zip(REALISM_DESCRIPTORS, base.round(3).tolist(), strict=True)),
        }
        rows.append(row)
        log(
            f"  {kind:6s} {cls:15s} real n={len(members):3d}  ours {row['ours']:.3f}  baseline {row['baseline']:.3f} "
            f"(alpha {best.alpha}, sigma {best.sigma})  {'ok' if row['ours'] < row['baseline'] else 'WORSE'}"
        )
    return rows


def diversity(real: list[RealMask], priors: Priors, n: int = 1000, log=print) -> list[dict]:
    rows = []
    classes = [("margin", c) for c in MARGIN_CLASSES] + [("shape", s) for s in SHAPES]
    for k_i, (kind, cls) in enumerate(classes):
        members = _class_members(real, kind, cls)
        if len(members) < 5:
            continue
        real_iou = mean_pairwise_iou([r.mask for r in members])
        masks = _generated_many(
            [(members[i % len(members)].shape, members[i % len(members)].margin) for i in range(n)],
            [200_000 + 10_000 * k_i + i for i in range(n)],
            priors,
        )
        gen_iou = mean_pairwise_iou(masks)
        rows.append(
            {
                "kind": kind,
                "class": cls,
                "real_n": len(members),
                "real_iou": real_iou,
                "generated_iou": gen_iou,
                "pass": gen_iou <= real_iou,
            }
        )
        log(
            f"  {kind:6s} {cls:15s} real n={len(members):3d} IoU {real_iou:.3f}   generated (n={n}) {gen_iou:.3f}  {'ok' if gen_iou <= real_iou else 'HIGHER'}"
        )
    return rows


def speed(priors: Priors, seconds: float = 3.0, log=print) -> dict:
    """Masks per second at 256x256 in this one process (numpy and OpenCV held to one thread)."""
    import cv2

    cv2.setNumThreads(1)
    from engine.language.description import LesionDescription

    requests = [
        description_for_class(s, m, size_mm=15.0) for s in ("oval", "irregular") for m in MARGIN_CLASSES
    ]
    requests.append(LesionDescription())

    def rate(make):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            make(count)
            count += 1
        return count / (time.perf_counter() - start)

    single = rate(lambda i: generate_mask(requests[i % len(requests)], i, 0.1, (256, 256), priors=priors))
    batch = [requests[i % len(requests)] for i in range(BATCH)]
    # generate_masks: BATCH masks per call (the rate counts masks, not calls)
    ours = BATCH * rate(
        lambda i: generate_masks(batch, range(i * BATCH, (i + 1) * BATCH), 0.1, (256, 256), priors=priors)
    )
    from engine.masks.baseline import Elastic

    base = rate(lambda i: elastic_ellipse("oval", i, priors, Elastic(6.0, 8.0)))
    log(
        f"  ours {ours:.0f} masks/s (generate_masks, {BATCH} a call; one at a time {single:.0f})   "
        f"elastic-ellipse baseline {base:.0f} masks/s   ratio {ours / base:.1f}x"
    )
    return {"ours_per_s": ours, "single_per_s": single, "baseline_per_s": base, "ratio": ours / base}
