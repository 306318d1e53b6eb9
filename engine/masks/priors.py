"""Priors of the mask generator, fitted to real masks, saved as resources/masks/priors.json.

Fitted from BrEaST tumour masks with the radiologists' labels (shape, margin). BUSI masks are not
used: BUSI has no shape/margin labels and the attribute measurement (engine.language.measure) that
would label them did not exist when these priors were fitted; BUSI's smooth outlines would also make
masks too smooth against radiologists' hand-drawn ones.

What is fitted, and how:
  measured directly   shape and margin-class frequencies, size (longest diameter, mm), per-shape
                      aspect ratio, fraction wider than tall (BrEaST has no orientation column)
  searched            per shape the low-frequency deformation; per margin class the outline
                      roughness and the feature strengths (lobes, corners, spikes): a seeded random
                      search minimising the mean normalised Wasserstein distance between descriptors
                      of generated and real masks of that class
  fixed (not in a binary mask)  the indistinct band width, 8 % of the radius
Refit with `bus-engine masks --refit-priors`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import DataError

PRIORS_PATH = Path(__file__).resolve().parents[2] / "resources" / "masks" / "priors.json"
MARGIN_CLASSES = ("circumscribed", "indistinct", "microlobulated", "angular", "spiculated")
SHAPES = ("oval", "round", "irregular")
FIT_SEED = 0


@dataclass
class Priors:
    shape_frequency: dict  # shape -> count
    margin_frequency: dict  # shape -> {margin class -> count}
    size_mm: dict  # log_mean, log_sd of the longest diameter
    parallel_fraction: float
    orientation_sd_deg: float
    shapes: dict  # shape -> {"aspect": {log_mean, log_sd}, "low_amp": float}
    margins: dict  # margin class -> parameters (see DEFAULT_MARGIN)
    source: str = ""
    fit_loss: dict | None = None  # margin class -> mean normalised Wasserstein at the fitted values

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


# Starting values (and search ranges below) of the margin parameters; all lengths are fractions of
# the lesion's radius.
DEFAULT_MARGIN = {
    "rough": 0.02,
    "lobes": [8, 14],
    "lobe_amp": 0.08,
    "corners": [3, 5],
    "corner_amp": 0.15,
    "spikes": [5, 9],
    "spike_len": 0.35,
    "spike_width": 0.07,
    "band": 0.08,
}
SEARCH = {
    "circumscribed": {"rough": (0.0, 0.06)},
    "indistinct": {"rough": (0.0, 0.1)},
    # "micro": many small lobes, so the lobe count stays at 10 or more
    "microlobulated": {"rough": (0.0, 0.08), "lobe_amp": (0.03, 0.25), "lobes_mid": (12, 22)},
    "angular": {"rough": (0.0, 0.08), "corner_amp": (0.05, 0.4), "corners_mid": (3, 6)},
    "spiculated": {
        "rough": (0.0, 0.08),
        "spike_len": (0.15, 0.9),
        "spike_width": (0.03, 0.15),
        "spikes_mid": (3, 12),
    },
}


# the low-frequency deformation: oval and round stay near an ellipse, irregular is deformed
LOW_AMP_RANGE = {"oval": (0.0, 0.3), "round": (0.0, 0.3), "irregular": (0.1, 0.7)}


def load_priors(path: Path | None = None) -> Priors:
    return _load(str(path or PRIORS_PATH))


@lru_cache(maxsize=4)
def _load(path: str) -> Priors:
    p = Path(path)
    if not p.is_file():
        raise DataError(
            f"mask generator priors {p} not found; refit them with `bus-engine masks --refit-priors`"
        )
    try:
        return Priors(**json.loads(p.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as exc:
        raise DataError(f"mask generator priors {p} are not valid: {exc}") from exc


def save_priors(priors: Priors, path: Path | None = None) -> Path:
    path = Path(path or PRIORS_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(priors.to_json() + "\n")
    os.replace(tmp, path)
    _load.cache_clear()
    return path


@dataclass
class RealMask:
    case_id: str
    mask: np.ndarray
    shape: str
    margin: str  # margin class
    mm_per_pixel: float
    longest_mm: float
    descriptors: dict


def real_breast_masks(breast_root: Path) -> list[RealMask]:
    """BrEaST tumour masks with a shape label and a margin class (circumscribed or a subtype)."""
    from engine.contour.fit import traced_outline
    from engine.datasets import load_breast
    from engine.datasets.images import read_mask
    from engine.masks.descriptors import largest_region, shape_descriptors
    from engine.masks.generator import margin_class

    out = []
    for case in load_breast(breast_root).lesion_cases():
        d = case.description
        cls = margin_class(d.margin) if d else None
        if d is None or d.shape is None or cls is None:
            continue
        mask = read_mask(case.mask_paths[0])
        outline = traced_outline(largest_region(mask), smooth_px=0)
        longest = float(np.sqrt(((outline[:, None] - outline[None]) ** 2).sum(-1).max()))
        out.append(
            RealMask(
                case.case_id,
                mask,
                d.shape.value,
                cls,
                case.mm_per_pixel,
                longest * case.mm_per_pixel,
                shape_descriptors(mask),
            )
        )
    return out


def _lognormal(values) -> dict:
    logs = np.log(np.asarray(values, float))
    return {"log_mean": round(float(logs.mean()), 4), "log_sd": round(float(logs.std()), 4)}


def measured_priors(real: list[RealMask]) -> Priors:
    """The priors measured directly from real masks, with the searched parameters at their defaults."""
    shapes = {}
    for s in SHAPES:
        aspects = [r.descriptors["aspect_ratio"] for r in real if r.shape == s]
        # an ellipse's deformation adds a little elongation: start the searched aspect at the measured one
        shapes[s] = {
            "aspect": _lognormal(np.maximum(aspects, 1.0)),
            "low_amp": 0.1 if s == "irregular" else 0.03,
        }
    margin_frequency = {
        s: {c: sum(1 for r in real if r.shape == s and r.margin == c) for c in MARGIN_CLASSES} for s in SHAPES
    }
    return Priors(
        shape_frequency={s: sum(1 for r in real if r.shape == s) for s in SHAPES},
        margin_frequency=margin_frequency,
        size_mm=_lognormal([r.longest_mm for r in real]),
        parallel_fraction=round(float(np.mean([r.descriptors["width_height"] > 1 for r in real])), 4),
        orientation_sd_deg=12.0,
        shapes=shapes,
        margins={c: dict(DEFAULT_MARGIN) for c in MARGIN_CLASSES},
        source=f"BrEaST-Lesions_USG, {len(real)} labelled tumour masks (BUSI not used)",
    )


@dataclass
class Judge:
    """A classifier trained on all real masks for one task, and its held-out recall per class."""

    task: str
    classifier: object
    real_recall: dict


def make_judges(real: list[RealMask]) -> list[Judge]:
    from engine.masks.figures import (
        TASKS,
        LogisticClassifier,
        cross_validated_predictions,
        features,
        task_label,
    )

    judges = []
    for task in TASKS:
        chosen = [r for r in real if task_label(task, r.shape, r.margin) is not None]
        x = features([r.descriptors for r in chosen])
        y = [task_label(task, r.shape, r.margin) for r in chosen]
        held = cross_validated_predictions(x, y)
        recall = {c: float(np.mean([p == c for p, t in zip(held, y, strict=True) if t == c])) for c in set(y)}
        judges.append(Judge(task, LogisticClassifier().fit(x, y), recall))
    return judges


FIDELITY_WEIGHT = 2.0  # realism loss units per unit of recognition shortfall


def class_loss(
    priors: Priors,
    real: list[RealMask],
    shape: str | None,
    margin: str | None,
    n: int,
    seed: int,
    judges: list[Judge] = (),
):
    """Mean normalised Wasserstein distance between generated and real masks of one class, plus
    FIDELITY_WEIGHT times how far the judges recognise the generated masks' classes less often than
    they recognise held-out real masks of those classes."""
    from engine.masks.compare import normalized_wasserstein
    from engine.masks.descriptors import REALISM_DESCRIPTORS, shape_descriptors
    from engine.masks.figures import features, task_label
    from engine.masks.generator import description_for_class, generate_mask

    chosen = [
        r for r in real if (shape is None or r.shape == shape) and (margin is None or r.margin == margin)
    ]
    pooled_sd = np.array([np.std([r.descriptors[k] for r in real]) for k in REALISM_DESCRIPTORS])
    real_m = np.array([[r.descriptors[k] for k in REALISM_DESCRIPTORS] for r in chosen])
    rows, requests = [], []
    for i in range(n):
        r = chosen[i % len(chosen)]  # requests with the real class mix of shape and margin
        desc = description_for_class(r.shape, r.margin, size_mm=15.0)
        rows.append(
            shape_descriptors(generate_mask(desc, seed + i, 0.1, (256, 256), priors=priors, soft=False).mask)
        )
        requests.append((r.shape, r.margin))
    gen_m = np.array([[d[k] for k in REALISM_DESCRIPTORS] for d in rows])
    loss = float(normalized_wasserstein(real_m, gen_m, pooled_sd).mean())
    shortfall = 0.0
    for judge in judges:
        labels = [task_label(judge.task, *req) for req in requests]
        idx = [i for i, lab in enumerate(labels) if lab is not None]
        if not idx:
            continue
        pred = judge.classifier.predict(features([rows[i] for i in idx]))
        for cls in set(labels[i] for i in idx):
            hits = [p == cls for p, i in zip(pred, idx, strict=True) if labels[i] == cls]
            shortfall += len(hits) / len(idx) * max(0.0, judge.real_recall[cls] - float(np.mean(hits)))
    return loss + FIDELITY_WEIGHT * shortfall


def _with(priors: Priors, cls: str | None, shape: str | None, values: dict) -> Priors:
    margins = {k: dict(v) for k, v in priors.margins.items()}
    shapes = {k: dict(v) for k, v in priors.shapes.items()}
    for key, v in values.items():
        if key == "low_amp":
            shapes[shape]["low_amp"] = v
        elif key.endswith("_mid"):
            name = key[:-4]
            mid = int(round(v))
            margins[cls][name] = [max(1, mid - 2), mid + 2]
        else:
            margins[cls][key] = v
    return Priors(**{**asdict(priors), "margins": margins, "shapes": shapes})


def fit_priors(breast_root: Path, candidates: int = 24, n: int = 48, log=print) -> Priors:
    """Measure, then search the free parameters (seeded: the same data give the same priors)."""
    real = real_breast_masks(breast_root)
    if len(real) < 20:
        raise DataError(f"only {len(real)} labelled BrEaST masks under {breast_root}; need at least 20")
    priors = measured_priors(real)
    judges = make_judges(real)
    shape_judges = [j for j in judges if j.task == "shape"]
    margin_judges = [j for j in judges if j.task != "shape"]
    rng = np.random.default_rng(FIT_SEED)
    # per shape: low-frequency deformation, judged on all masks of that shape
    for shape in SHAPES:
        best = (class_loss(priors, real, shape, None, n, 1000, shape_judges), priors.shapes[shape]["low_amp"])
        for v in rng.uniform(*LOW_AMP_RANGE[shape], candidates // 2):
            trial = _with(priors, None, shape, {"low_amp": float(v)})
            loss = class_loss(trial, real, shape, None, n, 1000, shape_judges)
            if loss < best[0]:
                best = (loss, float(v))
        priors = _with(priors, None, shape, {"low_amp": round(best[1], 4)})
        log(f"shape {shape:9s} low_amp {best[1]:.3f}  loss {best[0]:.3f}")
    losses = {}
    for cls, ranges in SEARCH.items():
        best_values, best_loss = {}, class_loss(priors, real, None, cls, n, 2000, margin_judges)
        for _ in range(candidates):
            values = {k: float(rng.uniform(*r)) for k, r in ranges.items()}
            loss = class_loss(_with(priors, cls, None, values), real, None, cls, n, 2000, margin_judges)
            if loss < best_loss:
                best_values, best_loss = values, loss
        priors = _with(priors, cls, None, {k: round(v, 4) for k, v in best_values.items()})
        losses[cls] = round(best_loss, 4)
        log(f"margin {cls:14s} {priors.margins[cls]}  loss {best_loss:.3f}")
    priors.fit_loss = losses
    return priors
