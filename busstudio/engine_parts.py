"""The engine rooms the app builds on, asked for by name: a missing room is a clear message, never a fake.

Each function returns the module (or raises MissingPartError naming the part and its issue).
"""

from __future__ import annotations

from engine.errors import MissingPartError
from engine.parts import require


def require_module(module: str, part: str, issue: str):
    return require(module, part, issue)


def dicom():
    return require("engine.dicom", "DICOM reading and writing (engine.dicom)", "DICOM in and out")


def contour_spline():
    return require(
        "engine.contour.spline",
        "the contour model (engine.contour.spline)",
        "Semantic-curvature mask generator",
    )


def masks():
    return require(
        "engine.masks",
        "the semantic-curvature mask generator (engine.masks)",
        "Semantic-curvature mask generator",
    )


def language_parser():
    return require(
        "engine.language.parser",
        "the clinical language parser (engine.language.parser)",
        "Clinical language",
    )


def generator():
    module = require(
        "engine.generator",
        "the tumor generator pipeline (engine.generator)",
        "The text- and mask-guided diffusion generator",
    )
    if not hasattr(module, "run_job"):
        raise MissingPartError(
            "engine.generator.run_job (the main job's synthesis step)",
            "The text- and mask-guided diffusion generator",
        )
    return module


def attr(module, name: str, part: str, issue: str):
    """A function the app needs from a room that exists but has not grown it yet."""
    if not hasattr(module, name):
        raise MissingPartError(f"{part} ({module.__name__}.{name})", issue)
    return getattr(module, name)


def open_study(path):
    mod = dicom()
    return attr(mod, "open_study", "opening a study", "DICOM in and out")(path)
