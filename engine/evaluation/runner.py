"""The downstream protocol: train segmentation and classification models on (a) real, (b) real plus
synthetic and (c) synthetic images, for several seeds, and test them in-domain (held-out patients of
the training dataset) and on other datasets.

    results = run_evaluation(EvaluationConfig.for_protocol("reduced", train="busi", test=["breast"],
                                                           out=Path("out/eval"), synthetic=200))
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from engine.datasets import DatasetIndex, load_dataset
from engine.errors import DataError, InputError
from engine.evaluation import metrics
from engine.evaluation.arrays import ArraySet, concatenate, from_arrays, load_cases
from engine.evaluation.protocol import ARMS, EvaluationConfig
from engine.evaluation.splits import group_split

# Dataset names understood by --train/--test, as folders under the data root.
KNOWN = {
    "busi": "bus/BUSI",
    "breast": "bus/BrEaST-Lesions_USG",
    "busbra": "bus/BUS-BRA",
    "udiat": "bus/UDIAT",
}


def resolve_dataset(spec: str) -> DatasetIndex:
    """A dataset folder (format detected), or one of KNOWN's names under the data root."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return load_dataset(path)
    if spec.lower() in KNOWN:
        from engine.settings import get_settings

        root = get_settings().data_root / KNOWN[spec.lower()]
        if not root.is_dir():
            raise DataError(f"dataset {spec!r}: {root} not found (set BUS_DATA_ROOT or give a folder)")
        return load_dataset(root)
    raise DataError(f"dataset {spec!r} is neither a folder nor one of: {', '.join(KNOWN)}")


def dataset_name(index: DatasetIndex) -> str:
    """The format's name for public sets ('busi'); a generic folder goes by its folder's name."""
    return Path(index.root).name if index.name == "folder" else index.name


