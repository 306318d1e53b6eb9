"""The researcher's workflow on real widgets: describe, suggest, generate, compare, keep, export, session."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt

from engine.language.lexicon import EchoPattern, Shape


def vp_point(window, x, y):
    return window.view.mapFromScene(float(x), float(y))


@pytest.fixture
def described(window, sample_path, qtbot):
    """The sample open, a description typed, and a contour suggested by a click."""
    window.open_path(sample_path)
    panel = window.attribute_panel
    window.tabs.setCurrentWidget(panel)  # a hidden widget gets no key events
    qtbot.keyClicks(panel.text, "irregular hypoechoic mass, not parallel, angular margin, 11 mm, zebra")
    qtbot.waitUntil(lambda: panel.value("shape") is Shape.IRREGULAR, timeout=3000)
    window.actions["tool_suggest"].trigger()
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp_point(window, 250, 200))
    return window


def test_text_and_form_stay_in_sync(window, sample_path, qtbot):
    window.open_path(sample_path)
    panel = window.attribute_panel
    window.tabs.setCurrentWidget(panel)  # a hidden widget gets no key events
    qtbot.keyClicks(panel.text, "round anechoic mass with posterior enhancement, zebra")
    qtbot.waitUntil(lambda: panel.value("shape") is Shape.ROUND, timeout=3000)
    assert panel.value("echo_pattern") is EchoPattern.ANECHOIC
    assert "zebra" in panel.unplaced.text()
    combo = panel.combos["echo_pattern"]
    combo.setCurrentIndex(combo.findData(EchoPattern.HYPOECHOIC.value))
    assert "hypoechoic" in panel.text.toPlainText() and "anechoic" not in panel.text.toPlainText()
    assert "round" in panel.text.toPlainText()


def test_suggest_mask_places_an_editable_described_contour(described, qtbot):
    w = described
    lesion = w.annotations.current
    assert lesion is not None and lesion.description.shape is Shape.IRREGULAR
    assert "zebra" in w.attribute_panel.unplaced.text() or lesion.text.endswith("zebra")
    centre = lesion.contour.points.mean(axis=0)
    assert np.hypot(*(centre - (250, 200))) < 40
    qtbot.waitUntil(lambda: "mm" in w.lesion_panel.measurement.text(), timeout=3000)
    w.undo_stack.undo()
    assert w.annotations.lesions == []


def test_description_edits_are_undoable(described, qtbot):
    w = described
    lesion = w.annotations.current
    combo = w.attribute_panel.combos["shape"]
    combo.setCurrentIndex(combo.findData(Shape.OVAL.value))
    assert lesion.description.shape is Shape.OVAL
    w.undo_stack.undo()
    assert w.annotations.current.description.shape is Shape.IRREGULAR
    assert w.attribute_panel.value("shape") is Shape.IRREGULAR


def test_generate_compare_keep_export_and_reread(described, qtbot, tmp_path):
    w = described
    panel = w.generate_panel
    panel.variants.setValue(2)
    panel.seed.setValue(11)
    with qtbot.waitSignal(panel.generated, timeout=60000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    lesion = w.annotations.current
    assert [v.seed for v in lesion.results] == [11, 12] and panel.gallery.count() == 2
    panel.compare_mode.setCurrentText("difference")
    assert w.image.substitute is not None and w.image.substitute.max() == 255
    panel.compare_mode.setCurrentText("side by side")
    assert w.image.substitute.shape[1] > 2 * w.image.shape[1]
    panel.gallery.setCurrentRow(1)
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert lesion.chosen_result == 1
    files = w.export_to(tmp_path / "export")
    from engine.dicom import open_study

    study = open_study(files.image)
    written = study.frame(0).gray
    kept = lesion.results[1].pixels
    region = w.image.calibration.region_mask(kept.shape, calibrated_only=True)
    assert np.array_equal(written[region], kept[region])  # the kept variant, inside the scan area
    src = pydicom.dcmread(w.image.path)
    out = pydicom.dcmread(files.image)
    assert out.get("PatientIdentityRemoved") == "YES" and out.StudyInstanceUID != src.StudyInstanceUID
    seg = pydicom.dcmread(files.segmentation)
    seg_mask = seg.pixel_array.astype(bool)
    assert np.array_equal(seg_mask, lesion.contour.raster(kept.shape))
    sr = pydicom.dcmread(files.report)
    assert sr.Modality == "SR"
    assert all(p.is_file() for p in files.pngs)


def test_cancel_stops_a_generation(described, qtbot):
    w = described
    panel = w.generate_panel
    panel.variants.setValue(16)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.worker is not None and panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.worker is None, timeout=60000)
    assert w.annotations.current.results == []  # a cancelled run adds nothing
    assert "Cancelled" in panel.progress_label.text() and panel.generate_button.isEnabled()


def test_session_restores_everything(described, qtbot, tmp_path):
    from busstudio.main_window import MainWindow

    w = described
    panel = w.generate_panel
    panel.variants.setValue(1)
    with qtbot.waitSignal(panel.generated, timeout=60000):
        panel.start()
    path = w.save_session_to(tmp_path / "work" / "session.json")
    other = MainWindow(w.qsettings)
    qtbot.addWidget(other)
    other.load_session_from(path)
    a, b = w.annotations.lesions[0], other.annotations.lesions[0]
    assert other.image.path == w.image.path.resolve()
    assert np.allclose(a.contour.points, b.contour.points, atol=1e-3)
    assert a.description == b.description and a.text == b.text
    assert np.array_equal(a.results[0].pixels, b.results[0].pixels)
    assert other.generate_panel.gallery.count() == 1
    assert other.attribute_panel.value("shape") is Shape.IRREGULAR


def test_study_browser_groups_and_opens(window, dicom_dir, qtbot):
    worker = window.open_path(dicom_dir)
    assert worker is window.browser.worker
    with qtbot.waitSignal(worker.signals.done, timeout=120000):
        pass
    tree = window.browser.tree
    assert tree.topLevelItemCount() > 1 and window.left_dock.isVisible()
    item = tree.topLevelItem(0)
    while item.childCount():
        item = item.child(0)
    window.browser._activated(item)
    assert window.image.path is not None and window.image.path.name == item.text(0)
