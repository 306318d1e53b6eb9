"""The one record every dataset adapter produces, and the report of what it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.language.description import LesionDescription


@dataclass(frozen=True)
class Case:
    dataset: str  # "busi", "breast", ...
    case_id: str  # unique within the dataset, e.g. "benign (12)" or "case001"
    patient_id: str  # splits keep a patient's images together; equals case_id when unknown
    image_path: Path
    mask_paths: tuple[Path, ...]  # one per lesion; empty for normal images
    label: str  # "benign", "malignant" or "normal"
    mm_per_pixel: float | None = None
    description: LesionDescription | None = None  # the radiologists' labels, where the dataset has them

    @property
    def has_lesion(self) -> bool:
        return bool(self.mask_paths)


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class DatasetIndex:
    name: str
    root: Path
    cases: list[Case] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def lesion_cases(self) -> list[Case]:
        return [c for c in self.cases if c.has_lesion]

    def __len__(self) -> int:
        return len(self.cases)
