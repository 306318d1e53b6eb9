"""Generate: parameters, progress with Cancel, a gallery of variants (with seeds), compare and keep."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from busstudio.models import compare
from busstudio.models.annotations import AnnotationModel
from busstudio.models.generation import METHODS, GenerationSettings, each_variant, generate_variants
from busstudio.models.image_model import ImageModel
from busstudio.process_pool import run_in_process
from busstudio.viewer.image_view import to_qimage
from busstudio.workers import Worker, WorkerRunner
from engine.errors import InputError
from engine.language.description import LesionDescription
from engine.settings import BACKENDS

FLICKER_MS = 500
THUMB = 128


class GeneratePanel(QWidget):
    failed = Signal(object)  # an exception for the main window's error dialog
    generated = Signal(int)  # number of variants added

    def __init__(
        self, annotations: AnnotationModel, image: ImageModel, runner: WorkerRunner, app_settings, parent=None
    ):
        super().__init__(parent)
        self.annotations = annotations
        self.image = image
        self.runner = runner
        self.app_settings = app_settings  # () -> AppSettings
        self.worker: Worker | None = None

        form = QFormLayout()
        self.method = QComboBox(self)
        self.method.addItems(METHODS)
        self.method.setToolTip("physics: the fast physics draft (no model); diffusion: the trained generator")
        form.addRow("Method", self.method)
        self.variants = QSpinBox(self)
        self.variants.setRange(1, 16)
        self.variants.setValue(4)
        form.addRow("Variants", self.variants)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("First seed", self.seed)
        self.steps = QSpinBox(self)
        self.steps.setRange(1, 1000)
        self.steps.setValue(20)
        form.addRow("Steps", self.steps)
        self.guidance = QDoubleSpinBox(self)
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setValue(3.0)
        form.addRow("Guidance", self.guidance)
        self.strength = QDoubleSpinBox(self)
        self.strength.setRange(0.0, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(0.6)
        form.addRow("Strength", self.strength)
        self.backend = QComboBox(self)
        self.backend.addItems(BACKENDS)
        form.addRow("Backend", self.backend)
        self.method.currentTextChanged.connect(self._method_changed)

        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setObjectName("generateButton")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel("", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.cancel_button)

        self.gallery = QListWidget(self)
        self.gallery.setObjectName("gallery")
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMinimumHeight(THUMB + 40)
        self.compare_mode = QComboBox(self)
        self.compare_mode.addItems(compare.MODES)
        self.compare_mode.setCurrentText("side by side")
        self.keep_button = QPushButton("Keep this one", self)
        self.keep_button.setEnabled(False)
        compare_row = QHBoxLayout()
        compare_row.addWidget(QLabel("Compare", self))
        compare_row.addWidget(self.compare_mode, 1)
        compare_row.addWidget(self.keep_button)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(QLabel("<b>Generate</b> a tumor into the current lesion's contour", self))
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.progress_label)
        lay.addWidget(self.gallery, 1)
        lay.addLayout(compare_row)

        self.flicker = QTimer(self)
        self.flicker.setInterval(FLICKER_MS)
        self._flicker_on = False
        self.flicker.timeout.connect(self._flicker_step)
        self.generate_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.gallery.currentRowChanged.connect(lambda _: self.update_compare())
        self.compare_mode.currentTextChanged.connect(lambda _: self.update_compare())
        self.keep_button.clicked.connect(self.keep_selected)
        annotations.events.current.connect(lambda **_: self.refresh_gallery())
        image.events.frame.connect(lambda **_: self.image.set_substitute(None))
        self._method_changed(self.method.currentText())

    def _method_changed(self, method: str) -> None:
        diffusion = method == "diffusion"
        for w in (self.steps, self.guidance, self.strength, self.backend):
            w.setEnabled(diffusion)

    def settings(self) -> GenerationSettings:
        app = self.app_settings()
        return GenerationSettings(
            method=self.method.currentText(),
            variants=self.variants.value(),
            seed=self.seed.value(),
            steps=self.steps.value(),
            guidance=self.guidance.value(),
            strength=self.strength.value(),
            backend=self.backend.currentText(),
            model_dir=str(app.model_dir),
        ).validated()

    # running ---------------------------------------------------------------------------------------
    def start(self) -> Worker | None:
        if self.worker is not None:
            return self.worker
        lesion = self.annotations.current
        if lesion is None or self.image.current is None:
            raise InputError("no lesion is selected; draw a contour (C) or suggest one (M), then generate")
        gray = self.image.current.gray
        mask = lesion.contour.raster(gray.shape[:2])
        description = lesion.description or LesionDescription()
        settings = self.settings()
        lesion_id = lesion.id

        def task(progress, is_cancelled):
            # one variant per call in the worker process, so Cancel takes effect between variants
            def variant(seed):
                one = replace(settings, variants=1, seed=seed)
                return run_in_process(generate_variants, gray, mask, description, one)

            return each_variant(settings, variant, progress, is_cancelled)

        worker = Worker(task, "generation")
        worker.signals.progress.connect(self._progress)
        worker.signals.finished.connect(lambda variants: self._finished(lesion_id, variants))
        worker.signals.failed.connect(self.failed.emit)
        worker.signals.cancelled.connect(lambda: self.progress_label.setText("Cancelled; nothing was added."))
        worker.signals.done.connect(self._done)
        self.worker = worker
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress_label.setText(f"Starting {settings.method}…")
        self.runner.start(worker)
        return worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.progress_label.setText("Cancelling…")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress_label.setText(message)

    def _finished(self, lesion_id: int, variants) -> None:
        lesion = self.annotations.get(lesion_id)
        if lesion is None:  # deleted while generating
            return
        lesion.results.extend(variants)
        self.progress_label.setText(
            f"{len(variants)} variants added (seeds {variants[0].seed}…{variants[-1].seed})"
            if variants
            else "No variants"
        )
        self.annotations.set_current(lesion_id)
        # one gallery rebuild and one compare redraw (each costs tens of ms on the UI thread)
        self.refresh_gallery(select=len(lesion.results) - len(variants) if variants else None)
        self.generated.emit(len(variants))

    def _done(self) -> None:
        self.worker = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # gallery and compare ---------------------------------------------------------------------------
    def refresh_gallery(self, select: int | None = None) -> None:
        lesion = self.annotations.current
        self.gallery.blockSignals(True)
        self.gallery.clear()
        if lesion is not None:
            for k, variant in enumerate(lesion.results):
                thumb = _crop_thumbnail(variant.pixels, lesion.contour)
                icon = QIcon(QPixmap.fromImage(to_qimage(thumb)))
                star = "★ " if lesion.chosen_result == k else ""
                item = QListWidgetItem(icon, f"{star}seed {variant.seed}")
                item.setToolTip(f"{variant.record.get('method', '')} seed {variant.seed}")
                self.gallery.addItem(item)
        if select is not None and 0 <= select < self.gallery.count():
            self.gallery.setCurrentRow(select)
        self.gallery.blockSignals(False)
        self.keep_button.setEnabled(self.gallery.count() > 0)
        self.update_compare()

    def selected_variant(self):
        lesion = self.annotations.current
        row = self.gallery.currentRow()
        if lesion is None or not 0 <= row < len(lesion.results):
            return None
        return lesion.results[row]

    def update_compare(self) -> None:
        variant = self.selected_variant()
        mode = self.compare_mode.currentText()
        if mode == "flicker" and variant is not None:
            if not self.flicker.isActive():
                self.flicker.start()
        else:
            self.flicker.stop()
        original = self.image.current.gray if self.image.current is not None else None
        if original is None:
            return
        result = variant.pixels if variant is not None else None
        self.image.set_substitute(compare.compose(mode, original, result, self._flicker_on))

    def _flicker_step(self) -> None:
        self._flicker_on = not self._flicker_on
        self.update_compare()

    def keep_selected(self) -> None:
        lesion = self.annotations.current
        row = self.gallery.currentRow()
        if lesion is None or row < 0:
            raise InputError("choose a result in the gallery first")
        lesion.chosen_result = row
        self.refresh_gallery(select=row)
        self.progress_label.setText(f"Kept seed {lesion.results[row].seed} for export.")


def _crop_thumbnail(pixels: np.ndarray, contour) -> np.ndarray:
    """The lesion's neighbourhood, so the gallery shows the tumors rather than whole frames."""
    import cv2

    x0, y0 = np.floor(contour.points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(contour.points.max(axis=0)).astype(int)
    pad = max(x1 - x0, y1 - y0) // 2 + 8
    h, w = pixels.shape[:2]
    crop = pixels[max(y0 - pad, 0) : min(y1 + pad, h), max(x0 - pad, 0) : min(x1 + pad, w)]
    if crop.size == 0:
        crop = pixels
    scale = THUMB / max(crop.shape[:2])
    return cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))))
