"""The report folder of an evaluation: report.md (tables in the paper's layout: one row per training
set and test set, metric columns with 95 % intervals; then (b) against (a)), bars.png (metrics with
their intervals), examples.png (real and synthetic images with their masks), config.json (the exact
configuration) and results.json (every per-image score, so any table can be recomputed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.evaluation.metrics import CLASSIFICATION_METRICS, HIGHER_IS_BETTER, SEGMENTATION_METRICS
from engine.evaluation.protocol import ARMS
from engine.fileio import atomic_write, atomic_write_bytes

TITLES = {
    "dice": "Dice",
    "iou": "IoU",
    "hd95": "HD95",
    "auc": "AUC",
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
}
ARM_TITLES = {"real": "(a) real", "real+synthetic": "(b) real + synthetic", "synthetic": "(c) synthetic"}


def _cell(e: dict, digits: int, unit: str = "") -> str:
    text = f"{e['value']:.{digits}f} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]"
    return f"{text} {unit}" if unit else text


def _unit(results: dict, test: str, metric: str) -> str:
    """A metric's unit on a test set: HD95 in mm or px (results['units']); the rest have none."""
    return results.get("units", {}).get(test, {}).get(metric, "px" if metric == "hd95" else "")


def _value(results: dict, test: str, metric: str, e: dict) -> str:
    return _cell(e, 1 if metric == "hd95" else 3, _unit(results, test, metric))


