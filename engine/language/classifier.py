"""A small class-balanced, L2-regularised multinomial logistic regression in numpy/scipy.

Class-balanced: every class weighs the same in the loss, since balanced accuracy is what we are
judged on and the radiologists' labels are skewed (e.g. 15 round against 140 irregular). Features
are standardised with the training set's mean and spread, stored with the weights, so a fitted
model is a plain dict that round-trips through JSON. `EnsembleModel` pools logistic models fitted on
several views (feature subsets) of one task, for a task whose single models swing with the split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax


@dataclass
class LogisticModel:
    classes: list[str]
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # [n_features + 1, n_classes], last row the bias
    l2: float

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return softmax(z @ self.weights[:-1] + self.weights[-1], axis=1)

    def predict(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(x).argmax(axis=1)]

    def to_dict(self) -> dict:
        return {
            "classes": self.classes,
            "features": self.features,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "l2": self.l2,
        }

    @classmethod
    def from_dict(cls, d: dict) -> LogisticModel:
        return cls(
            list(d["classes"]),
            list(d["features"]),
            np.asarray(d["mean"], float),
            np.asarray(d["scale"], float),
            np.asarray(d["weights"], float),
            float(d["l2"]),
        )


@dataclass
class EnsembleModel:
    """Logistic models of one task on several views (feature subsets). Its probabilities are the
    members' normalised geometric mean (softmax of the mean log-probability): a view that is sure
    and wrong is damped by the others. Rows given to it have the columns `features` (which hold
    every member's features); each member reads its own."""

    features: list[str]
    members: list[LogisticModel]

    def __post_init__(self) -> None:
        if not self.members or any(m.classes != self.members[0].classes for m in self.members):
            raise ValueError("an ensemble needs at least one member, all with the same classes")
        missing = {n for m in self.members for n in m.features} - set(self.features)
        if missing:
            raise ValueError(f"ensemble features lack {sorted(missing)}")

    @property
    def classes(self) -> list[str]:
        return self.members[0].classes

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        column = {n: i for i, n in enumerate(self.features)}
        logp = [np.log(m.predict_proba(x[:, [column[n] for n in m.features]]) + 1e-300) for m in self.members]
        return softmax(np.mean(logp, axis=0), axis=1)

    def predict(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(x).argmax(axis=1)]

    def to_dict(self) -> dict:
        return {"features": self.features, "members": [m.to_dict() for m in self.members]}

    @classmethod
    def from_dict(cls, d: dict) -> EnsembleModel:
        return cls(list(d["features"]), [LogisticModel.from_dict(m) for m in d["members"]])


def model_from_dict(d: dict) -> LogisticModel | EnsembleModel:
    return EnsembleModel.from_dict(d) if "members" in d else LogisticModel.from_dict(d)


def fit_logistic(x: np.ndarray, labels: list[str], features: list[str], l2: float = 1.0) -> LogisticModel:
    """Fit on rows `x` [n, f]; deterministic (zero start, L-BFGS)."""
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    n, f = x.shape
    k = len(classes)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((n, 1))])
    onehot = np.eye(k)[y]
    counts = onehot.sum(axis=0)
    sample_w = (n / (k * counts))[y] / n  # class-balanced, mean weight 1/n
    penalty = np.ones((f + 1, 1))
    penalty[-1] = 0.0  # no penalty on the bias

    def loss(flat: np.ndarray):
        w = flat.reshape(f + 1, k)
        logits = z @ w
        logp = log_softmax(logits, axis=1)
        value = -(sample_w * (onehot * logp).sum(axis=1)).sum() + 0.5 * l2 / n * (penalty * w**2).sum()
        grad = z.T @ (sample_w[:, None] * (np.exp(logp) - onehot)) + l2 / n * penalty * w
        return value, grad.ravel()

    res = minimize(loss, np.zeros((f + 1) * k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return LogisticModel(classes, list(features), mean, scale, res.x.reshape(f + 1, k), l2)


def balanced_accuracy(truth: list[str], predicted: list[str]) -> float:
    classes = sorted(set(truth))
    recalls = [np.mean([p == c for t, p in zip(truth, predicted, strict=True) if t == c]) for c in classes]
    return float(np.mean(recalls))


def confusion_matrix(truth: list[str], predicted: list[str], classes: list[str]) -> np.ndarray:
    m = np.zeros((len(classes), len(classes)), int)
    for t, p in zip(truth, predicted, strict=True):
        m[classes.index(t), classes.index(p)] += 1
    return m
