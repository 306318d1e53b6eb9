"""App fixtures: an isolated QSettings file and data folder per test, and a shown main window."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_qt_paths(qapp):
    from PySide6.QtCore import QStandardPaths

    from busstudio.qt_compat import guard_none_refcount

    guard_none_refcount()  # the app applies it at start; tests make many more Qt calls

    qapp.setOrganizationName("BUS Studio")
    qapp.setApplicationName("BUS Studio")
    QStandardPaths.setTestModeEnabled(True)  # logs go to a test location, never the user's folder
    yield


@pytest.fixture
def qsettings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, qsettings):
    from busstudio.main_window import MainWindow

    w = MainWindow(qsettings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.workers.cancel_all()
    w.workers.wait(10000)


@pytest.fixture
def sample_path():
    from engine.settings import sample_study_path

    return sample_study_path()
