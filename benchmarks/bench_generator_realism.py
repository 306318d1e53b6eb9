"""Realism of generated lesions: AUC of a small CNN telling real lesion windows from synthetic ones.

Real: the lesion windows of the model's fixed test split (model grid, 64x64). Synthetic: each test
lesion's mask placed into a lesion-free BUSI frame (normal/), filled in by the physics draft
(baseline) and by the diffusion pipeline, cropped with the same window. A SmallCNN (engine.evaluation)
is trained and scored in 5 folds; AUC 0.5 means indistinguishable (target <= 0.75).

    python -m benchmarks.bench_generator_realism [N_LESIONS]
"""

from __future__ import annotations

import json
import os
import sys
import time

import cv2
import numpy as np


def _place(mask64: np.ndarray, canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The model-grid mask's lesion, scaled to 12-28 % of the canvas width, in the upper-middle tissue."""
    ys, xs = np.nonzero(mask64 > 0.5)
    crop = (mask64[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 0.5).astype(np.uint8)
    h, w = canvas.shape
    long_side = rng.uniform(0.12, 0.28) * w
    scale = long_side / max(crop.shape)
    lesion = cv2.resize(
        crop,
        (max(int(crop.shape[1] * scale), 3), max(int(crop.shape[0] * scale), 3)),
        interpolation=cv2.INTER_NEAREST,
    )
    out = np.zeros((h, w), bool)
    cy = int(rng.uniform(0.25, 0.45) * h)
    cx = int(rng.uniform(0.35, 0.65) * w)
    y0 = int(np.clip(cy - lesion.shape[0] // 2, 0, h - lesion.shape[0]))
    x0 = int(np.clip(cx - lesion.shape[1] // 2, 0, w - lesion.shape[1]))
    out[y0 : y0 + lesion.shape[0], x0 : x0 + lesion.shape[1]] = lesion > 0
    return out


def cv_auc(
    real: np.ndarray, synthetic: np.ndarray, folds: int = 5, seed: int = 0
) -> tuple[float, list[float]]:
    from engine.evaluation.arrays import ArraySet
    from engine.evaluation.metrics import roc_auc
    from engine.evaluation.training import TrainConfig, predict_malignancy, train_classifier

    images = np.concatenate([real, synthetic])[:, None].astype(np.float32)
    labels = np.r_[np.zeros(len(real)), np.ones(len(synthetic))].astype(np.int64)
    ids = [str(i) for i in range(len(labels))]
    data = ArraySet("realism", images, np.zeros((len(labels), 64, 64), bool), labels, ids)
    order = np.random.default_rng(seed).permutation(len(labels))
    aucs = []
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        model = train_classifier(
            data.subset(train), TrainConfig(epochs=15, batch=16, base=8, depth=3), seed + k
        )
        scores = predict_malignancy(model, images[test])
        aucs.append(float(roc_auc(labels[test], scores)))
    return float(np.mean(aucs)), aucs


def main(argv: list[str] | None = None) -> None:
    import torch

    from engine.datasets import load_busi
    from engine.datasets.images import read_gray
    from engine.generator.conditions import prepare
    from engine.generator.data import load_cache
    from engine.generator.pipeline import BusTumorPipeline, physics_only
    from engine.generator.train import default_cache_path
    from engine.generator.window import crop_gray
    from engine.settings import get_settings

    argv = argv or []
    limit = int(argv[0]) if argv else 40
    torch.set_num_threads(int(argv[1]) if len(argv) > 1 else 2)  # 1 is faster on a crowded machine
    only_default = len(argv) > 2 and argv[2] == "quick"  # skip the strength-1.0 run
    settings = get_settings()
    model_dir = settings.model_dir
    split = json.loads((model_dir / "split.json").read_text())
    cache = load_cache(default_cache_path())
    index = {m["sample_id"]: i for i, m in enumerate(cache.meta)}
    test_rows = [index[s] for s in split["test"] if s in index]
    rng = np.random.default_rng(0)
    test_rows = sorted(rng.choice(test_rows, size=min(limit, len(test_rows)), replace=False).tolist())
    real = (cache.windows[test_rows] + 1.0) / 2.0
    canvases = [c for c in load_busi(settings.data_root / "bus" / "BUSI").cases if not c.has_lesion]
    pipe = BusTumorPipeline.from_pretrained(model_dir)
    methods = {
        "naive dark + noise (control)": [],
        "physics draft (baseline)": [],
        "diffusion, strength 0.6": [],
        "diffusion, strength 1.0": [],
    }
    if only_default:
        methods.pop("diffusion, strength 1.0")
    seconds = {k: 0.0 for k in methods}
    for n, row in enumerate(test_rows):
        canvas = read_gray(canvases[n % len(canvases)].image_path)
        scale = 400 / canvas.shape[1]
        canvas = cv2.resize(canvas, (400, int(canvas.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        mask = _place(cache.conditions[row, 0], canvas, np.random.default_rng(n))
        desc_dict = cache.meta[row]["description"]
        from engine.language import LesionDescription

        desc = LesionDescription.from_dict(desc_dict)
        window = prepare(canvas, mask).window
        for name in methods:
            t = time.perf_counter()
            if name.startswith("naive"):
                # The weak control: darken the mask and add noise (a classifier must catch it).
                noise = np.random.default_rng(n).normal(0, 12, canvas.shape)
                out = np.where(mask, np.clip(canvas * 0.45 + noise, 0, 255), canvas).astype(np.uint8)
            elif name.startswith("physics"):
                out = physics_only(canvas, mask, desc, seed=n).pixels[0]
            else:
                strength = 0.6 if "0.6" in name else 1.0
                out = pipe(canvas, mask, desc, seed=n, steps=20, guidance=3.0, strength=strength).pixels[0]
            seconds[name] += time.perf_counter() - t
            methods[name].append((crop_gray(out, window) + 1.0) / 2.0)
    print(f"load average {os.getloadavg()[0]:.1f}; torch threads {torch.get_num_threads()}")
    print(
        f"test-split lesions: {len(test_rows)} real windows vs {len(test_rows)} synthetic per method; SmallCNN, 5 folds"
    )
    results = {name: cv_auc(real, np.stack(windows)) for name, windows in methods.items()}
    baseline = results["physics draft (baseline)"][0]
    for name, (auc, folds) in results.items():
        print(
            f"{name:30s} AUC {auc:.3f}  (folds {', '.join(f'{a:.2f}' for a in folds)})  "
            f"{auc / baseline:.2f}x baseline  {auc / 0.75:.2f}x the 0.75 target  {seconds[name] / len(test_rows):.2f} s/lesion"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
