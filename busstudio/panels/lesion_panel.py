"""The lesion list with live measurements (area, longest diameter, perpendicular; mm where calibrated)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from busstudio.models.annotations import AnnotationModel
from busstudio.models.image_model import ImageModel
from busstudio.models.measurements import Measurement, measure

REFRESH_MS = 150


class MeasurementCache:
    """Measures each lesion once per contour state (edits always install a new contour object)."""

    def __init__(self, image: ImageModel):
        self.image = image
        self._cache: dict[int, tuple[object, object, Measurement]] = {}

    def __call__(self, lesion, compute: bool = True) -> Measurement | None:
        """The lesion's measurement; with compute=False only a cached one for its present contour
        (the diameters take tens of ms, too slow to redo on every mouse move of a drag)."""
        hit = self._cache.get(lesion.id)
        calibration = self.image.calibration
        if hit is not None and hit[0] is lesion.contour and hit[1] is calibration:
            return hit[2]
        if not compute:
            return None
        try:
            m = measure(lesion.contour, calibration)
        except Exception:  # a degenerate curve mid-drag has no diameters; draw without them
            return None
        self._cache[lesion.id] = (lesion.contour, calibration, m)
        return m


class LesionPanel(QWidget):
    def __init__(
        self, annotations: AnnotationModel, image: ImageModel, measure_fn: MeasurementCache, parent=None
    ):
        super().__init__(parent)
        self.annotations = annotations
        self.image = image
        self.measure_fn = measure_fn
        self.list = QListWidget(self)
        self.list.setObjectName("lesionList")
        self.measurement = QLabel("Draw a contour with the Contour tool (C).", self)
        self.measurement.setObjectName("measurementLabel")
        self.measurement.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(QLabel("<b>Lesions</b>", self))
        lay.addWidget(self.list, 1)
        lay.addWidget(self.measurement)
        self.list.itemClicked.connect(self._select)
        # Edits arrive at mouse-move rate during a drag; measure once the pointer rests.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(REFRESH_MS)
        self._pending.timeout.connect(self.refresh)
        annotations.events.lesions.connect(lambda **_: self._pending.start())
        annotations.events.current.connect(lambda **_: self._pending.start())

    def refresh(self) -> None:
        self._pending.stop()
        m = self.annotations
        self.list.blockSignals(True)
        self.list.clear()
        for lesion in m.lesions:
            meas = self.measure_fn(lesion)
            size = ""
            if meas is not None:
                size = (
                    f"{meas.longest_mm:.1f} mm"
                    if meas.longest_mm is not None
                    else f"{meas.longest_px:.0f} px"
                )
            desc = lesion.text[:40] + ("…" if len(lesion.text) > 40 else "")
            item = QListWidgetItem(f"Lesion {lesion.id} · frame {lesion.frame + 1} · {size}  {desc}".rstrip())
            item.setData(256, lesion.id)
            self.list.addItem(item)
            if lesion.id == m.current_id:
                item.setSelected(True)
        self.list.blockSignals(False)
        current = m.current
        meas = self.measure_fn(current) if current is not None else None
        self.measurement.setText(
            meas.text() if meas is not None else "Draw a contour with the Contour tool (C)."
        )

    def _select(self, item: QListWidgetItem) -> None:
        lesion = self.annotations.get(item.data(256))
        if lesion is not None:
            self.image.set_frame(lesion.frame)
            self.annotations.set_current(lesion.id)