def _progress(enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return partial(tqdm, desc=desc, file=sys.stderr, leave=False)


def _limited(cases, limit):
    """At most `limit` cases, the first ones of each label in case-id order (no randomness: a dry
    run sees the same images every time)."""
    cases = sorted(cases, key=lambda c: (c.label, c.case_id))
    if limit is None or len(cases) <= limit:
        return cases
    labels = sorted({c.label for c in cases})
    per = max(1, limit // len(labels))
    return [c for lab in labels for c in [c for c in cases if c.label == lab][:per]]


def distance_unit(test: ArraySet) -> str:
    """HD95's unit on a test set: mm when every image has a pixel size (BrEaST's clinical table,
    calibrated folders), else pixels at the model's resolution (BUSI has no pixel size)."""
    return "mm" if test.calibrated else "px"


def _tested(seg, clf, test: ArraySet) -> dict:
    from engine.evaluation.training import predict_malignancy, predict_masks

    pred = predict_masks(seg, test.images)
    spacing = test.spacing if distance_unit(test) == "mm" else np.ones((len(test), 2))
    return {
        "dice": [metrics.dice(p, t) for p, t in zip(pred, test.masks, strict=True)],
        "iou": [metrics.iou(p, t) for p, t in zip(pred, test.masks, strict=True)],
        "hd95": [metrics.hd95(p, t, tuple(s)) for p, t, s in zip(pred, test.masks, spacing, strict=True)],
        "probability": predict_malignancy(clf, test.images).tolist(),
    }


def summarize(raw: dict, labels: dict, resamples: int) -> tuple[dict, dict]:
    """Estimates per arm, test set and metric, and paired comparisons of (b) against (a)."""
    estimates: dict = {}
    for arm, per_test in raw.items():
        for test, per_seed in per_test.items():
            n = len(labels[test])
            for m in metrics.SEGMENTATION_METRICS:
                est = metrics.bootstrap([np.asarray(s[m]) for s in per_seed], n, metrics.mean_of, resamples)
                estimates.setdefault(arm, {}).setdefault(test, {})[m] = est
            data = [(labels[test], np.asarray(s["probability"])) for s in per_seed]
            for m in metrics.CLASSIFICATION_METRICS:
                est = metrics.bootstrap(data, n, metrics.classification_statistic(m), resamples)
                estimates[arm][test][m] = est
    comparisons: dict = {}
    if "real" in raw and "real+synthetic" in raw:
        for test in raw["real"]:
            n = len(labels[test])
            a, b = raw["real"][test], raw["real+synthetic"][test]
            for m in metrics.SEGMENTATION_METRICS:
                comparisons.setdefault(test, {})[m] = metrics.paired_bootstrap(
                    [np.asarray(s[m]) for s in a],
                    [np.asarray(s[m]) for s in b],
                    n,
                    metrics.mean_of,
                    resamples,
                )
            for m in metrics.CLASSIFICATION_METRICS:
                comparisons[test][m] = metrics.paired_bootstrap(
                    [(labels[test], np.asarray(s["probability"])) for s in a],
                    [(labels[test], np.asarray(s["probability"])) for s in b],
                    n,
                    metrics.classification_statistic(m),
                    resamples,
                )
    return estimates, comparisons


def _synthetic_set(cfg: EvaluationConfig, train_index: DatasetIndex, device: str, log, progress: bool):
    """(items, how they were obtained): from the cache folder when cfg.synthetic_cache is set."""
    from engine.evaluation.synthetic import build_synthetic_set
    from engine.evaluation.synthetic_cache import cached_synthetic_set

    canvas_index = resolve_dataset(cfg.canvases) if cfg.canvases else train_index
    canvases = _limited([c for c in canvas_index.cases if not c.has_lesion], cfg.limit)
    log(
        f"synthetic: {cfg.synthetic} images with the {cfg.generator} generator on {len(canvases)} "
        f"{canvas_index.name} canvases"
    )
    args = (canvases, cfg.synthetic, cfg.synthetic_seed, cfg.generator, cfg.model_dir, cfg.canvas_px)
    bar = _progress(progress, "synthesize")
    backend = "torch-cuda" if device == "cuda" else "torch-cpu"
    if cfg.synthetic_cache is None:
        items = build_synthetic_set(*args, bar, backend=backend)
        return items, {"cache": None, "made": cfg.synthetic}
    items, report = cached_synthetic_set(*args, bar, backend=backend, root=cfg.synthetic_cache)
    log(f"synthetic cache {report.folder}: {report.reused} reused, {report.made} made")
    return items, {"cache": report.to_dict(), "made": report.made}


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not on every platform
        return None


def run_evaluation(cfg: EvaluationConfig, log=print, progress: bool = True) -> dict:
    """Train and test every arm for every seed; write the report folder; return the results."""
    from engine.evaluation.report import write_report
    from engine.evaluation.synthetic import write_synthetic_set
    from engine.evaluation.training import resolve_device, train_classifier, train_segmentation

    if cfg.seeds < 1:
        raise InputError(f"--seeds {cfg.seeds} must be at least 1 (3 or more for intervals over seeds)")
    if cfg.synthetic < 0:
        raise InputError(f"--synthetic {cfg.synthetic} must be 0 (real images only) or more")
    device = resolve_device(cfg.device)
    started = time.perf_counter()
    load_start = _load_average()
    seconds: dict[str, float] = {}
    train_index = resolve_dataset(cfg.train)
    lesions = _limited(train_index.lesion_cases(), cfg.limit)
    train_cases, heldout = group_split(lesions, cfg.test_fraction, cfg.split_seed)
    log(
        f"train {dataset_name(train_index)}: {len(train_cases)} images for training, {len(heldout)} held out "
        f"({len({c.patient_id for c in heldout})} patients)"
    )
    train_set = load_cases(
        dataset_name(train_index), train_cases, cfg.size, _progress(progress, "read train")
    )
    tests = {f"{dataset_name(train_index)} (held-out)": load_cases("held-out", heldout, cfg.size)}
    for spec in cfg.test:
        index = resolve_dataset(spec)
        name = dataset_name(index)
        name = name if name not in tests else f"{name} ({spec})"
        cases = _limited(index.lesion_cases(), cfg.limit)
        if not cases:
            raise DataError(f"test dataset {spec!r} has no lesion images")
        tests[name] = load_cases(name, cases, cfg.size, _progress(progress, f"read {name}"))
        log(f"test {name}: {len(cases)} images")
    units = {name: {"hd95": distance_unit(test)} for name, test in tests.items()}
    seconds["read"] = time.perf_counter() - started

    arms = {"real": train_set}
    synthetic_images, synthetic_source = [], {"cache": None, "made": 0}
    if cfg.synthetic:
        t0 = time.perf_counter()
        synthetic_images, synthetic_source = _synthetic_set(cfg, train_index, device, log, progress)
        write_synthetic_set(synthetic_images, cfg.out / "synthetic")
        synth = from_arrays(
            "synthetic",
            [s.image for s in synthetic_images],
            [s.mask for s in synthetic_images],
            [s.label for s in synthetic_images],
            [s.name for s in synthetic_images],
            cfg.size,
            [s.record.get("mm_per_pixel") for s in synthetic_images],
        )
        arms["real+synthetic"] = concatenate("real+synthetic", train_set, synth)
        arms["synthetic"] = synth
        seconds["synthetic"] = time.perf_counter() - t0

    t_train = time.perf_counter()
    raw: dict = {arm: {t: [] for t in tests} for arm in arms}
    for arm in ARMS:
        if arm not in arms:
            continue
        for seed in range(cfg.seeds):
            t0 = time.perf_counter()
            seg = train_segmentation(
                arms[arm], cfg.train_config, seed, _progress(progress, f"{arm} seg seed {seed}"), device
            )
            clf = train_classifier(
                arms[arm], cfg.train_config, seed, _progress(progress, f"{arm} cls seed {seed}"), device
            )
            for name, test in tests.items():
                raw[arm][name].append(_tested(seg, clf, test))
            log(f"{arm}, seed {seed}: trained and tested in {time.perf_counter() - t0:.1f} s")
    seconds["train_and_test"] = time.perf_counter() - t_train
    t0 = time.perf_counter()
    labels = {name: test.labels for name, test in tests.items()}
    estimates, comparisons = summarize(raw, labels, cfg.bootstrap)
    seconds["bootstrap"] = time.perf_counter() - t0
    import torch

    results = {
        "config": {
            **cfg.to_dict(),
            "device_used": device,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "datasets": {
            "train": {
                "name": dataset_name(train_index),
                "root": str(train_index.root),
                "images": len(train_cases),
                "skipped": len(train_index.skipped),
            },
            "tests": {
                name: {"images": len(t), "malignant": int(t.labels.sum())} for name, t in tests.items()
            },
            "synthetic": len(synthetic_images),
            "synthetic_source": synthetic_source,
        },
        "units": units,
        "estimates": {
            a: {t: {m: e.to_dict() for m, e in ms.items()} for t, ms in ts.items()}
            for a, ts in estimates.items()
        },
        "comparisons": {t: {m: c.to_dict() for m, c in ms.items()} for t, ms in comparisons.items()},
        "raw": raw,
        "labels": {k: v.tolist() for k, v in labels.items()},
        "timing": {k: round(v, 1) for k, v in seconds.items()},
        "load_average": {"start": load_start, "end": _load_average(), "cpus": os.cpu_count()},
    }
    results["seconds"] = round(time.perf_counter() - started, 1)  # the report's own writing aside
    write_report(results, cfg.out, train_set, synthetic_images)
    log(f"report written to {cfg.out} in {results['seconds']} s")
    return results
