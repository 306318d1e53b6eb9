"""Export a kept result: a synthetic DICOM study (US image + SEG + SR, de-identified by default) and PNGs.

The DICOM writing is the dicom room's (engine.dicom.writer.write_synthetic_study); this module only
gathers what it needs from the lesion: frame, mask, coded description, and how the pixels were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from busstudio import engine_parts
from busstudio.models.annotations import Lesion
from busstudio.models.session import write_png
from engine.errors import InputError

DICOM_ISSUE = "DICOM in and out"


@dataclass(frozen=True)
class ExportedFiles:
    image: Path
    segmentation: Path
    report: Path
    pngs: tuple[Path, ...]


def chosen_variant(lesion: Lesion):
    if not lesion.results:
        raise InputError(f"lesion {lesion.id} has no generated result yet; generate, then keep one")
    index = lesion.chosen_result if lesion.chosen_result is not None else len(lesion.results) - 1
    if not 0 <= index < len(lesion.results):
        raise InputError(f"lesion {lesion.id}: kept result {index} does not exist")
    return lesion.results[index]


def coded_description(description, text: str) -> dict:
    """The writer's description: text, coded qualitative evaluations and the size measurements."""
    out = {"text": text, "qualitative_evaluations": [], "measurements": []}
    if description is None:
        return out
    codes = engine_parts.require_module(
        "engine.language.codes", "coded BI-RADS concepts (engine.language.codes)", "Clinical language"
    )
    out["qualitative_evaluations"] = [
        (codes.to_highdicom(c), codes.to_highdicom(v))
        for c, v in codes.description_to_coded_pairs(description)
    ]
    out["measurements"] = [
        (codes.to_highdicom(c), value, codes.to_highdicom(u))
        for c, value, u in codes.description_to_measurements(description)
    ]
    return out


def export_pngs(original: np.ndarray, lesion: Lesion, out_dir: Path) -> tuple[Path, ...]:
    """original.png, synthetic.png and mask.png (for papers), written atomically."""
    variant = chosen_variant(lesion)
    mask = lesion.contour.raster(original.shape[:2])
    paths = (out_dir / "original.png", out_dir / "synthetic.png", out_dir / "mask.png")
    write_png(paths[0], original)
    write_png(paths[1], variant.pixels)
    write_png(paths[2], (mask.astype(np.uint8) * 255))
    return paths


def export_study(
    study, lesion: Lesion, out_dir: str | Path, *, deidentify: bool = True, uid_root: str | None = None
) -> ExportedFiles:
    out_dir = Path(out_dir)
    variant = chosen_variant(lesion)
    frame = study.frame(lesion.frame)
    mask = lesion.contour.raster(frame.gray.shape[:2])
    writer = engine_parts.require_module(
        "engine.dicom.writer", "the synthetic DICOM writer (engine.dicom.writer)", DICOM_ISSUE
    )
    write = engine_parts.attr(writer, "write_synthetic_study", "writing a synthetic study", DICOM_ISSUE)
    derivation = {
        "model": variant.record.get("model", {}).get("name", variant.record.get("method", "unknown"))
        if isinstance(variant.record.get("model"), dict)
        else variant.record.get("method", "unknown"),
        "method": variant.record.get("method", "unknown"),
        "seed": variant.seed,
    }
    for key in ("steps", "guidance", "strength", "backend"):
        if key in variant.record:
            derivation[key] = variant.record[key]
    paths = write(
        study,
        [variant.pixels],
        mask[None],
        coded_description(lesion.description, lesion.text),
        derivation,
        out_dir,
        deidentify=deidentify,
        uid_root=uid_root,
    )
    pngs = export_pngs(frame.gray, lesion, out_dir)
    return ExportedFiles(Path(paths.image), Path(paths.segmentation), Path(paths.report), pngs)
