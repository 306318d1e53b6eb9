"""Background work off the UI thread: a task reports progress, can be cancelled, and never stalls the UI.

A task is a plain function `task(progress, is_cancelled) -> result` (no Qt), so engine code runs in it
unchanged; `progress(fraction, message)` may be called from the worker thread, and the signals carry it
to the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from busstudio.logs import get_logger
from engine.errors import BusError

_log = get_logger("workers")


class Cancelled(BusError):
    """The user pressed Cancel; the task stopped without a result."""

    def __init__(self, what: str = "the task"):
        super().__init__(f"{what} was cancelled")


class _Signals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()  # after any of the three above


class Worker(QRunnable):
    def __init__(self, task: Callable, name: str = "task"):
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps it until `done`
        self.task = task
        self.name = name
        self.signals = _Signals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled(self.name)
        self.signals.progress.emit(float(fraction), message)

    def run(self) -> None:
        try:
            result = self.task(self._progress, self.is_cancelled)
            if self._cancel.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.finished.emit(result)
        except Cancelled:
            self.signals.cancelled.emit()
        except BaseException as exc:  # reported to the UI thread, never lost in the pool
            _log.exception("%s failed", self.name)
            self.signals.failed.emit(exc)
        finally:
            self.signals.done.emit()


class WorkerRunner(QObject):
    """Starts workers on the global pool and keeps them alive until they are done."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: list[Worker] = []

    def start(self, worker: Worker) -> Worker:
        self._running.append(worker)
        worker.signals.done.connect(lambda: self._running.remove(worker) if worker in self._running else None)
        QThreadPool.globalInstance().start(worker)
        return worker

    @property
    def running(self) -> list[Worker]:
        return list(self._running)

    def cancel_all(self) -> None:
        for worker in self._running:
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        return QThreadPool.globalInstance().waitForDone(msecs)
