"""Draw and edit contours on the real main window with mouse and key events; measurements in mm."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from busstudio.models.measurements import measure
from busstudio.tools.handles import handle_position


def vp_point(window, x, y) -> QPoint:
    return window.view.mapFromScene(float(x), float(y))


def click(qtbot, window, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, vp_point(window, x, y))


def drag(qtbot, window, a, b, steps=5):
    vp = window.view.viewport()
    start, end = vp_point(window, *a), vp_point(window, *b)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, steps + 1):
        qtbot.mouseMove(vp, start + (end - start) * (k / steps))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def image_of(window, vp: QPoint):
    p = window.view.mapToScene(vp)
    return p.x(), p.y()


@pytest.fixture
def drawing(window, sample_path, qtbot):
    window.open_path(sample_path)
    window.actions["tool_contour"].trigger()
    corners = [(200, 150), (300, 150), (300, 250), (200, 250)]
    for x, y in corners:
        click(qtbot, window, x, y)
    click(qtbot, window, *corners[0])
    # points are where the mouse really landed (integer screen pixels)
    return window


def test_draw_closes_and_shows_mm(drawing, qtbot):
    w = drawing
    assert len(w.annotations.lesions) == 1
    c = w.annotations.lesions[0].contour
    assert len(c) == 4 and np.allclose(c.points[0], (200, 150), atol=1.5)
    # the panel measures once the pointer rests (a drag must not wait for the diameters)
    qtbot.waitUntil(lambda: "mm²" in w.lesion_panel.measurement.text(), timeout=3000)
    assert "longest" in w.lesion_panel.measurement.text()
    # the sample is 0.1 mm per pixel: a 100 px square curve is about 10+ mm wide
    m = measure(c, w.image.calibration)
    assert 10 <= m.longest_mm <= 16 and m.area_mm2 == pytest.approx(m.area_px * 0.01, rel=2e-3)


def test_drag_then_undo_redo_with_keys(drawing, qtbot):
    w = drawing
    before = w.annotations.lesions[0].contour.points.copy()
    drag(qtbot, w, before[2], before[2] + (40, 30))
    moved = w.annotations.lesions[0].contour.points[2]
    assert np.allclose(moved, before[2] + (40, 30), atol=1.5)
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.allclose(w.annotations.lesions[0].contour.points, before)
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(w.annotations.lesions[0].contour.points[2], moved)
    for _ in range(10):
        w.undo_stack.undo()
    assert w.annotations.lesions == [] and w.annotations.draft == []


def test_insert_remove_and_curvature_with_the_mouse(drawing, qtbot):
    w = drawing
    c = w.annotations.lesions[0].contour
    pos = c.nearest_curve_position(250, 140)
    click(qtbot, w, pos.point[0], pos.point[1], Qt.KeyboardModifier.ControlModifier)
    assert len(w.annotations.lesions[0].contour) == 5
    c = w.annotations.lesions[0].contour
    click(qtbot, w, *c.points[1], Qt.KeyboardModifier.ShiftModifier)
    assert len(w.annotations.lesions[0].contour) == 4
    c = w.annotations.lesions[0].contour
    click(qtbot, w, *c.points[2])  # select: its handle appears
    assert w.annotations.selection == {2}
    h = handle_position(c.points, c.tensions, 2, w.view.scale_factor())
    drag(qtbot, w, h, c.points[2])
    assert w.annotations.lesions[0].contour.tensions[2] > 0.8
    qtbot.keyClick(w, Qt.Key.Key_Delete)
    assert len(w.annotations.lesions[0].contour) == 3
    assert w.undo_stack.undoText() == "Delete point"


def test_box_select_moves_several_and_second_lesion(drawing, qtbot):
    w = drawing
    c = w.annotations.lesions[0].contour
    drag(qtbot, w, (185, 135), (320, 200))  # the two top points
    assert w.annotations.selection == {0, 1}
    before = w.annotations.lesions[0].contour.points.copy()
    drag(qtbot, w, before[0], before[0] + (0, 20))
    after = w.annotations.lesions[0].contour.points
    assert np.allclose(after[:2, 1], before[:2, 1] + 20, atol=1.5) and np.allclose(after[2:], before[2:])
    for x, y in [(400, 300), (450, 300), (425, 350)]:
        click(qtbot, w, x, y)
    qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=vp_point(w, 425, 350))
    assert len(w.annotations.on_frame()) == 2
    qtbot.waitUntil(lambda: w.lesion_panel.list.count() == 2, timeout=3000)
    del c


def test_measurements_need_one_calibrated_region():
    from engine.contour.spline import Contour
    from engine.dicom import Calibration, Region

    region = Region(0, 0, 0, 99, 99, 1, 1, 3, 3, delta_x=0.01, delta_y=0.02)  # 0.1 x 0.2 mm/px
    cal = Calibration(regions=(region,))
    square = Contour(np.array([[10, 10], [50, 10], [50, 50], [10, 50]], float), np.ones(4))  # corners
    m = measure(square, cal)
    assert m.area_px == pytest.approx(1600, rel=0.01)
    assert m.area_mm2 == pytest.approx(1600 * 0.1 * 0.2, rel=0.01)
    assert m.longest_mm == pytest.approx(np.hypot(4.0, 8.0), rel=0.02)
    outside = Contour(np.array([[10, 10], [150, 10], [150, 50]], float))
    assert measure(outside, cal).area_mm2 is None
    assert "no mm" in measure(outside, cal).text()
