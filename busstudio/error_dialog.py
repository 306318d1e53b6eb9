"""Errors as a dialog (reason + what to do), never a crash; every error is written to the log file."""

from __future__ import annotations

import sys
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from busstudio.error_advice import advise
from busstudio.logs import get_logger, log_path

_log = get_logger("errors")
_open_dialogs: list[QMessageBox] = []


def show_error(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """Log `exc` and show a non-blocking dialog with its reason and what to do."""
    advice = advise(exc)
    if advice.expected:
        _log.warning("%s: %s", advice.title, advice.reason)
    else:
        _log.error("%s", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if advice.expected else QMessageBox.Icon.Critical)
    box.setWindowTitle(advice.title)
    box.setText(advice.reason)
    box.setInformativeText(f"{advice.what_to_do}\n\nLog file: {log_path()}")
    box.setObjectName("errorDialog")
    box.finished.connect(lambda *_: _open_dialogs.remove(box) if box in _open_dialogs else None)
    _open_dialogs.append(box)
    box.open()  # non-modal: a dialog never blocks a worker, a test or the event loop
    return box


def open_error_dialogs() -> list[QMessageBox]:
    return list(_open_dialogs)


def install_excepthook(parent_getter):
    """Route uncaught exceptions (in slots and callbacks) to the dialog instead of ending the app."""

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            show_error(parent_getter(), exc)
        except Exception:  # the dialog itself failed: fall back to stderr, still no crash
            sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = hook
    return hook
