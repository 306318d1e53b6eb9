"""Cine frame scrubber: slider, play/pause at the study's frame time, frame counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from busstudio.models.image_model import ImageModel

DEFAULT_FRAME_MS = 40  # 25 frames per second when the study does not say


class FrameScrubber(QWidget):
    def __init__(self, model: ImageModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.play_button = QToolButton(self)
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setMinimum(0)
        self.label = QLabel("no study", self)
        self.label.setMinimumWidth(110)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.addWidget(self.play_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.step)
        self.play_button.toggled.connect(self.set_playing)
        self.slider.valueChanged.connect(model.set_frame)
        model.events.study.connect(lambda **_: self._on_study())
        model.events.frame.connect(lambda index: self._on_frame(index))
        self._on_study()

    def _on_study(self) -> None:
        n = self.model.n_frames
        self.set_playing(False)
        self.slider.setMaximum(max(n - 1, 0))
        self.slider.setEnabled(n > 1)
        self.play_button.setEnabled(n > 1)
        self.setVisible(n > 1)
        self.label.setText("no study" if n == 0 else f"frame 1 / {n}")

    def _on_frame(self, index: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.label.setText(f"frame {index + 1} / {self.model.n_frames}")

    def set_playing(self, playing: bool) -> None:
        playing = playing and self.model.n_frames > 1
        if playing:
            frame_time = getattr(self.model.study, "frame_time_ms", None)
            self.timer.start(int(frame_time) if frame_time else DEFAULT_FRAME_MS)
        else:
            self.timer.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.setText("⏸" if playing else "▶")
        self.play_button.blockSignals(False)

    def toggle(self) -> None:
        self.set_playing(not self.timer.isActive())

    def step(self, delta: int = 1) -> None:
        n = self.model.n_frames
        if n > 1:
            self.model.set_frame((self.model.frame_index + delta) % n)
