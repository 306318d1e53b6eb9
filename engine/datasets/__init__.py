"""Dataset adapters: one per public format, all giving the same Case records.

Adapters index files and labels only; pixels are read on demand with engine.datasets.images.
"""

from engine.datasets.base import Case, DatasetIndex, Skipped
from engine.datasets.breast import load_breast
from engine.datasets.busi import load_busi

__all__ = ["Case", "DatasetIndex", "Skipped", "load_breast", "load_busi"]
