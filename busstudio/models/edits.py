"""Undoable edits of the annotation model, as plain objects (no Qt).

Each edit keeps snapshots (contour copies), so undo and redo restore exact states whatever the edit
was. The app wraps them in QUndoCommands; headless code uses `History`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from busstudio.models.annotations import AnnotationModel, Lesion


class Edit:
    text = "edit"

    def redo(self) -> None: ...

    def undo(self) -> None: ...


@dataclass
class ReplaceContour(Edit):
    model: AnnotationModel
    lesion_id: int
    before: object
    after: object
    text: str = "Edit contour"
    selection_after: set | None = None
    method_before: str | None = None  # the lesion's method before and after (None: unchanged)
    method_after: str | None = None

    def redo(self) -> None:
        self.model.set_current(self.lesion_id)
        self.model.set_contour(self.lesion_id, self.after.copy())
        if self.method_after is not None:
            self.model.set_method(self.lesion_id, self.method_after)
        if self.selection_after is not None:
            self.model.set_selection(self.selection_after)

    def undo(self) -> None:
        self.model.set_current(self.lesion_id)
        self.model.set_contour(self.lesion_id, self.before.copy())
        if self.method_before is not None:
            self.model.set_method(self.lesion_id, self.method_before)


@dataclass
class AddLesion(Edit):
    model: AnnotationModel
    lesion: Lesion
    text: str = "Add lesion"
    draft_before: list | None = None

    def redo(self) -> None:
        self.model.set_draft([])
        lesion = copy.copy(self.lesion)
        lesion.contour = self.lesion.contour.copy()
        self.model.add_lesion(lesion)

    def undo(self) -> None:
        self.model.remove_lesion(self.lesion.id)
        if self.draft_before:
            self.model.set_draft(self.draft_before)


@dataclass
class RemoveLesion(Edit):
    model: AnnotationModel
    lesion: Lesion
    text: str = "Delete lesion"
    index: int | None = None

    def redo(self) -> None:
        self.index = self.model.remove_lesion(self.lesion.id)

    def undo(self) -> None:
        self.model.add_lesion(self.lesion, self.index)


@dataclass
class SetDraft(Edit):
    model: AnnotationModel
    before: list
    after: list
    text: str = "Place point"

    def redo(self) -> None:
        self.model.set_draft(self.after)

    def undo(self) -> None:
        self.model.set_draft(self.before)


@dataclass
class SetDescription(Edit):
    model: AnnotationModel
    lesion_id: int
    before: tuple  # (description, text)
    after: tuple
    text: str = "Describe lesion"

    def redo(self) -> None:
        self.model.set_description(self.lesion_id, *self.after)

    def undo(self) -> None:
        self.model.set_description(self.lesion_id, *self.before)


class History:
    """A plain undo stack with the QUndoStack calls the tools use (push applies the edit)."""

    def __init__(self):
        self.done: list[Edit] = []
        self.undone: list[Edit] = []

    def push(self, edit: Edit) -> None:
        edit.redo()
        self.done.append(edit)
        self.undone.clear()

    def undo(self) -> None:
        if self.done:
            edit = self.done.pop()
            edit.undo()
            self.undone.append(edit)

    def redo(self) -> None:
        if self.undone:
            edit = self.undone.pop()
            edit.redo()
            self.done.append(edit)
