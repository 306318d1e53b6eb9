"""Propagation off the UI thread: a status-bar strip (progress, Cancel) that runs the optical flow of
a PropagationPlan in a worker and applies the result on the UI thread when it finishes.

The worker reads frames from its own opening of the study file (the viewer's study object decodes
frames lazily from the file and is not shared across threads); an in-memory study is read directly.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from busstudio.tools.propagate_action import apply_propagation, plan_propagation
from busstudio.workers import Worker, WorkerRunner
from engine.errors import InputError


def frame_reader(study, path):
    """() -> frame_at(i) for a worker thread: a fresh opening of `path` when there is one."""

    def open_reader():
        source = study
        if path is not None:
            from busstudio import engine_parts

            source = engine_parts.open_study(path)
        return lambda i: source.frame(i).gray

    return open_reader


class PropagationProgress(QWidget):
    failed = Signal(object)  # an exception for the main window's error dialog
    finished = Signal(list)  # the frames written (empty when nothing changed)

    def __init__(self, annotations, history, runner: WorkerRunner, parent=None):
        super().__init__(parent)
        self.annotations = annotations
        self.history = history
        self.runner = runner
        self.worker: Worker | None = None
        self.label = QLabel("Propagating", self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop propagating (Esc); nothing is changed")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.progress)
        lay.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancel)
        self.hide()

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, n_frames: int, open_reader, steps: int | None = None, snap_px: float = 0.0) -> Worker:
        """Propagate the current lesion through `n_frames` frames; `open_reader()` runs in the worker
        and returns frame_at(i)."""
        if self.worker is not None:
            raise InputError("propagation is already running; wait for it or cancel it (Esc)")
        plan = plan_propagation(self.annotations, n_frames, steps, snap_px)

        def task(progress, is_cancelled):
            frame_at = open_reader()
            return plan.run(frame_at, progress)

        worker = Worker(task, "propagation")
        worker.signals.progress.connect(self._progress)
        worker.signals.finished.connect(lambda _: self._finished(plan))
        worker.signals.failed.connect(self.failed.emit)
        worker.signals.cancelled.connect(self._cancelled)
        worker.signals.done.connect(self._done)
        self.worker = worker
        self.progress.setValue(0)
        self.label.setText(f"Propagating through {n_frames} frames")
        self.show()
        self.runner.start(worker)
        return worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.label.setText("Cancelling…")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.label.setText(message)

    def _finished(self, plan) -> None:
        self.finished.emit(apply_propagation(self.annotations, self.history, plan))

    def _cancelled(self) -> None:
        self.annotations.tell("Propagation cancelled; no contour was changed.")
        self.finished.emit([])

    def _done(self) -> None:
        self.worker = None
        self.hide()
