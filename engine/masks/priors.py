"""Priors of the mask generator, fitted to real masks, saved as resources/masks/priors.json.

Fitted from BrEaST tumour masks with the radiologists' labels (shape, margin). BUSI masks are not
used: BUSI has no shape/margin labels and BUSI's smooth outlines would make masks too smooth against
radiologists' hand-drawn ones.

What is fitted, and how:
  measured directly   shape and margin-class frequencies, size (longest diameter, mm), per-shape
                      aspect ratio (used by the elastic-ellipse baseline), fraction wider than tall
  outline spectrum    per (shape, margin class): the distribution of the radial log-radius Fourier
                      amplitudes of real outlines (harmonics 1..SPECTRUM_HARMONICS, after aligning
                      the major axis): mean log-amplitude and a shrunk covariance (its Cholesky
                      factor). Pairs with fewer than MIN_GROUP real masks take harmonics 1..LOW_SPLIT
                      (the body) from all masks of the shape and the rest (the margin) from all masks
                      of the margin class. The mean is then calibrated: masks generated from the
                      spectrum are measured the same way and the mean moved by the difference, so
                      the generated spectra (and with them the descriptors) match the real ones.
  fixed, not fitted   the indistinct band width (8 % of the radius: not in a binary mask); angular:
                      3-6 corners (tension 1 at the most prominent maxima); spiculated: 4-8 spikes of
                      ~0.2 radius (chosen by eye against the descriptors); SPREAD, the factor on the
                      covariance's Cholesky factor (0.85: draws a little more typical than real masks,
                      a trade of diversity for fidelity); per-shape orientation spread is measured
Refit with `bus-engine masks --refit-priors`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import DataError

PRIORS_PATH = Path(__file__).resolve().parents[2] / "resources" / "masks" / "priors.json"
MARGIN_CLASSES = ("circumscribed", "indistinct", "microlobulated", "angular", "spiculated")
SHAPES = ("oval", "round", "irregular")
FIT_SEED = 0


SPECTRUM_HARMONICS = 32  # harmonics of the log-radius: the body, the margin and the hand-drawn roughness
RADIAL_SAMPLES = 128  # rays of the radial profile
MIN_GROUP = 8  # real masks a (shape, margin) pair needs for a spectrum of its own
LOW_SPLIT = 5  # harmonics 1..5 are the body (shape); the rest carry the margin
COVARIANCE_SHRINK = 0.3  # towards the diagonal: stable with 15-40 masks per pair
CALIBRATION_ROUNDS = 3


@dataclass
class Priors:
    shape_frequency: dict  # shape -> count
    margin_frequency: dict  # shape -> {margin class -> count}
    size_mm: dict  # log_mean, log_sd of the longest diameter
    parallel_fraction: float
    orientation_sd_deg: float
    shapes: dict  # shape -> {"aspect": {log_mean, log_sd}}
    margins: dict  # margin class -> {"band": fraction of radius, "corners": [lo, hi] tension-1 tips}
    spectra: dict = field(default_factory=dict)  # "shape/margin" -> {"mean": [K], "chol": [[K]], "n": int}
    source: str = ""
    fit_loss: dict | None = None  # class -> mean normalised Wasserstein at the fitted priors
    _arrays: dict = field(default_factory=dict, repr=False, compare=False)

    def spectrum(self, shape: str, margin: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean log-amplitudes (K,) and Cholesky factor (K, K) of the outline spectrum of a pair."""
        key = f"{shape}/{margin}"
        got = self._arrays.get(key)
        if got is None:
            if key not in self.spectra:
                raise DataError(f"the mask priors have no outline spectrum for {key}; refit them")
            entry = self.spectra[key]
            got = (np.asarray(entry["mean"], float), np.asarray(entry["chol"], float))
            self._arrays[key] = got
        return got

    def to_json(self) -> str:
        d = asdict(self)
        d.pop("_arrays")
        return json.dumps(d, indent=1, sort_keys=True)


DEFAULT_MARGIN = {"band": 0.08}
CORNERS = {"angular": [3, 6]}
SPIKES = {"spikes": [3, 6], "spike_len": 0.15}  # count and mean length (fraction of the radius)
EXAGGERATION = 1.0
SPREAD = 0.85  # draws stay a little nearer each class's typical spectrum than the real spread


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


def radial_log_amplitudes(mask: np.ndarray, harmonics: int = SPECTRUM_HARMONICS) -> np.ndarray:
    """Log-amplitudes of harmonics 1..`harmonics` of the outline's radius around its centre, measured
    as the shape descriptors measure it (evenly spaced, lightly smoothed outline after scaling to the
    reference radius), so matching these matches the descriptors' radial Fourier energies."""
    from engine.masks.descriptors import (
        BOUNDARY_SAMPLES,
        _smooth_closed,
        boundary,
        normalized_mask,
        resample_closed,
    )

    outline = _smooth_closed(
        resample_closed(boundary(normalized_mask(np.asarray(mask, bool))), BOUNDARY_SAMPLES), 3.0
    )
    r = np.hypot(*(outline - outline.mean(axis=0)).T)
    spec = np.fft.rfft(np.log(r / r.mean())) / BOUNDARY_SAMPLES * 2
    return np.log(np.abs(spec[1 : harmonics + 1]) + 1e-5)


def _orientation_sd(real: list[RealMask]) -> float | None:
    """RMS angle (degrees) between the major axis and the nearer image axis, over elongated masks
    (aspect > 1.3: the axis of a near-round mask is noise); None with fewer than 5 of them."""
    angles = np.array([r.descriptors["orientation_deg"] for r in real if r.descriptors["aspect_ratio"] > 1.3])
    if angles.size < 5:
        return None
    off = np.minimum(angles, 90 - angles)
    return round(float(np.sqrt((off**2).mean())), 2)


