import csv

import cv2
import numpy as np
import pytest


def write_folder_dataset(root, n_normal=2, size=(180, 240)):
    """A small folder dataset of speckle frames: n_normal lesion-free images and one with a lesion."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    rows = [["image", "label", "patient_id"]]
    for i in range(n_normal + 1):
        speckle = rng.rayleigh(1.0, size)
        frame = np.clip(cv2.GaussianBlur(speckle, (0, 0), 1.2) * 70 + 20, 0, 255).astype(np.uint8)
        name = f"frame{i}.png"
        label = "normal"
        if i == n_normal:  # the last one has a dark oval lesion and its mask
            mask = np.zeros(size, np.uint8)
            cv2.ellipse(mask, (60, 80), (22, 14), 0, 0, 360, 255, -1)
            frame[mask > 0] //= 4
            cv2.imwrite(str(root / "masks" / f"frame{i}.png"), mask)
            label = "benign"
        cv2.imwrite(str(root / "images" / name), frame)
        rows.append([name, label, f"patient{i // 2}"])
    with open(root / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return root


@pytest.fixture
def folder_dataset(tmp_path):
    return write_folder_dataset(tmp_path / "dataset")
