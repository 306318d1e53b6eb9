"""Livewire in the contour tool (placing and dragging points, undoable, marked in the session) and
propagation through the loop in a worker (the UI keeps running, progress, Cancel)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from busstudio.bindings.keys import by_action
from busstudio.bindings.pointer import Pointer
from busstudio.models.annotations import AnnotationModel, Lesion
from busstudio.models.edits import AddLesion, History
from busstudio.models.image_model import ArrayFrame, ArrayStudy
from busstudio.models.session import Session, load_session, save_session
from busstudio.tools.contour_tool import ContourTool
from busstudio.tools.edge_snapping import EdgeSnapping
from busstudio.tools.propagate_action import propagate_current
from engine.annotation.cine_sim import Motion, make_loop
from engine.contour.fit import dice, fit_contour
from engine.contour.spline import Contour
from engine.language import LesionDescription
from tests.engine.annotation.synthetic import lesion_frame

CLICKS = [(80.0, 30.0), (120.0, 60.0), (80.0, 90.0), (40.0, 60.0)]  # the middles of the box's sides


@pytest.fixture(scope="module")
def box_frame():
    """A dark 80 x 60 rectangle in bright speckle: four clicks on its sides need the corners."""
    yy, xx = np.mgrid[0:120, 0:160]
    rect = (xx >= 40) & (xx < 120) & (yy >= 30) & (yy < 90)
    speckle = np.random.default_rng(0).rayleigh(1.0, rect.shape) / 1.25
    return np.clip(np.where(rect, 60.0, 180.0) * speckle, 0, 255).astype(np.uint8), rect


def click(tool, x, y):
    tool.press(Pointer(x, y))
    tool.release(Pointer(x, y))


def contour_tool(gray, livewire: bool):
    model, history = AnnotationModel(), History()
    tool = ContourTool(model, history, Contour)
    aids = EdgeSnapping(lambda: gray, model.tell)
    if livewire:
        aids.toggle_livewire()
        tool.livewire = aids
    return model, history, tool


def test_livewire_placement_follows_the_edge_in_one_undo_step_per_click(box_frame):
    gray, rect = box_frame
    results = {}
    for on in (False, True):
        model, history, tool = contour_tool(gray, on)
        for x, y in [*CLICKS, CLICKS[0]]:
            click(tool, x, y)
        lesion = model.lesions[0]
        results[on] = (lesion, dice(lesion.contour.raster(gray.shape), rect), len(history.done))
    (plain, plain_dice, plain_steps), (wired, wired_dice, wired_steps) = results[False], results[True]
    assert plain.method == "manual" and wired.method == "livewire"
    assert wired_dice > 0.95 and wired_dice > plain_dice + 0.1
    assert len(wired.contour) > len(plain.contour) == 4
    assert wired_steps == plain_steps == 5  # four clicks and the close, each one edit

    model, history, tool = contour_tool(gray, True)
    for x, y in CLICKS[:2]:
        click(tool, x, y)
    assert len(model.draft) > 2  # the second click brought the path round the corner
    history.undo()
    assert model.draft == [CLICKS[0]]


def test_livewire_drag_rewires_both_segments_undoably_and_marks_the_method(box_frame, tmp_path):
    gray, rect = box_frame
    model, history, tool = contour_tool(gray, True)
    t = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    start = Contour(np.stack([80 + 36 * np.cos(t), 60 + 26 * np.sin(t)], axis=1))
    model.add_lesion(Lesion(1, 0, start.copy(), method="segmenter-box"))
    x, y = start.points[1]
    tool.press(Pointer(x, y))
    tool.move(Pointer(x + 4, y + 2))
    tool.release(Pointer(x + 4, y + 2))
    lesion = model.lesions[0]
    assert len(lesion.contour) > len(start) and lesion.method == "segmenter-box+livewire"
    (dragged,) = model.selection
    np.testing.assert_allclose(lesion.contour.points[dragged], (x + 4, y + 2))
    path = save_session(Session(None, 0, list(model.lesions)), tmp_path / "s.json")
    assert json.loads(path.read_text())["lesions"][0]["method"] == "segmenter-box+livewire"
    assert load_session(path, Contour, LesionDescription).lesions[0].method == "segmenter-box+livewire"
    history.undo()
    np.testing.assert_array_equal(model.lesions[0].contour.points, start.points)
    assert model.lesions[0].method == "segmenter-box"
    history.redo()
    assert model.lesions[0].method == "segmenter-box+livewire"


@pytest.fixture(scope="module")
def loop():
    gray, mask = lesion_frame(shape=(160, 200))
    return make_loop(gray, mask, 8, Motion(shift_px=4, wobble_px=1.0, period=8), seed=2)


def test_a_hand_edit_of_a_propagated_frame_stops_the_next_propagation_there(loop):
    frames, masks = loop
    model, history = AnnotationModel(), History()
    tool = ContourTool(model, history, Contour)
    model.add_lesion(Lesion(model.new_id(), 0, fit_contour(masks[0]).contour))
    propagate_current(model, history, len(frames), frames.__getitem__)
    model.set_frame(5)
    edited = model.current
    x, y = edited.contour.points[0]
    tool.press(Pointer(x, y))
    tool.move(Pointer(x + 3, y))
    tool.release(Pointer(x + 3, y))
    assert model.get(edited.id).method == "corrected"
    kept = model.get(edited.id).contour.points.copy()
    model.set_frame(0)
    assert propagate_current(model, history, len(frames), frames.__getitem__) == [1, 2, 3, 4]
    np.testing.assert_array_equal(model.get(edited.id).contour.points, kept)


def _open_loop(window, frames, lesion_mask):
    window.image.set_study(ArrayStudy([ArrayFrame(f) for f in frames]))
    lesion = Lesion(window.annotations.new_id(), 0, fit_contour(lesion_mask).contour)
    window.history.push(AddLesion(window.annotations, lesion))
    return lesion


def test_window_propagates_in_a_worker_with_progress_and_undo(window, qtbot):
    gray, mask = lesion_frame(shape=(160, 200))
    frames, truth = make_loop(gray, mask, 60, Motion(), seed=3)
    _open_loop(window, frames, truth[0])
    ticks, fractions = [], []
    from PySide6.QtCore import QTimer

    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    worker = window.actions["propagate"].trigger() or window.propagation.worker
    assert window.propagation.running and window.propagation.isVisible()
    assert len(window.annotations.lesions) == 1  # the action returned before the flow was done
    worker.signals.progress.connect(lambda f, m: fractions.append(f))
    qtbot.waitUntil(lambda: not window.propagation.running, timeout=30000)
    timer.stop()
    assert sorted(les.frame for les in window.annotations.lesions) == list(range(60))
    assert len(ticks) >= 3  # the UI thread kept running its timers while the worker ran
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert not window.propagation.isVisible()
    window.undo_stack.undo()
    assert [les.frame for les in window.annotations.lesions] == [0]


def test_cancel_stops_propagation_and_changes_nothing(window, qtbot):
    gray, mask = lesion_frame(shape=(160, 200))
    frames, truth = make_loop(gray, mask, 300, Motion(), seed=4)
    _open_loop(window, frames, truth[0])
    window.on_propagate()
    window.on_cancel()  # Esc
    qtbot.waitUntil(lambda: not window.propagation.running, timeout=30000)
    assert [les.frame for les in window.annotations.lesions] == [0]
    assert "cancelled" in window.statusBar().currentMessage()


def test_window_propagates_a_real_cine_file_from_its_own_reader(window, qtbot, dicom_dir):
    path = dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    window.open_path(path)
    t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    contour = Contour(np.stack([160 + 20 * np.cos(t), 120 + 15 * np.sin(t)], axis=1))
    window.history.push(AddLesion(window.annotations, Lesion(window.annotations.new_id(), 0, contour)))
    window.on_propagate()
    qtbot.waitUntil(lambda: not window.propagation.running, timeout=30000)
    assert sorted(les.frame for les in window.annotations.lesions) == list(range(30))
    assert {les.method for les in window.annotations.lesions} == {"manual", "dis-flow"}


def test_window_livewire_key_and_tolerances_in_the_status_bar(window, sample_path):
    assert by_action()["toggle_livewire"].keys == "W"
    window.open_path(sample_path)
    window.actions["toggle_livewire"].trigger()
    assert window.tools["contour"].livewire is window.snapping
    assert "tolerance 12 px" in window.statusBar().currentMessage()
    window.actions["toggle_snapping"].trigger()
    assert window.snapping_label.text() == "Snap 6 px · Livewire 12 px"
    window.actions["toggle_livewire"].trigger()
    assert window.tools["contour"].livewire is None and window.snapping_label.text() == "Snap 6 px"
