"""Index a folder of studies for the study browser: patient -> study -> series -> files, with thumbnails.

Qt-free; runs in a worker (progress and cancel), reading each file's header and first frame only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from busstudio import engine_parts

THUMBNAIL_PX = 96
IMAGE_SUFFIXES = {".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ""}


@dataclass
class IndexedFile:
    path: Path
    patient: str
    study: str
    series: str
    n_frames: int
    thumbnail: np.ndarray | None  # uint8 gray, longest side THUMBNAIL_PX
    error: str = ""


@dataclass
class FolderIndex:
    folder: Path
    files: list[IndexedFile] = field(default_factory=list)

    def grouped(self) -> dict[str, dict[str, dict[str, list[IndexedFile]]]]:
        tree: dict = {}
        for f in sorted(self.files, key=lambda f: (f.patient, f.study, f.series, f.path.name)):
            tree.setdefault(f.patient, {}).setdefault(f.study, {}).setdefault(f.series, []).append(f)
        return tree


def thumbnail(gray: np.ndarray, size: int = THUMBNAIL_PX) -> np.ndarray:
    import cv2

    h, w = gray.shape[:2]
    scale = size / max(h, w)
    return cv2.resize(
        gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )


def _labels(study) -> tuple[str, str, str]:
    info = getattr(study, "info", None)
    if info is None or not getattr(info, "study", None):
        return "(no patient: image file)", "(no study)", "(no series)"
    p, s, r = info.patient, info.study, info.series
    patient = (
        " ".join(x for x in (p.PatientName, f"[{p.PatientID}]" if p.PatientID else "") if x)
        or "(unnamed patient)"
    )
    study_label = (
        " ".join(x for x in (s.StudyDate, s.StudyDescription) if x) or s.StudyInstanceUID or "(study)"
    )
    series_label = (
        " ".join(
            x
            for x in (
                r.Modality,
                f"#{r.SeriesNumber}" if r.SeriesNumber is not None else "",
                r.SeriesDescription,
            )
            if x
        )
        or r.SeriesInstanceUID
        or "(series)"
    )
    return patient, study_label, series_label


def index_folder(
    folder: str | Path, progress=lambda f, m="": None, is_cancelled=lambda: False
) -> FolderIndex:
    folder = Path(folder)
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )
    index = FolderIndex(folder)
    for k, path in enumerate(candidates):
        if is_cancelled():
            break
        progress(k / max(len(candidates), 1), path.name)
        try:
            study = engine_parts.open_study(path)
            patient, study_label, series = _labels(study)
            index.files.append(
                IndexedFile(
                    path, patient, study_label, series, int(study.n_frames), thumbnail(study.frame(0).gray)
                )
            )
        except Exception as exc:  # an unreadable file is listed with its reason, never stops the scan
            if path.suffix.lower() in (".dcm", ".dicom", ".png", ".jpg", ".jpeg"):
                index.files.append(IndexedFile(path, "(unreadable)", "", "", 0, None, str(exc)))
    progress(1.0, f"{len(index.files)} files")
    return index
