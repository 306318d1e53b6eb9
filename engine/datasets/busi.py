"""BUSI (Dataset_BUSI_with_GT): benign/, malignant/, normal/ with `NAME (k).png`, `NAME (k)_mask.png`
and further lesions in `NAME (k)_mask_1.png`, ... Normal images have an empty mask (no lesion)."""

from __future__ import annotations

import re
from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.checks import usable_masks
from engine.errors import DataError

_IMAGE = re.compile(r"^(benign|malignant|normal) \((\d+)\)\.png$")
# The data README notes that these two images have identical pixels: keep them in one split group.
_SAME_IMAGE = {"malignant (145)": "benign (433)"}


def load_busi(root: Path) -> DatasetIndex:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"BUSI folder {root} not found")
    index = DatasetIndex("busi", root)
    for label in ("benign", "malignant", "normal"):
        folder = root / label
        if not folder.is_dir():
            index.skipped.append(Skipped(folder, "class folder missing"))
            continue
        for path in sorted(folder.iterdir(), key=lambda p: _sort_key(p.name)):
            if "_mask" in path.name:
                continue
            if not _IMAGE.match(path.name):
                index.skipped.append(Skipped(path, "not a BUSI image name"))
                continue
            stem = path.stem
            masks = sorted(folder.glob(f"{_glob_escape(stem)}_mask*.png"))
            if not masks:
                index.skipped.append(Skipped(path, "no mask file"))
                continue
            if label == "normal":
                masks = []  # BUSI gives normal images an empty mask
            else:
                masks = usable_masks(path, masks, index.skipped)
                if not masks:
                    continue
            index.cases.append(Case("busi", stem, _SAME_IMAGE.get(stem, stem), path, tuple(masks), label))
    return index


def _sort_key(name: str):
    m = re.search(r"\((\d+)\)", name)
    return (int(m.group(1)) if m else 0, name)


def _glob_escape(s: str) -> str:
    return s.replace("[", "[[]").replace("(", "[(]").replace(")", "[)]")
