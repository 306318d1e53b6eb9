"""The reader-study window on real widgets: blinded images, answers by clicks and keys, pause and
resume, quit and reopen, and the CSV the engine writes for each reader."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from busstudio.bindings.keys import READER_SHORTCUTS
from busstudio.panels.reader_study_view import TITLE
from engine.datasets.base import Case
from engine.evaluation import reader_study as rs

PER_CLASS = 3


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cases(folder, dataset: str, n: int, seed: int) -> list[Case]:
    """n lesion images with their masks; the file names carry the truth on purpose."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    cases = []
    for i in range(n):
        gray = rng.integers(0, 256, (48, 64), dtype=np.uint8)
        mask = np.zeros((48, 64), np.uint8)
        mask[14:30, 20:44] = 255
        image = folder / f"{dataset}_truth_{i}.png"
        Image.fromarray(gray).save(image)
        Image.fromarray(mask).save(folder / f"{dataset}_truth_{i}_mask.png")
        cases.append(
            Case(
                dataset,
                f"{dataset}-case-{i}",
                f"p{i}",
                image,
                (folder / f"{dataset}_truth_{i}_mask.png",),
                "benign",
            )
        )
    return cases


@pytest.fixture(autouse=True)
def _close_windows_left_open(qapp):
    """The reader window and dialogs are top-level: one left open would take the next test's mouse."""
    yield
    for w in qapp.topLevelWidgets():
        if w.isVisible():
            w.close()
    qapp.processEvents()


@pytest.fixture
def study(tmp_path):
    real = _cases(tmp_path / "real_src", "realsource", 4, seed=1)
    synthetic = _cases(tmp_path / "synth_src", "synthsource", 4, seed=2)
    return rs.make_study(real, synthetic, tmp_path / "study", PER_CLASS, seed=5, mode="full", size_px=40)


def _texts(reader_window) -> list[str]:
    """Every string a reader could see or a screen reader could read out, in the study's window."""
    out = [reader_window.windowTitle()]
    for w in [reader_window, *reader_window.findChildren(QWidget)]:
        for getter in (
            "text",
            "toolTip",
            "statusTip",
            "whatsThis",
            "accessibleName",
            "accessibleDescription",
        ):
            value = getattr(w, getter, None)
            if callable(value):
                out.append(str(value()))
        out.append(w.windowTitle())
    out += [a.text() for a in reader_window.actions.values()]
    out += [a.toolTip() for a in reader_window.actions.values()]
    return out


def _assert_blinded(reader_window, study_dir) -> None:
    key = json.loads(rs.key_path_for(study_dir).read_text())
    texts = "\n".join(_texts(reader_window)).lower()
    assert reader_window.windowTitle() == TITLE
    for item_id, entry in key.items():
        assert item_id not in texts
        for hint in (entry["case_id"], entry["dataset"], entry["image"], "truth", ".png"):
            assert hint.lower() not in texts, hint


def _press(qtbot, widget, key) -> None:
    qtbot.keyClick(widget, key)


def _rows(study_dir, reader="Dr A") -> list[dict]:
    with open(study_dir / "responses" / rs.reader_file_name(reader), newline="") as f:
        return list(csv.DictReader(f))


def _open(window, qtbot, study, clock, reader="Dr A"):
    rw = window.open_reader_study(study, reader, clock=clock)
    qtbot.addWidget(rw)
    qtbot.waitExposed(rw)
    rw.activateWindow()
    qtbot.waitUntil(rw.isActiveWindow, timeout=3000)
    return rw


def _shown_pixels(rw) -> np.ndarray:
    image = rw.image_area._source.toImage()
    return np.array(
        [[image.pixelColor(x, y).red() for x in range(image.width())] for y in range(image.height())],
        np.uint8,
    )


