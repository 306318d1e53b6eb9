"""A generic folder: images/NAME.ext, masks/NAME.png (or NAME_K.png for several lesions) and
labels.csv with columns image, label (benign, malignant or normal) and optionally patient_id and
mm_per_pixel."""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.checks import usable_masks
from engine.datasets.tables import read_table
from engine.errors import DataError

LABELS = ("benign", "malignant", "normal")


def load_folder(root: Path) -> DatasetIndex:
    root = Path(root)
    if not (root / "images").is_dir():
        raise DataError(f"folder dataset {root}: no images/ subfolder")
    index = DatasetIndex("folder", root)
    for row in read_table(root / "labels.csv"):
        image = root / "images" / row.get("image", "")
        if not row.get("image") or not image.is_file():
            index.skipped.append(Skipped(image, "image file missing"))
            continue
        label = row.get("label", "").lower()
        if label not in LABELS:
            index.skipped.append(
                Skipped(image, f"label {row.get('label')!r} is not one of {', '.join(LABELS)}")
            )
            continue
        stem = image.stem
        candidates = sorted({*(root / "masks").glob(f"{stem}.png"), *(root / "masks").glob(f"{stem}_*.png")})
        masks: list[Path] = []
        if label != "normal":
            if not candidates:
                index.skipped.append(Skipped(image, "no mask file"))
                continue
            masks = usable_masks(image, candidates, index.skipped)
            if not masks:
                continue
        try:
            mm = float(row["mm_per_pixel"]) if row.get("mm_per_pixel") else None
        except ValueError:
            index.skipped.append(Skipped(image, f"mm_per_pixel {row['mm_per_pixel']!r} is not a number"))
            continue
        patient = row.get("patient_id") or stem
        index.cases.append(Case("folder", stem, patient, image, tuple(masks), label, mm))
    return index
