"""BrEaST-Lesions_USG: caseNNN.png, caseNNN_tumor.png, caseNNN_otherK.png and clinical-data.csv,
whose Pixel_size is in cm per pixel and whose descriptors are the radiologists' BI-RADS labels."""

from __future__ import annotations

import csv
from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.errors import DataError, InputError
from engine.language.breast_vocabulary import description_from_breast_row

CLINICAL_CSV = "clinical-data.csv"


def load_breast(root: Path, include_other_masks: bool = False) -> DatasetIndex:
    """Index BrEaST. By default only the tumor mask counts as the case's lesion: the `otherK` masks
    outline other findings (for example calcifications or a second structure), not always a mass."""
    root = Path(root)
    table = root / CLINICAL_CSV
    if not table.is_file():
        raise DataError(f"BrEaST clinical table {table} not found")
    index = DatasetIndex("breast", root)
    with table.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        image = root / row["Image_filename"].strip()
        if not image.is_file():
            index.skipped.append(Skipped(image, "image file missing"))
            continue
        label = row["Classification"].strip().lower()
        masks: list[Path] = []
        tumor = row["Mask_tumor_filename"].strip()
        if tumor:
            if not (root / tumor).is_file():
                index.skipped.append(Skipped(root / tumor, "tumor mask file missing"))
                continue
            masks.append(root / tumor)
        if include_other_masks:
            masks += [root / m.strip() for m in row["Mask_other_filename"].split("&") if m.strip()]
        try:
            description = description_from_breast_row(row)
            mm = float(row["Pixel_size"]) * 10.0
        except (InputError, ValueError) as exc:
            index.skipped.append(Skipped(image, f"clinical row unreadable: {exc}"))
            continue
        index.cases.append(
            Case("breast", image.stem, image.stem, image, tuple(masks), label, mm, description)
        )
    return index