def _table(results: dict, names: tuple[str, ...]) -> list[str]:
    lines = [
        "| Training data | Test set | " + " | ".join(TITLES[m] for m in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for test in results["datasets"]["tests"]:
        for arm in ARMS:
            if arm not in results["estimates"]:
                continue
            e = results["estimates"][arm][test]
            cells = [_value(results, test, m, e[m]) for m in names]
            lines.append(f"| {ARM_TITLES[arm]} | {test} | " + " | ".join(cells) + " |")
    return lines


def _run_line(results: dict) -> str:
    """How long the run took and how busy the machine was (a shared machine slows it down)."""
    timing = results.get("timing", {})
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in timing.items())
    load = results.get("load_average") or {}
    source = results["datasets"].get("synthetic_source") or {}
    cache = source.get("cache")
    made = f"; synthetic set: {cache['reused']} images from the cache, {cache['made']} made" if cache else ""
    return (
        f"Run: {results.get('seconds', float('nan')):.0f} s wall ({parts}) with "
        f"{results['config'].get('torch_threads')} torch thread(s); load average at start "
        f"{load.get('start')}, at end {load.get('end')} on {load.get('cpus')} CPUs{made}."
    )


def markdown(results: dict) -> str:
    cfg = results["config"]
    d = results["datasets"]
    out = [
        "# Downstream evaluation",
        "",
        f"Protocol **{cfg['protocol']}**: {cfg['size']} px, {cfg['train_config']['epochs']} epochs, "
        f"{cfg['seeds']} seeds; trained on {d['train']['name']} ({d['train']['images']} images, patients "
        f"kept together; {cfg['test_fraction']:.0%} of patients held out), {d['synthetic']} synthetic images "
        f"({cfg['generator']} generator). Values: mean over seeds on the whole test set, with the 95 % "
        f"percentile bootstrap interval over test images ({cfg['bootstrap']} resamples, every seed scored "
        "on each resample). HD95 is in mm on test sets whose every image has a pixel size (the "
        "frame's calibration scaled to the model's resolution), else in pixels at the model's "
        "resolution; each cell names its unit.",
        "",
        _run_line(results),
        "",
        "## Segmentation (UNet)",
        "",
        *_table(results, SEGMENTATION_METRICS),
        "",
        "## Classification, benign against malignant (small CNN; malignant is positive, threshold 0.5)",
        "",
        *_table(results, CLASSIFICATION_METRICS),
        "",
    ]
    if results["comparisons"]:
        out += [
            "## (b) real + synthetic against (a) real, paired over the same test images",
            "",
            "| Test set | Metric | (a) | (b) | (b) - (a) [95 % CI] | p | better |",
            "|---|---|---|---|---|---|---|",
        ]
        for test, per_metric in results["comparisons"].items():
            for m, c in per_metric.items():
                digits = 1 if m == "hd95" else 3
                a = results["estimates"]["real"][test][m]["value"]
                b = results["estimates"]["real+synthetic"][test][m]["value"]
                unit = _unit(results, test, m)
                a, b = (f"{v:.{digits}f}" + (f" {unit}" if unit else "") for v in (a, b))
                diff = c["difference"]
                improved = (diff["value"] > 0) == HIGHER_IS_BETTER[m] and diff["value"] != 0
                verdict = ("yes" if improved else "no") + (" (p < 0.05)" if c["p_value"] < 0.05 else "")
                out.append(
                    f"| {test} | {TITLES[m]} | {a} | {b} | {_value(results, test, m, diff)} "
                    f"| {c['p_value']:.3f} | {verdict} |"
                )
        out.append("")
    out += [
        "Figures: `bars.png` (metrics with intervals), `examples.png` (real and synthetic images).",
        "Configuration: `config.json`; every per-image score: `results.json`.",
        "",
    ]
    return "\n".join(out)


def _bars(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("dice", "iou", "auc", "accuracy", "sensitivity", "specificity")
    tests = list(results["datasets"]["tests"])
    arms = [a for a in ARMS if a in results["estimates"]]
    fig, axes = plt.subplots(1, len(tests), figsize=(5.5 * len(tests), 3.6), squeeze=False)
    width = 0.8 / len(arms)
    for ax, test in zip(axes[0], tests, strict=True):
        x = np.arange(len(names))
        for i, arm in enumerate(arms):
            e = results["estimates"][arm][test]
            v = np.array([e[m]["value"] for m in names])
            err = np.array([[v[j] - e[m]["low"], e[m]["high"] - v[j]] for j, m in enumerate(names)]).T
            ax.bar(
                x + (i - (len(arms) - 1) / 2) * width,
                v,
                width,
                yerr=np.clip(np.nan_to_num(err), 0, None),
                capsize=2,
                label=ARM_TITLES[arm],
            )
        ax.set_xticks(x, [TITLES[m] for m in names], rotation=30, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"test: {test}", fontsize=9)
    handles, names_ = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names_, loc="upper center", ncol=len(arms), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110)  # named: write_report passes a temp name without .png
    plt.close(fig)
    return path


def _examples(real, synthetic, path: Path, n: int = 6) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        (
            "real",
            [
                (real.images[i, 0], real.masks[i], "malignant" if real.labels[i] else "benign")
                for i in range(min(n, len(real)))
            ],
        )
    ]
    if synthetic:
        rows.append(("synthetic", [(s.image, s.mask, s.label) for s in synthetic[:n]]))
    cols = max(len(r[1]) for r in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(1.8 * cols, 1.9 * len(rows)), squeeze=False)
    for r, (title, items) in enumerate(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(items):
                img, mask, label = items[c]
                ax.imshow(img, cmap="gray")
                ax.contour(mask.astype(float), levels=[0.5], colors="yellow", linewidths=0.6)
                ax.set_title(f"{title}: {label}", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)  # named: write_report passes a temp name without .png
    plt.close(fig)
    return path


def write_report(results: dict, out: Path, real, synthetic) -> Path:
    out = Path(out)
    atomic_write_bytes(
        out / "config.json", (json.dumps(results["config"], indent=2, sort_keys=True) + "\n").encode()
    )
    atomic_write_bytes(out / "results.json", (json.dumps(results, indent=1, sort_keys=True) + "\n").encode())
    atomic_write_bytes(out / "report.md", markdown(results).encode())
    atomic_write(out / "bars.png", lambda tmp: _bars(results, tmp))
    atomic_write(out / "examples.png", lambda tmp: _examples(real, synthetic, tmp))
    return out / "report.md"
