"""UDIAT Dataset B: original/NNNNNN.png, GT/NNNNNN.png and DatasetB.xlsx (Image, Type, Diagnosis)."""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.checks import usable_masks
from engine.datasets.tables import read_table
from engine.errors import DataError


def _table(root: Path) -> Path:
    for name in ("DatasetB.xlsx", "DatasetB.csv"):
        if (root / name).is_file():
            return root / name
    raise DataError(f"UDIAT table DatasetB.xlsx (or .csv) not found in {root}")


def load_udiat(root: Path) -> DatasetIndex:
    root = Path(root)
    index = DatasetIndex("udiat", root)
    for row in read_table(_table(root)):
        name = row.get("Image", "")
        stem = name.zfill(6) if name.isdigit() else Path(name).stem
        image = root / "original" / f"{stem}.png"
        if not name or not image.is_file():
            index.skipped.append(Skipped(image, "image file missing"))
            continue
        label = row.get("Type", "").lower()
        if label not in ("benign", "malignant"):
            index.skipped.append(Skipped(image, f"unknown Type {row.get('Type')!r}"))
            continue
        masks = usable_masks(image, [root / "GT" / f"{stem}.png"], index.skipped)
        if masks:
            index.cases.append(Case("udiat", stem, f"udiat-{stem}", image, tuple(masks), label))
    return index
