"""PNG plots of the mask generator's figures (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.fileio import atomic_write


def _save(fig, path: Path) -> Path:
    # format named: the temp file's name does not end in .png
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))


def _bars(ax, labels, a, b, la, lb, title):
    x = np.arange(len(labels))
    ax.bar(x - 0.2, a, 0.4, label=la)
    ax.bar(x + 0.2, b, 0.4, label=lb)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


# (result key, file, width, bar label, (first series key, legend), (second series key, legend), title)
_BAR_FIGURES = (
    ("fidelity", "fig1_fidelity.png", 9, lambda r: f"{r['task']}: {r['class']}",
     ("real_recall", "held-out real"), ("generated_recognised", "generated"),
     "1. semantic fidelity: recognised as requested"),
    ("realism", "fig2_realism.png", 7, lambda r: r["class"],
     ("ours", "semantic curvature"), ("baseline", "elastic ellipse"),
     "2. realism: mean normalised Wasserstein (lower is better)"),
    ("diversity", "fig3_diversity.png", 7, lambda r: r["class"],
     ("real_iou", "real"), ("generated_iou", "generated"),
     "3. diversity: mean pairwise IoU (lower is more diverse)"),
)  # fmt: skip


def plot_figures(results: dict, out: Path, priors) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for key, name, width, label, (ka, la), (kb, lb), title in _BAR_FIGURES:
        if key not in results:
            continue
        rows = results[key]
        fig, ax = plt.subplots(figsize=(width, 3.5))
        _bars(ax, [label(r) for r in rows], [r[ka] for r in rows], [r[kb] for r in rows], la, lb, title)
        written.append(_save(fig, out / name))
        plt.close(fig)
    if "speed" in results:
        s = results["speed"]
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.bar(["semantic curvature", "elastic ellipse"], [s["ours_per_s"], s["baseline_per_s"]])
        ax.axhline(1000, color="k", ls="--", lw=1)
        ax.set_ylabel("masks / s at 256x256, one core")
        ax.set_title("4. speed", fontsize=10)
        written.append(_save(fig, out / "fig4_speed.png"))
        plt.close(fig)
    written.append(_gallery(out, priors, plt))
    return written


def _gallery(out: Path, priors, plt) -> Path:
    from engine.masks.generator import description_for_class, generate_mask

    rows = [
        ("oval", "circumscribed"),
        ("round", "circumscribed"),
        ("irregular", "indistinct"),
        ("irregular", "microlobulated"),
        ("irregular", "angular"),
        ("irregular", "spiculated"),
    ]
    fig, axes = plt.subplots(len(rows), 6, figsize=(9, 1.6 * len(rows)))
    for i, (shape, margin) in enumerate(rows):
        for j in range(6):
            g = generate_mask(
                description_for_class(shape, margin, "parallel", 15.0), j, 0.1, (200, 200), priors=priors
            )
            axes[i, j].imshow(g.soft if g.soft is not None else g.mask, cmap="gray", vmin=0, vmax=1)
            axes[i, j].axis("off")
        axes[i, 0].set_title(f"{shape} / {margin}", fontsize=8, loc="left")
    return _save(fig, out / "gallery.png")
