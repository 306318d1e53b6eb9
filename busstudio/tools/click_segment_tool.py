"""Segment tool: a click on a lesion, or a dragged box around it, adds an editable contour made by
the click segmenter (or the classical fallback when no segmenter is installed; the status bar and
the lesion's `method` say which ran)."""

from __future__ import annotations

import numpy as np

from busstudio.bindings.pointer import Pointer, Tool
from busstudio.models.annotations import AnnotationModel, Lesion
from busstudio.models.edits import AddLesion
from engine.errors import InputError

DRAG_START_PX = 4.0  # screen pixels: a shorter drag is a click
_NOT_LOADED = object()


class ClickSegmentTool(Tool):
    name = "segment"
    cursor = "cross"

    def __init__(self, model: AnnotationModel, history, frame_source, segmenter_loader=None):
        self.model = model
        self.history = history
        self.frame_source = frame_source  # () -> the current frame's gray array, or None
        self.segmenter_loader = segmenter_loader  # () -> Segmenter | None; default: the installed one
        self._segmenter = _NOT_LOADED
        self._start: tuple[float, float] | None = None
        self._dragged = False

    @property
    def segmenter(self):
        if self._segmenter is _NOT_LOADED:
            if self.segmenter_loader is None:
                from engine.annotation.segmenter import try_load_segmenter

                self._segmenter = try_load_segmenter()
            else:
                self._segmenter = self.segmenter_loader()
        return self._segmenter

    def press(self, p: Pointer) -> None:
        self._start, self._dragged = (p.x, p.y), False

    def move(self, p: Pointer) -> None:
        if self._start is None:
            return
        sx, sy = self._start
        if self._dragged or np.hypot(p.x - sx, p.y - sy) * p.scale >= DRAG_START_PX:
            self._dragged = True
            self.model.set_box((sx, sy, p.x, p.y))

    def release(self, p: Pointer) -> None:
        start, dragged, self._start = self._start, self._dragged, None
        if start is None:
            return
        self.model.set_box(None)
        if dragged:
            (ax, ay), (bx, by) = start, (p.x, p.y)
            self.segment(box=(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        else:
            self.segment(click=start)

    def cancel(self) -> None:
        self._start = None
        self.model.set_box(None)

    def segment(self, click=None, box=None) -> Lesion:
        """Run click-to-segment on the current frame and add the lesion (one undoable edit)."""
        from engine.annotation.click_segment import segment

        gray = self.frame_source()
        if gray is None:
            raise InputError("open an image before segmenting a lesion")
        result = segment(gray, click=click, box=box, segmenter=self.segmenter)
        lesion = Lesion(
            id=self.model.new_id(), frame=self.model.frame, contour=result.contour, method=result.method
        )
        self.history.push(AddLesion(self.model, lesion, f"Segment lesion ({result.method})"))
        fallback = " (no click segmenter installed: classical fallback)" if self.segmenter is None else ""
        self.model.tell(
            f"Segmented with {result.method}{fallback} in {result.seconds * 1000:.0f} ms: "
            f"{len(result.contour)} points; edit them with the Contour tool (C)."
        )
        return self.model.get(lesion.id)
