"""Validate attribute measurement on BrEaST against the radiologists' labels, and fit the shipped model.

Patient-grouped K-fold cross-validation: every patient's images are in exactly one test fold, never
in the fold's fit. The L2 strength is chosen inside each fit by an inner grouped CV on the fit part
only, so the test fold plays no part in any choice; an ensemble task (`TASK_VIEWS`) fits one model
per view that way and pools them. Balanced accuracy's chance level is 1/k for k
classes (any constant or label-blind guess). Rare classes (7 'combined' posterior patterns) make one
split's figure noisy, so the K-fold split can be repeated with several seeds: the figure is then the
mean over the repeats, reported with its range, and the confusion matrices are summed over them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.fileio import atomic_write_bytes
from engine.language.classifier import EnsembleModel, balanced_accuracy, confusion_matrix, fit_logistic
from engine.language.measure import (
    TASK_FEATURES,
    DescribeModel,
    task_columns,
    task_label,
    task_views,
)

L2_CANDIDATES = (1.0, 3.0, 10.0, 30.0, 100.0)
TARGETS = {"shape": 0.75, "margin": 0.75, "echo_hypo_or_anechoic": 0.70, "posterior": 0.55}


@dataclass
class Sample:
    case_id: str
    patient_id: str
    features: dict[str, float]
    description: object  # LesionDescription


@dataclass
class TaskResult:
    task: str
    classes: list[str]
    n: int
    balanced_accuracy: float  # mean over the repeats
    chance: float
    target: float | None
    confusion: np.ndarray  # rows: radiologists, columns: measured; summed over the repeats
    l2_chosen: list  # per fold, repeats one after the other (a tuple per fold for an ensemble)
    per_repeat: list[float]  # balanced accuracy of each repeat (split seed)


def breast_samples(breast_dir: Path, limit: int | None = None) -> list[Sample]:
    from engine.datasets import load_breast
    from engine.datasets.images import read_case_mask, read_gray
    from engine.language.features import lesion_features

    cases = load_breast(breast_dir).lesion_cases()[:limit]
    out = []
    for case in cases:
        image = read_gray(case.image_path)
        mask = read_case_mask(case.mask_paths, image.shape)
        out.append(Sample(case.case_id, case.patient_id, lesion_features(image, mask), case.description))
    return out


def grouped_folds(groups: list[str], k: int, seed: int) -> np.ndarray:
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[i]: rank % k for rank, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def _matrix(samples: list[Sample], columns: list[str]) -> np.ndarray:
    return np.array([[s.features[c] for c in columns] for s in samples])


def _fit_with_inner_cv(x, y, groups, columns, seed: int):
    """Pick the L2 strength by inner grouped 3-fold CV on (x, y) only, then fit on all of it."""
    folds = grouped_folds(groups, 3, seed + 1)
    best, best_l2 = -1.0, L2_CANDIDATES[0]
    for l2 in L2_CANDIDATES:
        truth, pred = [], []
        for k in range(3):
            fit, test = folds != k, folds == k
            if len(set(y[fit])) < len(set(y)) or not test.any():
                continue
            model = fit_logistic(x[fit], list(y[fit]), columns, l2)
            truth += list(y[test])
            pred += model.predict(x[test])
        score = balanced_accuracy(truth, pred) if truth else -1.0
        if score > best + 1e-9:
            best, best_l2 = score, l2
    return fit_logistic(x, list(y), columns, best_l2), best_l2


def _fit_task(x, y, groups, columns, views, seed: int):
    """One model (views None) or an ensemble of one model per view (lists of column names), each with
    its L2 strength picked by inner CV on (x, y) only. Returns (model, L2 or tuple of L2s)."""
    if views is None:
        return _fit_with_inner_cv(x, y, groups, columns, seed)
    members, l2s = [], []
    for view in views:
        idx = [columns.index(n) for n in view]
        model, l2 = _fit_with_inner_cv(x[:, idx], y, groups, view, seed)
        members.append(model)
        l2s.append(l2)
    return EnsembleModel(list(columns), members), tuple(l2s)


def cross_validate(
    samples: list[Sample], folds: int = 5, seed: int = 0, repeats: int = 1
) -> list[TaskResult]:
    """Grouped K-fold CV per task, repeated with split seeds seed, seed + 1, ..., seed + repeats - 1."""
    names = sorted(samples[0].features)
    results = []
    for task in TASK_FEATURES:
        columns, x, y, groups = _task_data(task, samples, names)
        views = task_views(task, columns)
        classes = sorted(set(y))
        scores, chosen, confusion = [], [], np.zeros((len(classes), len(classes)), int)
        for split_seed in range(seed, seed + repeats):
            fold = grouped_folds(groups, folds, split_seed)
            pred = np.empty(len(y), dtype=object)
            for k in range(folds):
                fit, test = fold != k, fold == k
                model, l2 = _fit_task(
                    x[fit],
                    y[fit],
                    [g for g, f in zip(groups, fit, strict=True) if f],
                    columns,
                    views,
                    split_seed,
                )
                chosen.append(l2)
                pred[test] = model.predict(x[test])
            scores.append(balanced_accuracy(list(y), list(pred)))
            confusion += confusion_matrix(list(y), list(pred), classes)
        results.append(
            TaskResult(
                task,
                classes,
                len(y),
                float(np.mean(scores)),
                1.0 / len(classes),
                TARGETS.get(task),
                confusion,
                chosen,
                scores,
            )
        )
    return results


def _task_data(task: str, samples: list[Sample], names: list[str]):
    """(feature columns, X, labels, patient groups) of the samples that carry this task's label."""
    columns = task_columns(task, names)
    labelled = [(s, task_label(task, s.description)) for s in samples]
    labelled = [(s, y) for s, y in labelled if y is not None]
    x = _matrix([s for s, _ in labelled], columns)
    y = np.array([lab for _, lab in labelled], dtype=object)
    return columns, x, y, [s.patient_id for s, _ in labelled]


