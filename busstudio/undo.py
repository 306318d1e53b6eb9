"""QUndoStack adapter: pushes the Qt-free edits as QUndoCommands (Ctrl+Z / Ctrl+Shift+Z)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack

from busstudio.models.edits import Edit


class _Command(QUndoCommand):
    def __init__(self, edit: Edit):
        super().__init__(edit.text)
        self.edit = edit

    def redo(self) -> None:
        self.edit.redo()

    def undo(self) -> None:
        self.edit.undo()


class UndoHistory:
    """What the tools see: push(edit), undo(), redo(), backed by a QUndoStack."""

    def __init__(self, stack: QUndoStack):
        self.stack = stack

    def push(self, edit: Edit) -> None:
        self.stack.push(_Command(edit))

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()
