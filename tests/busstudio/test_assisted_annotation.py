"""Assisted annotation in the app (headless models and tools, then the main window): segment tool, edge snapping in the contour tool,
propagation through a loop; every result is one undoable edit and carries the method that made it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from busstudio.bindings.keys import by_action
from busstudio.bindings.pointer import Pointer
from busstudio.models.annotations import AnnotationModel, Lesion
from busstudio.models.edits import History
from busstudio.models.session import Session, load_session, save_session
from busstudio.tools.click_segment_tool import ClickSegmentTool
from busstudio.tools.contour_tool import ContourTool
from busstudio.tools.edge_snapping import EdgeSnapping
from busstudio.tools.propagate_action import propagate_current
from engine.annotation.cine_sim import Motion, make_loop
from engine.contour.fit import fit_contour
from engine.contour.spline import Contour
from engine.errors import InputError
from engine.evaluation.metrics import dice
from engine.language import LesionDescription
from tests.engine.annotation.synthetic import lesion_frame


def gesture(tool, a, b=None):
    tool.press(Pointer(*a))
    if b is not None:
        tool.move(Pointer((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
        tool.move(Pointer(*b))
    tool.release(Pointer(*(b or a)))


def test_segment_tool_click_and_box_add_undoable_lesions_marked_with_the_method():
    gray, mask = lesion_frame()
    model, history = AnnotationModel(), History()
    messages = []
    model.events.message.connect(lambda text: messages.append(text))
    tool = ClickSegmentTool(model, history, lambda: gray, segmenter_loader=lambda: None)
    gesture(tool, (95, 80))
    assert [les.method for les in model.lesions] == ["chan-vese-click"]
    assert "classical fallback" in messages[-1]
    gesture(tool, (128, 102), (62, 58))  # dragged up-left: still a box
    assert model.lesions[-1].method == "chan-vese-box"
    assert dice(model.lesions[-1].contour.raster(gray.shape), mask) > 0.85
    history.undo()
    assert len(model.lesions) == 1
    empty = ClickSegmentTool(model, history, lambda: None, segmenter_loader=lambda: None)
    with pytest.raises(InputError, match="open an image"):
        empty.segment(click=(5, 5))


def test_snapping_pulls_a_dragged_point_onto_the_edge_only_when_on():
    yy, xx = np.mgrid[0:120, 0:120]
    gray = np.where(np.hypot(xx - 60, yy - 60) < 30, 60, 190).astype(np.uint8)
    t = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    contour = Contour(np.stack([60 + 25 * np.cos(t), 60 + 25 * np.sin(t)], axis=1))

    def drag_point_zero(snapping_on):
        model, history = AnnotationModel(), History()
        model.add_lesion(Lesion(1, 0, contour.copy()))
        tool = ContourTool(model, history, Contour)
        snapping = EdgeSnapping(lambda: gray, model.tell, tolerance_px=6)
        if snapping_on:
            snapping.toggle()
        tool.snapper = snapping
        gesture(tool, (85, 60), (86, 61))
        return model.lesions[0].contour.points[0], history

    snapped, history = drag_point_zero(True)
    assert abs(np.hypot(*(snapped - 60)) - 30) <= 1.0
    plain, _ = drag_point_zero(False)
    np.testing.assert_allclose(plain, [86, 61])
    history.undo()


def test_snapping_key_and_segment_key_are_in_the_one_table():
    keys = by_action()
    assert (
        keys["toggle_snapping"].keys == "E"
        and keys["tool_segment"].keys == "S"
        and keys["propagate"].keys == "P"
    )
    assert len({s.keys for s in keys.values()}) == len(keys)


@pytest.fixture(scope="module")
def loop():
    gray, mask = lesion_frame(shape=(160, 200))
    return make_loop(gray, mask, 8, Motion(shift_px=4, wobble_px=1.0, period=8), seed=2)


def test_propagation_fills_the_loop_undoably_and_resumes_from_a_corrected_frame(loop, tmp_path):
    frames, masks = loop
    model, history = AnnotationModel(), History()
    model.add_lesion(Lesion(model.new_id(), 0, fit_contour(masks[0]).contour, method="segmenter-box"))
    written = propagate_current(model, history, len(frames), lambda i: frames[i])
    assert written == list(range(1, 8))
    by_frame = {les.frame: les for les in model.lesions}
    assert sorted(by_frame) == list(range(8))
    assert {les.track for les in model.lesions} == {1}
    assert by_frame[0].method == "segmenter-box" and by_frame[4].method == "dis-flow"
    assert dice(by_frame[4].contour.raster(masks[4].shape), masks[4]) > 0.9

    # correct frame 4 by hand, propagate again from it: frames 5-7 and 1-3 are redone, 0 is kept
    model.set_frame(4)
    corrected = fit_contour(masks[4]).contour
    model.set_contour(by_frame[4].id, corrected)
    ids_before = {les.frame: les.id for les in model.lesions}
    assert propagate_current(model, history, len(frames), lambda i: frames[i]) == [1, 2, 3, 5, 6, 7]
    by_frame = {les.frame: les for les in model.lesions}
    assert by_frame[4].method == "corrected" and by_frame[0].method == "segmenter-box"
    assert {f: les.id for f, les in by_frame.items()} == ids_before
    np.testing.assert_array_equal(by_frame[4].contour.points, corrected.points)

    path = save_session(Session(None, 4, list(model.lesions)), tmp_path / "s.json")
    doc = json.loads(path.read_text())
    assert sorted(d["method"] for d in doc["lesions"])[:2] == ["corrected", "dis-flow"]
    back = load_session(path, Contour, LesionDescription)
    assert {(les.frame, les.method, les.track) for les in back.lesions} == {
        (les.frame, les.method, les.track) for les in model.lesions
    }

    history.undo()  # back to the first propagation
    assert {les.frame: les.method for les in model.lesions}[4] == "dis-flow"
    history.undo()
    assert [les.frame for les in model.lesions] == [0]


def test_main_window_wires_segment_snapping_and_propagate(window, sample_path):
    window.open_path(sample_path)
    window.actions["toggle_snapping"].trigger()
    assert window.tools["contour"].snapper is window.snapping and window.snapping.enabled
    assert "tolerance 6 px" in window.statusBar().currentMessage()
    window.actions["toggle_snapping"].trigger()
    assert window.tools["contour"].snapper is None
    window.actions["tool_segment"].trigger()
    assert window.view.tool is window.tools["segment"]
    h, w = window.image.current.gray.shape
    lesion = window.tools["segment"].segment(box=(0.35 * w, 0.35 * h, 0.6 * w, 0.6 * h))
    assert lesion.method.startswith("segmenter-") or lesion.method.startswith("chan-vese-")
    window.undo_stack.undo()
    assert window.annotations.lesions == []