def fit_final(samples: list[Sample], seed: int = 0, provenance: dict | None = None) -> DescribeModel:
    names = sorted(samples[0].features)
    models = {}
    chosen = {}
    for task in TASK_FEATURES:
        columns, x, y, groups = _task_data(task, samples, names)
        views = task_views(task, columns)
        models[task], chosen[task] = _fit_task(x, y, groups, columns, views, seed)
    return DescribeModel(models, {**(provenance or {}), "l2": chosen, "n_lesions": len(samples)})


# --- report ---------------------------------------------------------------------------------------


def results_table(results: list[TaskResult]) -> tuple[str, str]:
    """(Markdown, CSV) of balanced accuracy, chance and target per descriptor, then confusion matrices."""
    md = [
        "| descriptor | classes | lesions | balanced accuracy (mean) | range over repeats | chance | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "descriptor",
            "classes",
            "lesions",
            "balanced_accuracy",
            "min",
            "max",
            "repeats",
            "chance",
            "target",
            "met",
        ]
    )
    for r in results:
        met = "" if r.target is None else ("yes" if r.balanced_accuracy >= r.target else "no")
        target = "" if r.target is None else f"{r.target:.2f}"
        lo, hi = min(r.per_repeat), max(r.per_repeat)
        md.append(
            f"| {r.task} | {len(r.classes)} | {r.n} | {r.balanced_accuracy:.3f} | {lo:.3f}-{hi:.3f} "
            f"({len(r.per_repeat)}) | {r.chance:.3f} | {target} | {met} |"
        )
        w.writerow(
            [r.task, len(r.classes), r.n, f"{r.balanced_accuracy:.4f}", f"{lo:.4f}", f"{hi:.4f}",
             len(r.per_repeat), f"{r.chance:.4f}", target, met]
        )  # fmt: skip
    md.append("")
    for r in results:
        md.append(
            f"**{r.task}** (rows: radiologists, columns: measured, summed over {len(r.per_repeat)} repeats; "
            f"per repeat {[round(v, 3) for v in r.per_repeat]}; L2 chosen per fold {r.l2_chosen})"
        )
        md.append("")
        md.append("| | " + " | ".join(r.classes) + " |")
        md.append("|---" * (len(r.classes) + 1) + "|")
        for c, row in zip(r.classes, r.confusion, strict=True):
            md.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
        md.append("")
    return "\n".join(md), buf.getvalue()


def plot_results(results: list[TaskResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(16, 9), dpi=100)
    grid = fig.add_gridspec(2, 5)
    ax = fig.add_subplot(grid[0, :])
    xs = np.arange(len(results))
    means = np.array([r.balanced_accuracy for r in results])
    spread = np.array(
        [[m - min(r.per_repeat), max(r.per_repeat) - m] for m, r in zip(means, results, strict=True)]
    )
    ax.bar(xs, means, color="#4c78a8", label="balanced accuracy (grouped CV, mean and range over repeats)")
    ax.errorbar(xs, means, yerr=spread.T, fmt="none", ecolor="black", capsize=4)
    ax.scatter(xs, [r.chance for r in results], marker="_", s=900, color="black", label="chance (1/k)")
    tx = [i for i, r in enumerate(results) if r.target is not None]
    ax.scatter(tx, [results[i].target for i in tx], marker="*", s=150, color="#e45756", label="target")
    ax.set_xticks(xs, [r.task.replace("_", "\n") for r in results], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("balanced accuracy")
    ax.set_title("Attribute measurement on BrEaST-Lesions_USG vs radiologists' labels")
    ax.legend(loc="upper center", ncol=3, fontsize=8)
    for i, task in enumerate(TARGETS):
        r = next(r for r in results if r.task == task)
        axc = fig.add_subplot(grid[1, i])
        norm = r.confusion / np.maximum(1, r.confusion.sum(axis=1, keepdims=True))
        axc.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        for (a, b), v in np.ndenumerate(r.confusion):
            axc.text(
                b,
                a,
                str(v),
                ha="center",
                va="center",
                fontsize=8,
                color="black" if norm[a, b] < 0.6 else "white",
            )
        short = [c[:10] for c in r.classes]
        axc.set_xticks(range(len(short)), short, rotation=45, fontsize=7)
        axc.set_yticks(range(len(short)), short, fontsize=7)
        axc.set_title(f"{r.task}: {r.balanced_accuracy:.2f}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def write_report(results: list[TaskResult], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, table = results_table(results)
    paths = [out / "describe_validation.md", out / "describe_validation.csv", out / "describe_validation.png"]
    atomic_write_bytes(paths[0], (md + "\n").encode())
    atomic_write_bytes(paths[1], table.encode())
    plot_results(results, paths[2])
    return paths
