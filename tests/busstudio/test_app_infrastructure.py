"""Settings, error advice and dialogs, workers, logging: the app's plumbing, on real widgets offscreen."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from busstudio.app_settings import (
    AppSettings,
    is_first_run,
    load_settings,
    mark_first_run_done,
    save_settings,
)
from busstudio.error_advice import advise
from engine.errors import DicomError, InputError, MissingPartError, ModelError


def test_settings_round_trip_and_validation(qsettings, tmp_path):
    s = AppSettings(tmp_path / "model", "onnx-cpu", tmp_path / "data", "1.2.3", deidentify=False)
    save_settings(s, qsettings)
    back = load_settings(qsettings)
    assert back == AppSettings(tmp_path / "model", "onnx-cpu", tmp_path / "data", "1.2.3.", deidentify=False)
    with pytest.raises(InputError, match="dotted digits"):
        save_settings(AppSettings(tmp_path, "auto", tmp_path, "1.2.x"), qsettings)
    with pytest.raises(InputError, match="backend"):
        save_settings(AppSettings(tmp_path, "gpu", tmp_path, "1.2."), qsettings)
    assert is_first_run(qsettings)
    mark_first_run_done(qsettings)
    assert not is_first_run(qsettings)


def test_default_settings_come_from_the_engine(qsettings, monkeypatch, tmp_path):
    monkeypatch.setenv("BUS_MODEL_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("BUS_BACKEND", "torch-cpu")
    s = load_settings(qsettings)
    assert s.model_dir == tmp_path / "m" and s.backend == "torch-cpu" and s.deidentify is True


def test_advice_names_reason_and_remedy():
    a = advise(DicomError("x.dcm", "no decoder for JPEG 2000 (install pylibjpeg-openjpeg)", "(7FE0,0010)"))
    assert a.expected and "x.dcm" in a.reason and "pylibjpeg" in a.what_to_do
    assert "model" in advise(ModelError("resources/models/x has no config.json")).what_to_do.lower()
    assert "memory" in advise(MemoryError()).title.lower()
    assert advise(MissingPartError("the thing (engine.thing)", "Thing")).title == "Not built yet"
    unexpected = advise(ZeroDivisionError("division by zero"))
    assert not unexpected.expected and "ZeroDivisionError" in unexpected.reason


def test_excepthook_shows_a_dialog_instead_of_crashing(window, qtbot):
    from busstudio.error_dialog import install_excepthook, open_error_dialogs

    previous = sys.excepthook
    try:
        hook = install_excepthook(lambda: window)
        assert sys.excepthook is hook
    finally:
        sys.excepthook = previous
    before = len(open_error_dialogs())
    try:
        raise InputError("the field 'size' must be a number")
    except InputError:
        hook(*sys.exc_info())
    dialogs = open_error_dialogs()
    assert len(dialogs) == before + 1
    box = dialogs[-1]
    assert "size" in box.text() and "Log file" in box.informativeText()
    box.close()


def test_error_is_written_to_the_log_file(window):
    from busstudio.error_dialog import show_error
    from busstudio.logs import log_path, setup_logging

    path = setup_logging()
    assert path == log_path()
    show_error(window, ModelError("model folder /nowhere has no config.json")).close()
    assert "/nowhere has no config.json" in Path(path).read_text()


def test_worker_reports_progress_result_and_cancel(qtbot):
    from busstudio.workers import Worker, WorkerRunner

    runner = WorkerRunner()
    progress = []

    def task(report, is_cancelled):
        for i in range(3):
            report((i + 1) / 3, f"step {i + 1}")
        return threading.current_thread() is not threading.main_thread()

    worker = Worker(task, "counting")
    worker.signals.progress.connect(lambda f, m: progress.append((round(f, 2), m)))
    with qtbot.waitSignal(worker.signals.finished, timeout=10000) as blocker:
        runner.start(worker)
    assert blocker.args == [True]  # ran off the UI thread
    qtbot.waitUntil(lambda: len(progress) == 3)
    assert progress[-1] == (1.0, "step 3")

    gate = threading.Event()

    def slow(report, is_cancelled):
        gate.wait(5)
        report(0.5, "half")  # raises Cancelled once cancel() was called
        return "not reached"

    worker = Worker(slow, "slow")
    finished = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=10000):
        runner.start(worker)
        worker.cancel()
        gate.set()
    assert finished == []

    failing = Worker(lambda report, is_cancelled: 1 / 0, "failing")
    with qtbot.waitSignal(failing.signals.failed, timeout=10000) as blocker:
        runner.start(failing)
    assert isinstance(blocker.args[0], ZeroDivisionError)
    qtbot.waitUntil(lambda: not runner.running)