def test_answers_by_clicks_and_keys_with_pause_are_timed_and_saved(window, qtbot, study):
    clock = FakeClock()
    rw = _open(window, qtbot, study, clock)
    assert not window.isVisible() and rw.state == "start" and not rw.image_area.has_image()
    _assert_blinded(rw, study)
    clock.now += 30  # reading the instructions is not counted
    _press(qtbot, rw, Qt.Key.Key_Return)
    assert rw.state == "item" and rw.progress.text() == f"Image 1 of {2 * PER_CLASS}"
    first = rw.item
    assert np.array_equal(_shown_pixels(rw), np.asarray(Image.open(first.image_path)))
    _assert_blinded(rw, study)

    # clicks: Next stays disabled until both an answer and a confidence are chosen
    clock.now += 2.5
    qtbot.mouseClick(rw.answer_buttons["real"], Qt.MouseButton.LeftButton)
    assert not rw.next_button.isEnabled()
    qtbot.mouseClick(rw.confidence_buttons[4], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(rw.next_button, Qt.MouseButton.LeftButton)
    assert rw.item.position == 2 and rw.item.item_id != first.item_id
    assert rw.chosen_answer is None and not any(b.isChecked() for b in rw.answer_buttons.values())

    # keys, with a pause: the image is hidden, answers are ignored, the paused time is not counted
    second = rw.item
    clock.now += 1.0
    _press(qtbot, rw, Qt.Key.Key_Space)
    assert rw.state == "paused" and not rw.image_area.has_image() and rw.image_area.pixmap().isNull()
    _press(qtbot, rw, Qt.Key.Key_S)
    _press(qtbot, rw, Qt.Key.Key_2)
    clock.now += 100
    assert rw.chosen_answer is None and not rw.next_button.isEnabled()
    _press(qtbot, rw, Qt.Key.Key_Space)
    assert rw.state == "item" and rw.image_area.has_image()
    clock.now += 0.5
    _press(qtbot, rw, Qt.Key.Key_Return)  # nothing chosen yet: nothing recorded
    assert rw.item == second
    _press(qtbot, rw, Qt.Key.Key_S)
    _press(qtbot, rw, Qt.Key.Key_1)
    _press(qtbot, rw, Qt.Key.Key_2)  # a change of mind before Next
    _press(qtbot, rw, Qt.Key.Key_Return)
    _assert_blinded(rw, study)

    rows = _rows(study)
    assert [(r["position"], r["item_id"], r["answer"], r["confidence"]) for r in rows] == [
        ("1", first.item_id, "real", "4"),
        ("2", second.item_id, "synthetic", "2"),
    ]
    assert [float(r["seconds"]) for r in rows] == [2.5, 1.5]
    assert rw.progress.text() == f"Image 3 of {2 * PER_CLASS}"


def test_quit_and_reopen_resumes_then_thanks_without_a_score(window, qtbot, study):
    clock = FakeClock()
    rw = _open(window, qtbot, study, clock)
    _press(qtbot, rw, Qt.Key.Key_Return)
    for answer in (Qt.Key.Key_R, Qt.Key.Key_S):
        clock.now += 1
        _press(qtbot, rw, answer)
        _press(qtbot, rw, Qt.Key.Key_3)
        _press(qtbot, rw, Qt.Key.Key_Return)
    third = rw.item.item_id
    _press(qtbot, rw, Qt.Key.Key_S)  # chosen but not recorded when the reader quits
    qtbot.keyClick(rw, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not rw.isVisible() and window.isVisible() and window.reader_window is None
    assert len(_rows(study)) == 2

    rw = _open(window, qtbot, study, clock)
    assert rw.state == "start" and "stopped after 2 of 6" in rw.message.text()
    clock.now += 50
    qtbot.mouseClick(rw.start_button, Qt.MouseButton.LeftButton)
    assert rw.item.item_id == third and rw.progress.text() == "Image 3 of 6"
    while rw.state == "item":
        clock.now += 2
        _press(qtbot, rw, Qt.Key.Key_R)
        _press(qtbot, rw, Qt.Key.Key_5)
        _press(qtbot, rw, Qt.Key.Key_Return)
    assert rw.state == "done" and not rw.image_area.has_image() and not rw.controls.isVisible()
    thanks = rw.message.text()
    assert thanks.startswith("Thank you, Dr A.")
    for score_word in ("correct", "%", "accuracy", "score", "real", "synthetic"):
        assert score_word not in thanks.lower()
    _assert_blinded(rw, study)

    rows = _rows(study)
    assert [r["item_id"] for r in rows] == rs.ReaderSession(study, "Dr A").sequence
    assert [float(r["seconds"]) for r in rows][2:] == [2.0] * 4  # the 50 s before Continue not counted
    summary = rs.summarize([study / "responses" / rs.reader_file_name("Dr A")])
    assert summary["pooled"]["n"] == 6  # the CSV is what `bus-engine reader-study summarize` reads

    rw.close()
    rw = _open(window, qtbot, study, clock)
    assert rw.state == "done"  # a finished study reopens on the thank-you screen
    rw.close()


def test_menu_opens_the_study_and_rejects_a_folder_without_one(window, qtbot, study, tmp_path):
    from busstudio.error_dialog import open_error_dialogs
    from busstudio.panels.reader_study_start import ReaderStudyStartDialog

    assert window.actions["reader_study"] in window.menuBar().actions()[0].menu().actions()
    window.actions["reader_study"].trigger()
    dialog = window.findChild(ReaderStudyStartDialog, "readerStudyDialog")
    dialog.folder.setText(str(tmp_path))
    dialog.reader.setText("Dr B")
    dialog.accept()
    assert window.reader_window is None and window.isVisible()
    errors = open_error_dialogs()
    assert errors and "not a reader-study folder" in errors[-1].text()
    for box in errors:
        box.close()

    window.actions["reader_study"].trigger()
    dialog = window.findChildren(ReaderStudyStartDialog, "readerStudyDialog")[-1]
    dialog.folder.setText(str(study))
    dialog.reader.setText("Dr B")
    dialog.accept()
    rw = window.reader_window
    qtbot.addWidget(rw)
    assert rw is not None and rw.session.reader == "Dr B" and not window.isVisible()
    rw.close()
    # the folder is remembered for the next reader, not the reader's name
    window.actions["reader_study"].trigger()
    dialog = window.findChildren(ReaderStudyStartDialog, "readerStudyDialog")[-1]
    assert dialog.folder.text() == str(study) and dialog.reader.text() == ""


def test_help_lists_the_reader_study_keys(window, qtbot):
    from busstudio.help_dialog import HelpDialog

    window.actions["help"].trigger()
    dialog = window.findChild(HelpDialog, "helpDialog")
    listed = {dialog.table.item(i, 0).text() for i in range(dialog.table.rowCount())}
    assert {s.keys for s in READER_SHORTCUTS} <= listed