def _spectrum_entry(logamps: np.ndarray) -> dict:
    mean = logamps.mean(0)
    cov = np.cov(logamps.T) if len(logamps) > 2 else np.diag(np.full(mean.size, 0.1))
    cov = (1 - COVARIANCE_SHRINK) * cov + COVARIANCE_SHRINK * np.diag(np.diag(cov)) + 1e-6 * np.eye(mean.size)
    return {"mean": mean, "cov": cov, "n": len(logamps)}


def _mixed_entry(body: dict, margin: dict) -> dict:
    s = LOW_SPLIT
    cov = np.zeros_like(body["cov"])
    cov[:s, :s], cov[s:, s:] = body["cov"][:s, :s], margin["cov"][s:, s:]
    return {"mean": np.concatenate([body["mean"][:s], margin["mean"][s:]]), "cov": cov, "n": 0}


def measured_priors(real: list[RealMask]) -> Priors:
    """The priors measured directly from real masks: frequencies, sizes and the outline spectra."""
    shapes = {
        s: {
            "aspect": _lognormal(
                np.maximum([r.descriptors["aspect_ratio"] for r in real if r.shape == s], 1.0)
            )
        }
        for s in SHAPES
    }
    margin_frequency = {
        s: {c: sum(1 for r in real if r.shape == s and r.margin == c) for c in MARGIN_CLASSES} for s in SHAPES
    }
    for s in SHAPES:
        shapes[s]["orientation_sd_deg"] = _orientation_sd(
            [r for r in real if r.shape == s]
        ) or _orientation_sd(real)
    logamps = np.array([radial_log_amplitudes(r.mask) for r in real])
    by_shape = {s: _spectrum_entry(logamps[[r.shape == s for r in real]]) for s in SHAPES}
    by_margin = {c: _spectrum_entry(logamps[[r.margin == c for r in real]]) for c in MARGIN_CLASSES}
    spectra = {}
    for s in SHAPES:
        for c in MARGIN_CLASSES:
            pick = [r.shape == s and r.margin == c for r in real]
            spectra[f"{s}/{c}"] = (
                _spectrum_entry(logamps[pick])
                if sum(pick) >= MIN_GROUP
                else _mixed_entry(by_shape[s], by_margin[c])
            )
    margins = {c: {**DEFAULT_MARGIN, "corners": CORNERS.get(c)} for c in MARGIN_CLASSES}
    margins["spiculated"].update(SPIKES)
    priors = Priors(
        shape_frequency={s: sum(1 for r in real if r.shape == s) for s in SHAPES},
        margin_frequency=margin_frequency,
        size_mm=_lognormal([r.longest_mm for r in real]),
        parallel_fraction=round(float(np.mean([r.descriptors["width_height"] > 1 for r in real])), 4),
        orientation_sd_deg=12.0,
        shapes=shapes,
        margins=margins,
        source=f"BrEaST-Lesions_USG, {len(real)} labelled tumour masks (BUSI not used)",
    )
    # each pair's typical spectrum moved EXAGGERATION times as far from the all-mask mean: what sets a
    # class apart is a little clearer than in single real masks, whose labels are noisy
    overall = logamps.mean(0)
    priors.spectra = {
        k: _stored(overall + EXAGGERATION * (v["mean"] - overall), v["cov"], v["n"])
        for k, v in spectra.items()
    }
    return priors


def _stored(mean: np.ndarray, cov: np.ndarray, n: int) -> dict:
    chol = SPREAD * np.linalg.cholesky(cov)
    return {
        "mean": [round(float(v), 5) for v in mean],
        "chol": [[round(float(v), 5) for v in row] for row in chol],
        "n": int(n),
    }


def calibrate(
    priors: Priors, targets: dict, n: int = 48, rounds: int = CALIBRATION_ROUNDS, log=print
) -> Priors:
    """Move each pair's mean log-amplitudes by (real - generated, both measured by
    radial_log_amplitudes), so the spectra of generated masks match the real ones."""
    from engine.masks.generator import description_for_class, generate_mask

    for key, target in targets.items():
        shape, margin = key.split("/")
        for _ in range(rounds):
            desc = description_for_class(shape, margin, size_mm=15.0)
            measured = np.array(
                [
                    radial_log_amplitudes(
                        generate_mask(desc, 3000 + i, 0.1, (256, 256), priors=priors, soft=False).mask
                    )
                    for i in range(n)
                ]
            ).mean(0)
            entry = priors.spectra[key]
            entry["mean"] = [
                round(float(m + t - g), 5) for m, t, g in zip(entry["mean"], target, measured, strict=True)
            ]
            priors._arrays.pop(key, None)
        log(f"calibrated {key:26s} residual {np.abs(np.asarray(target) - measured).mean():.3f}")
    return priors


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


def fit_priors(breast_root: Path, n: int = 48, log=print) -> Priors:
    """Measure, then calibrate the spectra (seeded: the same data give the same priors)."""
    real = real_breast_masks(breast_root)
    if len(real) < 20:
        raise DataError(f"only {len(real)} labelled BrEaST masks under {breast_root}; need at least 20")
    priors = measured_priors(real)
    targets = {k: list(v["mean"]) for k, v in priors.spectra.items()}
    priors = calibrate(priors, targets, n=n, log=log)
    priors.fit_loss = {c: round(class_loss(priors, real, None, c, n, 2000), 4) for c in MARGIN_CLASSES}
    log(f"fit loss (mean normalised Wasserstein per margin class): {priors.fit_loss}")
    return priors
