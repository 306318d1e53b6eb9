"""Lesions drawn on frames: each has a contour (the editable curve), a description, its text and results.

Qt-free: the contour tool and the undo edits change this model through its methods; views listen to
its events (`lesions`: the set or a contour changed, `current`, `selection`, `draft`, `message`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from busstudio.events import EventGroup

PROPAGATED_PREFIX = "dis-flow"  # methods of contours carried by propagation (engine.annotation.propagate)
CORRECTED = "corrected"  # a propagated contour edited by hand: propagation stops at it


def edited_method(method: str, aid: str | None = None) -> str:
    """The method of a contour after a hand edit: a propagated one becomes `corrected`, and an edit
    made with an aid (`livewire`, `snap`) adds it once (`segmenter-box+livewire`)."""
    base = CORRECTED if method.startswith(PROPAGATED_PREFIX) else method
    if aid and aid not in base.split("+"):
        base = f"{base}+{aid}"
    return base


@dataclass
class Lesion:
    id: int
    frame: int
    contour: object  # engine.contour.spline.Contour
    description: object | None = None  # engine.language.LesionDescription
    text: str = ""
    results: list = field(default_factory=list)  # generated results (GenerationResult), newest last
    chosen_result: int | None = None
    method: str = (
        "manual"  # what made the contour: manual, livewire, segmenter-box, dis-flow, corrected+snap, ...
    )
    track: int | None = None  # lesions carried through a cine loop share one track id


class AnnotationModel:
    def __init__(self):
        self.events = EventGroup("lesions", "current", "selection", "draft", "message")
        self.lesions: list[Lesion] = []
        self.frame = 0
        self.current_id: int | None = None
        self.selection: set[int] = set()  # selected control points of the current lesion
        self.draft: list[tuple[float, float]] = []  # points of the lesion being placed (not closed yet)
        self.box: tuple[float, float, float, float] | None = None  # box selection in progress
        self._next_id = 1

    # queries ---------------------------------------------------------------------------------------
    def on_frame(self, frame: int | None = None) -> list[Lesion]:
        frame = self.frame if frame is None else frame
        return [les for les in self.lesions if les.frame == frame]

    def get(self, lesion_id: int | None) -> Lesion | None:
        return next((les for les in self.lesions if les.id == lesion_id), None)

    @property
    def current(self) -> Lesion | None:
        les = self.get(self.current_id)
        return les if les is not None and les.frame == self.frame else None

    def new_id(self) -> int:
        i = self._next_id
        self._next_id += 1
        return i

    # state changes (called by edits and tools) --------------------------------------------------------
    def set_frame(self, frame: int) -> None:
        if frame != self.frame:
            self.frame = frame
            self.draft = []
            self.box = None
            self.selection = set()
            on = self.on_frame()
            self.current_id = on[0].id if on else None
            self.events.current.emit(lesion=self.current)
            self.events.lesions.emit()

    def add_lesion(self, lesion: Lesion, index: int | None = None) -> None:
        self._next_id = max(self._next_id, lesion.id + 1)
        self.lesions.insert(len(self.lesions) if index is None else index, lesion)
        self.set_current(lesion.id)
        self.events.lesions.emit()

    def remove_lesion(self, lesion_id: int) -> int:
        """Remove and return the list index it had (for undo)."""
        index = next(i for i, les in enumerate(self.lesions) if les.id == lesion_id)
        del self.lesions[index]
        if self.current_id == lesion_id:
            on = self.on_frame()
            self.set_current(on[-1].id if on else None)
        self.events.lesions.emit()
        return index

    def set_contour(self, lesion_id: int, contour) -> None:
        lesion = self.get(lesion_id)
        lesion.contour = contour
        n = len(contour)
        if lesion_id == self.current_id and any(i >= n for i in self.selection):
            self.set_selection({i for i in self.selection if i < n})
        self.events.lesions.emit()

    def set_method(self, lesion_id: int, method: str) -> None:
        self.get(lesion_id).method = method
        self.events.lesions.emit()

    def set_description(self, lesion_id: int, description, text: str) -> None:
        lesion = self.get(lesion_id)
        lesion.description, lesion.text = description, text
        self.events.lesions.emit()

    def set_current(self, lesion_id: int | None) -> None:
        if lesion_id != self.current_id:
            self.current_id = lesion_id
            self.selection = set()
            self.events.selection.emit(selection=self.selection)
            self.events.current.emit(lesion=self.current)

    def set_selection(self, indices) -> None:
        indices = set(indices)
        if indices != self.selection:
            self.selection = indices
            self.events.selection.emit(selection=indices)

    def set_draft(self, points) -> None:
        self.draft = [tuple(map(float, p)) for p in points]
        self.events.draft.emit(points=self.draft)

    def set_box(self, box) -> None:
        self.box = box
        self.events.draft.emit(points=self.draft)

    def tell(self, text: str) -> None:
        """A short message for the status bar (why an edit was refused, what to do next)."""
        self.events.message.emit(text=text)

    # session ---------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.lesions = []
        self.current_id = None
        self.selection = set()
        self.draft = []
        self.box = None
        self.events.current.emit(lesion=None)
        self.events.lesions.emit()

    def points_in_box(self, lesion: Lesion, box) -> set[int]:
        x0, y0, x1, y1 = box
        lo = np.array([min(x0, x1), min(y0, y1)])
        hi = np.array([max(x0, x1), max(y0, y1)])
        pts = lesion.contour.points
        inside = np.all((pts >= lo) & (pts <= hi), axis=1)
        return {int(i) for i in np.flatnonzero(inside)}
