"""A toy dataset in the generic folder format, made here (no real data): speckle-like noise frames
with dark elliptical lesions; malignant lesions are darker and larger, so a model can learn it."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np


def toy_frame(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    noise = rng.rayleigh(1.0, (size, size))
    tissue = cv2.GaussianBlur(noise, (0, 0), 1.0)
    depth = np.linspace(1.0, 0.6, size)[:, None]
    return np.clip(tissue / tissue.max() * 230 * depth + 10, 0, 255).astype(np.uint8)


def write_toy_folder(
    root: Path,
    n_lesions: int = 12,
    n_normal: int = 0,
    seed: int = 0,
    size: int = 64,
    mm_per_pixel: float | None = None,
) -> Path:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    rows = []
    for i in range(n_lesions + n_normal):
        img = toy_frame(rng, size)
        name = f"img{i:03d}"
        if i < n_lesions:
            label = "malignant" if i % 2 else "benign"
            mask = np.zeros((size, size), np.uint8)
            r = int(size * (0.18 if label == "malignant" else 0.1))
            cx, cy = int(rng.integers(r + 2, size - r - 2)), int(rng.integers(size // 3, size - r - 2))
            cv2.ellipse(mask, (cx, cy), (r, int(r * 0.7)), 0, 0, 360, 255, -1)
            darkness = 0.15 if label == "malignant" else 0.6
            img = np.where(mask > 0, img * darkness, img).astype(np.uint8)
            cv2.imwrite(str(root / "masks" / f"{name}.png"), mask)
        else:
            label = "normal"
        cv2.imwrite(str(root / "images" / f"{name}.png"), img)
        # two images per patient, so patient-grouped splits have something to keep together
        rows.append(
            {
                "image": f"{name}.png",
                "label": label,
                "patient_id": f"p{i // 2}",
                "mm_per_pixel": "" if mm_per_pixel is None else str(mm_per_pixel),
            }
        )
    with open(root / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["image", "label", "patient_id", "mm_per_pixel"])
        w.writeheader()
        w.writerows(rows)
    return root
