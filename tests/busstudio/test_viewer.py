"""The main window and image view driven with real mouse and key events, offscreen."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PySide6.QtCore import QPoint, Qt

from busstudio.bindings.keys import SHORTCUTS


def _viewport_point(window, x, y) -> QPoint:
    return window.view.mapFromScene(x, y)


def test_open_each_dicom_file(window, dicom_dir, qtbot):
    files = sorted(dicom_dir.glob("*.dcm"))
    assert len(files) >= 20
    for path in files:
        window.open_path(path)
        model = window.image
        assert model.path == path
        shown = window.view.pixmap_item.pixmap()
        h, w = model.shape
        assert (shown.width(), shown.height()) == (w, h), path.name
        assert window.scrubber.isVisibleTo(window) == (model.n_frames > 1), path.name
        if model.n_frames > 1:
            window.scrubber.slider.setValue(model.n_frames - 1)
            assert model.frame_index == model.n_frames - 1


def test_readout_shows_mm_only_inside_the_calibrated_region(window, dicom_dir, qtbot):
    window.open_path(dicom_dir / "us_jpeg-lossless-sv1_mono2_regions_epiq7c.dcm")
    cal = window.image.calibration
    region = cal.calibrated_regions[0]
    inside = ((region.x0 + region.x1) / 2, (region.y0 + region.y1) / 2)
    qtbot.mouseMove(window.view.viewport(), _viewport_point(window, *inside))
    assert " mm" in window.readout_label.text() and "value" in window.readout_label.text()
    outside = (2, 2)
    assert not region.contains(*outside)
    qtbot.mouseMove(window.view.viewport(), _viewport_point(window, *outside))
    assert "not in a calibrated region" in window.readout_label.text()


def test_right_drag_changes_window_level_and_reset_key_restores(window, sample_path, qtbot):
    window.open_path(sample_path)
    vp = window.view.viewport()
    start = QPoint(400, 300)
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(-80, 30))
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=start + QPoint(-80, 30))
    wl = window.image.window_level
    assert wl.window < 256 and wl.level > 127.5
    before = window.view.pixmap_item.pixmap().toImage()
    window.actions["reset_window_level"].trigger()
    assert window.image.window_level.window == 256
    assert window.view.pixmap_item.pixmap().toImage() != before


def test_wheel_zooms_and_fit_restores(window, sample_path, qtbot):
    window.open_path(sample_path)
    fitted = window.view.scale_factor()
    window.actions["zoom_in"].trigger()
    assert window.view.scale_factor() > fitted * 1.2
    window.actions["fit"].trigger()
    assert abs(window.view.scale_factor() - fitted) < 1e-6


def test_cine_play_advances_frames(window, dicom_dir, qtbot):
    window.open_path(dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm")
    assert window.image.n_frames == 30
    window.actions["play"].trigger()
    qtbot.waitUntil(lambda: window.image.frame_index >= 2, timeout=5000)
    window.actions["play"].trigger()
    assert not window.scrubber.timer.isActive()
    frame = window.image.frame_index
    window.actions["previous_frame"].trigger()
    assert window.image.frame_index == frame - 1


def test_unreadable_file_is_a_dialog_not_a_crash(window, tmp_path, qtbot):
    from busstudio.error_dialog import open_error_dialogs

    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"DICM but not really" * 10)
    window._guarded(lambda: window.open_path(bad))
    box = open_error_dialogs()[-1]
    assert "broken.dcm" in box.text()
    assert window.image.is_empty
    box.close()


def test_help_lists_every_shortcut(window, qtbot):
    window.actions["help"].trigger()
    from busstudio.help_dialog import HelpDialog

    dialog = window.findChild(HelpDialog, "helpDialog")
    assert dialog is not None and dialog.isVisible()
    listed = {dialog.table.item(i, 0).text() for i in range(dialog.table.rowCount())}
    assert {s.keys for s in SHORTCUTS} <= listed
    dialog.close()


def test_first_run_opens_the_sample_study(qsettings, qtbot, sample_path):
    import argparse

    from busstudio.main_window import create_window, is_first_run

    args = argparse.Namespace(path=None, screenshot=None, frame=0)
    window = create_window(args, qsettings)
    qtbot.addWidget(window)
    assert window.image.path == sample_path
    assert not is_first_run(qsettings)
    second = create_window(args, qsettings)  # later runs start empty
    qtbot.addWidget(second)
    assert second.image.is_empty


def test_screenshot_command_writes_a_1280x800_png(tmp_path, dicom_dir):
    out = tmp_path / "shot.png"
    cine = dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm"
    proc = subprocess.run(
        [sys.executable, "-m", "busstudio.app", str(cine), "--screenshot", str(out), "--frame", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (800, 1280, 3)
    assert img.std() > 10  # the image is drawn, not an empty window
