"""The contour tool over the annotation model without Qt: every gesture is one undoable edit."""

from __future__ import annotations

import numpy as np
import pytest

from busstudio.bindings.pointer import Pointer
from busstudio.models.annotations import AnnotationModel
from busstudio.models.edits import History
from busstudio.tools.contour_tool import ContourTool
from busstudio.tools.handles import handle_position

SQUARE = [(100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0)]


def click(tool, x, y, **mods):
    p = Pointer(x, y, **mods)
    tool.press(p)
    tool.release(p)


def drag(tool, a, b, steps=4, **mods):
    tool.press(Pointer(*a, **mods))
    for k in range(1, steps + 1):
        t = k / steps
        tool.move(Pointer(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, **mods))
    tool.release(Pointer(*b, **mods))


@pytest.fixture
def drawn():
    model, history = AnnotationModel(), History()
    tool = ContourTool(model, history)
    for x, y in SQUARE:
        click(tool, x, y)
    click(tool, *SQUARE[0])  # clicking the first point closes the curve
    return model, history, tool


def test_place_and_close_on_first_point(drawn):
    model, history, _ = drawn
    assert len(model.lesions) == 1 and model.draft == []
    assert np.allclose(model.lesions[0].contour.points, SQUARE)
    assert len(history.done) == 5  # four points placed, one close


def test_double_click_closes_and_undo_reopens_the_draft():
    model, history = AnnotationModel(), History()
    tool = ContourTool(model, history)
    for x, y in SQUARE[:3]:
        click(tool, x, y)
    tool.double_click(Pointer(*SQUARE[2]))
    assert len(model.lesions) == 1 and len(model.lesions[0].contour) == 3
    history.undo()
    assert model.lesions == [] and len(model.draft) == 3
    history.redo()
    assert len(model.lesions) == 1 and model.draft == []


def test_too_few_points_do_not_close():
    model, history = AnnotationModel(), History()
    messages = []
    model.events.message.connect(lambda text: messages.append(text))
    tool = ContourTool(model, history)
    click(tool, 10, 10)
    click(tool, 50, 10)
    tool.double_click(Pointer(50, 10))
    assert model.lesions == [] and "at least 3" in messages[-1]


def test_drag_point_undo_redo(drawn):
    model, history, tool = drawn
    drag(tool, (200, 100), (230, 80))
    assert np.allclose(model.lesions[0].contour.points[1], (230, 80))
    history.undo()
    assert np.allclose(model.lesions[0].contour.points[1], (200, 100))
    history.redo()
    assert np.allclose(model.lesions[0].contour.points[1], (230, 80))


def test_ctrl_click_inserts_on_the_curve_and_shift_click_removes(drawn):
    model, history, tool = drawn
    top = model.lesions[0].contour.nearest_curve_position(150, 95)
    click(tool, top.point[0], top.point[1] - 1, ctrl=True)
    c = model.lesions[0].contour
    assert len(c) == 5 and np.allclose(c.points[1], top.point)
    click(tool, *c.points[1], shift=True)
    assert len(model.lesions[0].contour) == 4
    history.undo()
    assert len(model.lesions[0].contour) == 5


def test_curvature_handle_sharpens_and_rounds(drawn):
    model, history, tool = drawn
    click(tool, 200, 200)  # selects the point, showing its handle
    c = model.lesions[0].contour
    h = handle_position(c.points, c.tensions, 2, 1.0)
    drag(tool, tuple(h), (200, 200))  # onto the point: a corner
    assert model.lesions[0].contour.tensions[2] == pytest.approx(1.0)
    c = model.lesions[0].contour
    h = handle_position(c.points, c.tensions, 2, 1.0)
    drag(tool, tuple(h), (200 + 40, 200 + 40))  # far out along the normal: rounder than smooth
    assert model.lesions[0].contour.tensions[2] < 0
    history.undo()
    assert model.lesions[0].contour.tensions[2] == pytest.approx(1.0)


def test_box_select_and_move_several(drawn):
    model, history, tool = drawn
    drag(tool, (90, 90), (210, 150))  # box around the two top points
    assert model.selection == {0, 1} and model.box is None
    drag(tool, (100, 100), (110, 120))
    pts = model.lesions[0].contour.points
    assert np.allclose(pts[0], (110, 120)) and np.allclose(pts[1], (210, 120))
    assert np.allclose(pts[2], (200, 200))
    history.undo()
    assert np.allclose(model.lesions[0].contour.points[:2], SQUARE[:2])


def test_several_lesions_and_delete_key(drawn):
    model, history, tool = drawn
    for x, y in [(300, 300), (360, 300), (330, 350)]:
        click(tool, x, y)
    click(tool, 300, 300)
    assert len(model.on_frame()) == 2 and model.current.id == model.lesions[1].id
    tool.delete_selected()  # nothing selected: the whole current lesion goes
    assert len(model.lesions) == 1
    history.undo()
    assert len(model.lesions) == 2
    model.set_frame(1)
    assert model.on_frame() == [] and model.current is None
