"""BrEaST-Lesions_USG: caseNNN.png, caseNNN_tumor.png, caseNNN_otherK.png and clinical-data.csv,
whose Pixel_size is in cm per pixel and whose descriptors are the radiologists' BI-RADS labels."""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.checks import usable_masks
from engine.datasets.tables import read_table
from engine.errors import DataError, InputError
from engine.language.breast_vocabulary import description_from_breast_row

CLINICAL_CSV = "clinical-data.csv"


def load_breast(root: Path, include_other_masks: bool = False) -> DatasetIndex:
    """Index BrEaST. By default only the tumor mask counts as the case's lesion: the `otherK` masks
    outline other findings (for example calcifications or a second structure), not always a mass."""
    root = Path(root)
    table = root / CLINICAL_CSV
    if not table.is_file():  # the original release ships only the workbook
        table = next(iter(sorted(root.glob("*clinical-data*.xlsx"))), table)
    if not table.is_file():
        raise DataError(f"BrEaST clinical table {root / CLINICAL_CSV} (or the .xlsx) not found")
    index = DatasetIndex("breast", root)
    rows = read_table(table)
    for row in rows:
        image = root / row.get("Image_filename", "")
        if not image.is_file():
            index.skipped.append(Skipped(image, "image file missing"))
            continue
        label = row.get("Classification", "").lower()
        masks = [root / row["Mask_tumor_filename"]] if row.get("Mask_tumor_filename") else []
        if include_other_masks:
            masks += [root / m.strip() for m in row.get("Mask_other_filename", "").split("&") if m.strip()]
        if masks:
            masks = usable_masks(image, masks, index.skipped)
            if not masks:
                continue
        try:
            description = description_from_breast_row(row)
            mm = float(row.get("Pixel_size", "")) * 10.0
        except (InputError, ValueError) as exc:
            index.skipped.append(Skipped(image, f"clinical row unreadable: {exc}"))
            continue
        index.cases.append(
            Case("breast", image.stem, image.stem, image, tuple(masks), label, mm, description)
        )
    return index
