"""Tell a dataset's format from its layout, and load it with the right adapter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.datasets.base import DatasetIndex
from engine.datasets.breast import load_breast
from engine.datasets.busbra import load_busbra
from engine.datasets.busi import load_busi
from engine.datasets.folder import load_folder
from engine.datasets.udiat import load_udiat
from engine.errors import DataError

ADAPTERS: dict[str, Callable[[Path], DatasetIndex]] = {
    "busi": load_busi,
    "breast": load_breast,
    "busbra": load_busbra,
    "udiat": load_udiat,
    "folder": load_folder,
}


def detect_format(root: Path) -> str:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"dataset folder {root} not found")
    if (root / "bus_data.csv").is_file() and (root / "Images").is_dir():
        return "busbra"
    if (root / "clinical-data.csv").is_file() or any(root.glob("*clinical-data*.xlsx")):
        return "breast"
    if (root / "original").is_dir() and (root / "GT").is_dir():
        return "udiat"
    if (root / "images").is_dir() and (root / "labels.csv").is_file():
        return "folder"
    if any((root / c).is_dir() for c in ("benign", "malignant")):
        return "busi"
    raise DataError(
        f"cannot tell the dataset format of {root}; expected BUSI (benign/ malignant/ normal/), BrEaST "
        "(clinical-data.csv), BUS-BRA (bus_data.csv, Images/), UDIAT (original/, GT/) or a folder "
        "(images/, masks/, labels.csv); pass --format"
    )


def load_dataset(root: Path, fmt: str | None = None) -> DatasetIndex:
    fmt = fmt or detect_format(root)
    if fmt not in ADAPTERS:
        raise DataError(f"unknown dataset format {fmt!r}; one of {', '.join(ADAPTERS)}")
    return ADAPTERS[fmt](Path(root))
