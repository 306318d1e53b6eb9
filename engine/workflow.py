"""The main job, one path for the command line, the app and the evaluation:

sample or user study -> frame -> description from text -> mask from the description -> tumor
synthesis -> synthetic DICOM study (image, SEG, SR) and PNG preview.

Each step lives in its own room; this module only checks that the rooms exist and walks them in
order. A room that is not built yet stops the job with a message naming it (never a fake result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import MissingPartError
from engine.generator import defaults
from engine.parts import require

# (module, what it does, the issue that builds it), in the order the main job needs them.
MAIN_JOB_PARTS = (
    ("engine.dicom", "DICOM reading and writing (engine.dicom)", "DICOM in and out"),
    ("engine.language", "the clinical language parser (engine.language)", "Clinical language"),
    (
        "engine.masks",
        "the semantic-curvature mask generator (engine.masks)",
        "Semantic-curvature mask generator",
    ),
    (
        "engine.generator",
        "the tumor generator pipeline (engine.generator)",
        "The text- and mask-guided diffusion generator",
    ),
)


@dataclass
class SynthesisJob:
    input: Path
    text: str
    out_dir: Path
    frame: int = 0
    mask: Path | None = None
    contour: Path | None = None
    seed: int = 0
    steps: int = defaults.STEPS
    guidance: float = defaults.GUIDANCE
    strength: float = defaults.STRENGTH
    variants: int = 1
    method: str = "diffusion"
    backend: str = "auto"
    model_dir: Path | None = None
    deidentify: bool = True
    extra: dict = field(default_factory=dict)


def missing_parts() -> list[MissingPartError]:
    missing = []
    for module, part, issue in MAIN_JOB_PARTS:
        try:
            require(module, part, issue)
        except MissingPartError as exc:
            missing.append(exc)
    return missing


def run(job: SynthesisJob):
    """Run the main job; the generator room owns the walk once every part exists."""
    missing = missing_parts()
    if missing:
        raise missing[0]
    generator = require("engine.generator", MAIN_JOB_PARTS[-1][1], MAIN_JOB_PARTS[-1][2])
    if not hasattr(generator, "run_job"):
        raise MissingPartError(
            "engine.generator.run_job (the main job's synthesis step)", MAIN_JOB_PARTS[-1][2]
        )
    return generator.run_job(job)
