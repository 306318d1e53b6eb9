"""The reader-study window: a thin view over engine.evaluation.reader_study.ReaderSession.

Blinding is the point of this window, so it shows only the image: the title is fixed, no widget
text, tooltip or name carries the item's id or file, the pixels are decoded here (no file name or
PNG text reaches Qt), and nothing lists past images or answers. It is its own top-level window so
its keys (R, S, 1-5, Return, Space) never reach the main window's tools.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from busstudio.bindings.keys import READER_SHORTCUTS
from engine.datasets.images import read_gray
from engine.evaluation.reader_study import ANSWERS, CONFIDENCE, ReaderSession

TITLE = "BUS Studio — reader study"
CONFIDENCE_HINTS = {1: "guess", 5: "certain"}
_BIG = "font-size: 22px; padding: 14px 36px;"


def _pixmap(gray) -> QPixmap:
    h, w = gray.shape
    image = QImage(gray.tobytes(), w, h, w, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())  # copy: the QImage must not point into a freed buffer


class _ImageArea(QLabel):
    """The item, scaled to fit with its aspect kept; no cursor readout, tooltip or context menu."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: black;")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self._source: QPixmap | None = None

    def set_source(self, pixmap: QPixmap | None) -> None:
        self._source = pixmap
        self._fit()

    def has_image(self) -> bool:
        return self._source is not None

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source is None:
            self.clear()
            return
        self.setPixmap(
            self._source.scaled(
                self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )


class ReaderStudyWindow(QWidget):
    """States: "start" (instructions; the clock has not started), "item", "paused", "done"."""

    closed = Signal()

    def __init__(
        self, study_dir: str | Path, reader: str, parent: QWidget | None = None, clock=time.monotonic
    ):
        super().__init__(parent, Qt.WindowType.Window)
        self.session = ReaderSession(Path(study_dir), reader, clock=clock)
        self.setWindowTitle(TITLE)
        self.setObjectName("readerStudyWindow")
        self.setStyleSheet("QPushButton:checked { background-color: #2d6cb5; color: white; }")
        self.state = "start"
        self.item = None
        self.chosen_answer: str | None = None
        self.chosen_confidence: int | None = None
        self.actions: dict[str, QAction] = {}

        self.progress = QLabel("", self)
        self.progress.setStyleSheet("font-size: 16px;")
        self.pause_button = self._button("Pause", self.toggle_pause)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.pause_button)

        self.image_area = _ImageArea(self)
        self.message = QLabel("", self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 18px;")
        self.start_button = self._button("Start", self.on_return, _BIG)
        message_page = QWidget(self)
        mlay = QVBoxLayout(message_page)
        mlay.addStretch(1)
        mlay.addWidget(self.message)
        mlay.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignCenter)
        mlay.addStretch(1)
        self.center = QStackedWidget(self)
        self.center.addWidget(self.image_area)
        self.center.addWidget(message_page)

        self.answer_buttons = {
            a: self._button(a.capitalize(), lambda a=a: self.choose(a), _BIG, True) for a in ANSWERS
        }
        self.answer_group = QButtonGroup(self)
        for b in self.answer_buttons.values():
            self.answer_group.addButton(b)
        self.confidence_buttons = {
            k: self._button(
                f"{k} {CONFIDENCE_HINTS.get(k, '')}".strip(),
                lambda k=k: self.set_confidence(k),
                "font-size: 16px; padding: 8px 18px;",
                True,
            )
            for k in CONFIDENCE
        }
        self.confidence_group = QButtonGroup(self)
        for b in self.confidence_buttons.values():
            self.confidence_group.addButton(b)
        self.next_button = self._button("Next", self.submit, _BIG)
        answers = QHBoxLayout()
        answers.addStretch(1)
        for b in self.answer_buttons.values():
            answers.addWidget(b)
        answers.addSpacing(40)
        answers.addWidget(QLabel("Confidence", self))
        for b in self.confidence_buttons.values():
            answers.addWidget(b)
        answers.addSpacing(40)
        answers.addWidget(self.next_button)
        answers.addStretch(1)
        self.controls = QWidget(self)
        self.controls.setLayout(answers)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.center, 1)
        lay.addWidget(self.controls)
        self._build_actions()
        self._show_start()

    def _button(self, text: str, slot, style: str = "", checkable: bool = False) -> QPushButton:
        b = QPushButton(text, self)
        b.setCheckable(checkable)
        b.setStyleSheet(style)
        # no keyboard focus: Space and Return always reach the study's shortcuts, never a button
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(lambda checked=False: slot())
        return b

    def _build_actions(self) -> None:
        handlers = {
            "real": lambda: self.choose("real"),
            "synthetic": lambda: self.choose("synthetic"),
            **{f"confidence_{k}": (lambda k=k: self.set_confidence(k)) for k in CONFIDENCE},
            "next": self.on_return,
            "pause": self.toggle_pause,
            "full_screen": self.toggle_full_screen,
            "close": self.close,
        }
        for s in READER_SHORTCUTS:
            action = QAction(s.text, self)
            action.setShortcut(QKeySequence(s.keys))
            if s.action == "next":
                action.setShortcuts([QKeySequence(s.keys), QKeySequence("Enter")])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda checked=False, h=handlers[s.action]: h())
            self.addAction(action)
            self.actions[s.action] = action

    # states ----------------------------------------------------------------------------------------
    def _show_message(self, text: str, button: str | None) -> None:
        self.image_area.set_source(None)
        self.message.setText(text)
        self.start_button.setVisible(button is not None)
        self.start_button.setText(button or "")
        self.center.setCurrentIndex(1)

    def _show_start(self) -> None:
        s = self.session
        if s.done:
            self._show_done()
            return
        if s.answered:
            text = (
                f"Welcome back, {s.reader}. You stopped after {s.answered} of {s.total} images; "
                f"the next one is image {s.answered + 1}."
            )
        else:
            text = (
                f"Reader study: {s.total} ultrasound images, each real or synthetic.\n"
                "For each image choose Real (R) or Synthetic (S) and your confidence, 1 (a guess) to "
                "5 (certain), then Next (Return). The time per image is recorded; Pause (Space) hides "
                "the image and stops its clock. Answers are saved at once: close the window at any "
                "time and reopen the study to continue."
            )
        self.state = "start"
        self.progress.setText(f"Reader: {s.reader}")
        self._set_controls(False)
        self._show_message(text, "Start" if not s.answered else "Continue")

    def _show_done(self) -> None:
        self.state = "done"
        self.item = None
        self.progress.setText("")
        self._set_controls(False)
        self.pause_button.setEnabled(False)
        self._show_message(
            f"Thank you, {self.session.reader}. All {self.session.total} images are answered and saved.\n"
            "You can close this window.",
            None,
        )

    def _set_controls(self, enabled: bool) -> None:
        self.controls.setVisible(self.state in ("item", "paused"))
        for b in [*self.answer_buttons.values(), *self.confidence_buttons.values()]:
            b.setEnabled(enabled)
        self.pause_button.setEnabled(self.state in ("item", "paused"))
        self._update_next()

    def _clear_choice(self) -> None:
        for group in (self.answer_group, self.confidence_group):
            group.setExclusive(False)  # an exclusive group keeps one button checked
            for b in group.buttons():
                b.setChecked(False)
            group.setExclusive(True)
        self.chosen_answer = None
        self.chosen_confidence = None

    def _update_next(self) -> None:
        ready = self.state == "item" and None not in (self.chosen_answer, self.chosen_confidence)
        self.next_button.setEnabled(ready)

    def _show_item(self) -> None:
        self.item = self.session.next_item()  # starts this item's clock
        if self.item is None:
            self._show_done()
            return
        self.state = "item"
        self._clear_choice()
        self.progress.setText(f"Image {self.item.position} of {self.item.total}")
        self.image_area.set_source(_pixmap(read_gray(self.item.image_path)))
        self.center.setCurrentIndex(0)
        self.pause_button.setText("Pause")
        self._set_controls(True)

    # input -----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.state == "start":
            self._show_item()

    def on_return(self) -> None:
        """Return (and the message page's button): start, resume, or record the answer."""
        if self.state == "start":
            self.start()
        elif self.state == "paused":
            self.toggle_pause()
        else:
            self.submit()

    def choose(self, answer: str) -> None:
        if self.state != "item":
            return
        self.chosen_answer = answer
        self.answer_buttons[answer].setChecked(True)
        self._update_next()

    def set_confidence(self, k: int) -> None:
        if self.state != "item":
            return
        self.chosen_confidence = k
        self.confidence_buttons[k].setChecked(True)
        self._update_next()

    def submit(self) -> None:
        if not self.next_button.isEnabled():
            return
        self.session.answer(self.chosen_answer, self.chosen_confidence)  # on disk before it returns
        self._show_item()

    def toggle_pause(self) -> None:
        if self.state == "item":
            self.session.pause()
            self.state = "paused"
            self.pause_button.setText("Resume")
            self._set_controls(False)
            self.pause_button.setEnabled(True)
            self._show_message("Paused. The image is hidden and its clock is stopped.", "Resume")
        elif self.state == "paused":
            self.session.resume()
            self.state = "item"
            self.pause_button.setText("Pause")
            self.image_area.set_source(_pixmap(read_gray(self.item.image_path)))
            self.center.setCurrentIndex(0)
            self._set_controls(True)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showMaximized()
        else:
            self.showFullScreen()

    def closeEvent(self, event):
        # answers are already on disk; an unanswered item's clock restarts when the study reopens
        self.closed.emit()
        super().closeEvent(event)
