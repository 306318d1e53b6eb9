"""Cases as model-ready arrays: the grayscale image and its lesion mask squeezed to size x size.

The whole frame is used (no crop to the lesion: a deployed model does not know where it is), and
the aspect ratio is not kept: every public set mixes frame shapes, and padding would teach the
models where the padding is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.datasets.base import Case
from engine.datasets.images import read_case_mask, read_gray

POSITIVE = "malignant"


@dataclass
class ArraySet:
    name: str
    images: np.ndarray  # float32 [N, 1, S, S] in [0, 1]
    masks: np.ndarray  # bool [N, S, S]
    labels: np.ndarray  # int64 [N], 1 = malignant
    ids: list[str]
    # float [N, 2]: (row, column) mm per pixel at the model's size; nan where the source has none
    spacing: np.ndarray | None = None

    def __post_init__(self):
        if self.spacing is None:
            self.spacing = np.full((len(self.ids), 2), np.nan)

    @property
    def calibrated(self) -> bool:
        """True when every image has a pixel size (so distances can be given in mm)."""
        return len(self.ids) > 0 and bool(np.isfinite(self.spacing).all())

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, idx) -> ArraySet:
        idx = np.asarray(idx, int)
        return ArraySet(
            self.name,
            self.images[idx],
            self.masks[idx],
            self.labels[idx],
            [self.ids[i] for i in idx],
            self.spacing[idx],
        )


def resize_pair(gray: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)
    return img, m


def model_spacing(shape: tuple[int, int], mm_per_pixel: float | None, size: int) -> tuple[float, float]:
    """(row, column) mm per pixel once a frame of `shape` is squeezed to size x size (nan: unknown)."""
    if not mm_per_pixel:
        return float("nan"), float("nan")
    return mm_per_pixel * shape[0] / size, mm_per_pixel * shape[1] / size


def from_arrays(name: str, grays, masks, labels, ids, size: int, mm_per_pixel=None) -> ArraySet:
    """mm_per_pixel: one value per image (None where unknown), at the given frames' resolution."""
    mm_per_pixel = [None] * len(grays) if mm_per_pixel is None else list(mm_per_pixel)
    pairs = [resize_pair(g, m, size) for g, m in zip(grays, masks, strict=True)]
    images = (
        np.stack([p[0] for p in pairs]).astype(np.float32)[:, None] / 255.0
        if pairs
        else np.zeros((0, 1, size, size), np.float32)
    )
    spacing = np.array(
        [model_spacing(g.shape, mm, size) for g, mm in zip(grays, mm_per_pixel, strict=True)], float
    ).reshape(-1, 2)
    return ArraySet(
        name,
        images,
        np.stack([p[1] for p in pairs]) if pairs else np.zeros((0, size, size), bool),
        np.array([1 if lab == POSITIVE else 0 for lab in labels], np.int64),
        list(ids),
        spacing,
    )


def load_cases(name: str, cases: list[Case], size: int, progress=None) -> ArraySet:
    """Read and resize the cases (lesion masks unioned per image)."""
    grays, masks = [], []
    for c in progress(cases) if progress else cases:
        g = read_gray(c.image_path)
        grays.append(g)
        masks.append(read_case_mask(c.mask_paths, g.shape))
    return from_arrays(
        name,
        grays,
        masks,
        [c.label for c in cases],
        [f"{c.dataset}/{c.case_id}" for c in cases],
        size,
        [c.mm_per_pixel for c in cases],
    )


def concatenate(name: str, *sets: ArraySet) -> ArraySet:
    return ArraySet(
        name,
        np.concatenate([s.images for s in sets]),
        np.concatenate([s.masks for s in sets]),
        np.concatenate([s.labels for s in sets]),
        [i for s in sets for i in s.ids],
        np.concatenate([s.spacing for s in sets]),
    )
