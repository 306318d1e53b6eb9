"""Dataset adapters: one per public format, all giving the same Case records.

Adapters index files and labels only; pixels are read on demand with engine.datasets.images.
"""

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.breast import load_breast
from engine.datasets.busbra import load_busbra
from engine.datasets.busi import load_busi
from engine.datasets.detect import ADAPTERS, detect_format, load_dataset
from engine.datasets.folder import load_folder
from engine.datasets.udiat import load_udiat

__all__ = [
    "ADAPTERS",
    "Case",
    "DatasetIndex",
    "Skipped",
    "detect_format",
    "load_breast",
    "load_busbra",
    "load_busi",
    "load_dataset",
    "load_folder",
    "load_udiat",
]
