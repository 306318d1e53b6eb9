"""Train the click segmenter on windows around real lesions (BUSI and BrEaST, patient-grouped split).

Each lesion is cut once into a context square (4 lesion extents wide, 320 px); every step draws
windows from it as the app will: a jittered box grown by BOX_MARGIN, or a click near the lesion
with a window 1.4 to 3.2 lesion extents wide centred on it. Training stops at a wall-clock budget.

    nice -n 10 python -m engine.annotation.training --out resources/models/segmenter --minutes 18
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.annotation.window import Window, box_prior, box_window, click_prior, click_window, model_input

CONTEXT_PX = 320
CONTEXT_EXTENTS = 4.0
MIN_LESION_PX = 30
CLICK_SIDE_RANGE = (1.4, 3.2)  # click windows, in lesion extents
BOX_JITTER = 0.08  # box edges move by this fraction of the lesion extent (sd)


@dataclass
class Lesion:
    case_id: str
    gray: np.ndarray  # (CONTEXT_PX, CONTEXT_PX) float32
    mask: np.ndarray  # bool, the one lesion
    box: tuple[float, float, float, float]  # its bounding box in context pixels (pixel edges)


def lesion_components(mask: np.ndarray) -> list[np.ndarray]:
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    parts = [labels == i for i in range(1, n)]
    return [p for p in parts if p.sum() >= MIN_LESION_PX]


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def context_lesions(case_id: str, gray: np.ndarray, mask: np.ndarray) -> list[Lesion]:
    out = []
    for part in lesion_components(mask):
        x0, y0, x1, y1 = mask_box(part)
        extent = max(x1 - x0, y1 - y0)
        side = CONTEXT_EXTENTS * extent
        w = Window((x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2, side)
        g = w.crop(gray, CONTEXT_PX)
        m = w.crop(part.astype(np.float32), CONTEXT_PX) > 0.5
        if m.sum() >= MIN_LESION_PX:
            out.append(Lesion(case_id, g, m, mask_box(m)))
    return out


def load_lesions(cases) -> list[Lesion]:
    from engine.datasets.images import read_case_mask, read_gray

    out = []
    for c in cases:
        gray = read_gray(c.image_path)
        out += context_lesions(f"{c.dataset}/{c.case_id}", gray, read_case_mask(c.mask_paths, gray.shape))
    return out


def draw_window(lesion: Lesion, px: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: (2, px, px) input and (px, px) float target, a box or a click at random."""
    x0, y0, x1, y1 = lesion.box
    extent = max(x1 - x0, y1 - y0)
    if rng.random() < 0.5:
        jitter = rng.normal(0, BOX_JITTER * extent, 4)
        box = (
            x0 + jitter[0],
            y0 + jitter[1],
            max(x1 + jitter[2], x0 + jitter[0] + 3),
            max(y1 + jitter[3], y0 + jitter[1] + 3),
        )
        w = box_window(box)
        prior = box_prior(w, box, px)
    else:
        ys, xs = np.nonzero(lesion.mask)
        if rng.random() < 0.6:  # near the centroid, as most users click
            cx, cy = xs.mean() + rng.normal(0, 0.08 * extent), ys.mean() + rng.normal(0, 0.08 * extent)
        else:  # anywhere in the lesion's inner part
            inner = cv2.erode(lesion.mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            iy, ix = np.nonzero(inner if inner.any() else lesion.mask)
            k = rng.integers(len(ix))
            cx, cy = float(ix[k]), float(iy[k])
        w = click_window(cx, cy, extent * rng.uniform(*CLICK_SIDE_RANGE))
        prior = click_prior(w, cx, cy, px)
    g = w.crop(lesion.gray, px)
    t = w.crop(lesion.mask.astype(np.float32), px)
    if rng.random() < 0.5:
        g, t, prior = g[:, ::-1], t[:, ::-1], prior[:, ::-1]
    gamma = rng.uniform(0.7, 1.4)
    g = 255.0 * (np.clip(g, 0, 255) / 255.0) ** gamma
    return model_input(g, prior), (t > 0.5).astype(np.float32)


def train(
    lesions: list[Lesion], minutes: float, seed: int, px: int, base: int, depth: int, batch: int, log=print
):
    import torch

    from engine.annotation.segmenter import build_unet

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_unet(base, depth)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    start, step, losses = time.monotonic(), 0, []
    budget = minutes * 60
    while time.monotonic() - start < budget:
        elapsed = (time.monotonic() - start) / budget
        for g in opt.param_groups:  # cosine decay over the wall-clock budget
            g["lr"] = 2e-3 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(elapsed, 1.0))))
        pairs = [draw_window(lesions[i], px, rng) for i in rng.integers(len(lesions), size=batch)]
        x = torch.from_numpy(np.stack([p[0] for p in pairs]))
        y = torch.from_numpy(np.stack([p[1] for p in pairs]))[:, None]
        logits = net(x)
        prob = torch.sigmoid(logits)
        soft_dice = 1 - (2 * (prob * y).sum((1, 2, 3)) + 1) / (prob.sum((1, 2, 3)) + y.sum((1, 2, 3)) + 1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y) + soft_dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 50 == 0:
            log(f"step {step} {time.monotonic() - start:.0f}s loss {np.mean(losses[-50:]):.4f}")
    net.eval()
    return net, {
        "steps": step,
        "seconds": round(time.monotonic() - start),
        "final_loss": float(np.mean(losses[-50:])),
    }


def patient_splits(data_root: Path, seed: int):
    from engine.datasets import load_breast, load_busi
    from engine.evaluation.splits import group_split

    out = {}
    for name, loader, folder in (
        ("busi", load_busi, "bus/BUSI"),
        ("breast", load_breast, "bus/BrEaST-Lesions_USG"),
    ):
        cases = loader(data_root / folder).lesion_cases()
        out[name] = group_split(cases, test_fraction=0.2, seed=seed)
    return out


def main(argv=None) -> int:
    import torch

    from engine.annotation.segmenter import save_segmenter
    from engine.settings import get_settings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=18.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--px", type=int, default=96)
    p.add_argument("--base", type=int, default=16)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    splits = patient_splits(get_settings().data_root, a.seed)
    train_cases = [c for tr, _ in splits.values() for c in tr]
    t0 = time.monotonic()
    lesions = load_lesions(train_cases)
    print(
        f"{len(lesions)} training lesions from {len(train_cases)} images in {time.monotonic() - t0:.0f}s",
        flush=True,
    )
    net, stats = train(
        lesions, a.minutes, a.seed, a.px, a.base, a.depth, a.batch, log=lambda s: print(s, flush=True)
    )
    config = {
        "kind": "click-segmenter",
        "architecture": "engine.evaluation.models.UNet, first block 2 channels (gray, prior)",
        "base": a.base,
        "depth": a.depth,
        "in_channels": 2,
        "window_px": a.px,
        "threshold": 0.5,
        "seed": a.seed,
        "threads": a.threads,
        "batch": a.batch,
        "training": stats,
        "training_lesions": len(lesions),
        "split": {
            name: {
                "test_fraction": 0.2,
                "seed": a.seed,
                "train": sorted(c.case_id for c in tr),
                "test": sorted(c.case_id for c in te),
            }
            for name, (tr, te) in splits.items()
        },
        "torch": torch.__version__,
    }
    save_segmenter(net, config, a.out)
    print(f"saved {a.out} ({stats})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
