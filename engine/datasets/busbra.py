"""BUS-BRA: Images/bus_NNNN-S.png, Masks/mask_NNNN-S.png (S is l, r or a digit), bus_data.csv with
ID, Case, Histology, Pathology, BIRADS, Device, Width, Height, Side, BBOX, and k-fold tables.
`Case` is the patient: splits keep a patient's images together."""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.checks import usable_masks
from engine.datasets.tables import read_table
from engine.errors import DataError


def load_busbra(root: Path) -> DatasetIndex:
    root = Path(root)
    if not (root / "bus_data.csv").is_file():
        raise DataError(f"BUS-BRA table {root / 'bus_data.csv'} not found")
    index = DatasetIndex("busbra", root)
    for row in read_table(root / "bus_data.csv"):
        case_id = row.get("ID", "")
        image = root / "Images" / f"{case_id}.png"
        if not case_id or not image.is_file():
            index.skipped.append(Skipped(image, "image file missing"))
            continue
        label = row.get("Pathology", "").lower()
        if label not in ("benign", "malignant"):
            index.skipped.append(Skipped(image, f"unknown Pathology {row.get('Pathology')!r}"))
            continue
        mask = root / "Masks" / f"{case_id.replace('bus_', 'mask_', 1)}.png"
        masks = usable_masks(image, [mask], index.skipped)
        if not masks:
            continue
        patient = f"busbra-{row.get('Case') or case_id}"
        index.cases.append(Case("busbra", case_id, patient, image, tuple(masks), label))
    return index


def load_busbra_folds(root: Path, k: int = 5) -> dict[str, int]:
    """The dataset's own patient-grouped folds: ID -> fold number."""
    table = Path(root) / f"{k}-fold-cv.csv"
    return {row["ID"]: int(row["kFold"]) for row in read_table(table)}
