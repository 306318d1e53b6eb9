"""Suggest mask: a click places a contour made by the semantic-curvature generator from the chosen attributes."""

from __future__ import annotations

from busstudio import engine_parts
from busstudio.bindings.pointer import Pointer, Tool
from busstudio.models.annotations import AnnotationModel, Lesion
from busstudio.models.edits import AddLesion
from engine.errors import InputError

MASKS_ISSUE = "Semantic-curvature mask generator"


class SuggestTool(Tool):
    name = "suggest"
    cursor = "cross"

    def __init__(self, model: AnnotationModel, history, description_source, calibration_source):
        self.model = model
        self.history = history
        self.description_source = description_source  # () -> (LesionDescription, text)
        self.calibration_source = calibration_source  # () -> Calibration | None
        self.next_seed = 0

    def press(self, p: Pointer) -> None:
        self.suggest_at(p.x, p.y)

    def suggest_at(self, x: float, y: float, seed: int | None = None) -> Lesion:
        module = engine_parts.require_module(
            "engine.masks.generator",
            "the semantic-curvature mask generator (engine.masks.generator)",
            MASKS_ISSUE,
        )
        generate_contour = engine_parts.attr(module, "generate_contour", "suggesting a contour", MASKS_ISSUE)
        calibration = self.calibration_source()
        scale = calibration.at(x, y) if calibration is not None else None
        if scale is None:
            raise InputError(
                "no mm scale at this point (outside a calibrated region, or the image has no calibration); "
                "click inside the calibrated image area or draw the contour by hand"
            )
        mm_per_pixel = (scale.mm_per_pixel_x + scale.mm_per_pixel_y) / 2
        seed = self.next_seed if seed is None else seed
        self.next_seed = seed + 1
        description, text = self.description_source()
        contour, completed, _band = generate_contour(description, seed, mm_per_pixel, (x, y))
        lesion = Lesion(
            id=self.model.new_id(),
            frame=self.model.frame,
            contour=contour,
            description=description,
            text=text,
        )
        self.history.push(AddLesion(self.model, lesion, f"Suggest mask (seed {seed})"))
        self.model.tell(
            f"Suggested contour, seed {seed}: {completed.size_mm:.1f} mm; edit it with the Contour tool (C)."
        )
        return self.model.get(lesion.id)
