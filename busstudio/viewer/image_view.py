"""The image view: draws the image model's display frame; zoom (wheel), pan, window/level (right drag).

Left-button input goes to the active tool (a Qt-free mouse binding) in image coordinates; the view
itself only draws and forwards.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from busstudio.bindings.pointer import Pointer, Tool
from busstudio.models.image_model import ImageModel
from busstudio.models.window_level import drag_window_level


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 HxW or HxWx3 -> QImage (copied, so the array may change afterwards)."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    if image.ndim == 2:
        q = QImage(image.data, w, h, image.strides[0], QImage.Format.Format_Grayscale8)
    else:
        q = QImage(image.data, w, h, image.strides[0], QImage.Format.Format_RGB888)
    return q.copy()


class ImageView(QGraphicsView):
    cursor_moved = Signal(float, float)  # image coordinates
    zoom_changed = Signal(float)

    ZOOM_STEP = 1.25

    def __init__(self, model: ImageModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(20, 20, 24))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.scene().addItem(self.pixmap_item)
        self.tool: Tool | None = None
        self._drag: tuple[str, QPointF, object] | None = None
        self._fit_pending = True
        self._shown_shape: tuple[int, int] | None = None
        model.events.study.connect(lambda **_: self._on_study())
        model.events.frame.connect(lambda **_: self.refresh_image())
        model.events.window_level.connect(lambda **_: self.refresh_image())
        model.events.display.connect(lambda **_: self.refresh_image())

    # drawing ---------------------------------------------------------------------------------------
    def _on_study(self) -> None:
        self._fit_pending = True

    def refresh_image(self) -> None:
        image = self.model.display_image()
        if image is None:
            self.pixmap_item.setPixmap(QPixmap())
            return
        self.pixmap_item.setPixmap(QPixmap.fromImage(to_qimage(image)))
        h, w = image.shape[:2]
        self.scene().setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))  # room to pan past the edges
        if (h, w) != self._shown_shape:  # e.g. a side-by-side compare: show all of it
            self._fit_pending = True
            self._shown_shape = (h, w)
        if self._fit_pending:
            self._fit_pending = False
            self.fit()

    def fit(self) -> None:
        if self.model.shape is None:
            return
        h, w = self._shown_shape or self.model.shape
        self.fitInView(QRectF(0, 0, w, h), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.scale_factor())

    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def zoom(self, factor: float) -> None:
        new = self.scale_factor() * factor
        if 0.05 <= new <= 64:
            self.scale(factor, factor)
            self.zoom_changed.emit(self.scale_factor())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.model.shape is not None and self._fit_pending is False and event.oldSize().width() <= 0:
            self.fit()

    # input -----------------------------------------------------------------------------------------
    def pointer(self, event) -> Pointer:
        pos = self.mapToScene(event.position().toPoint())
        mods = event.modifiers()
        return Pointer(
            pos.x(),
            pos.y(),
            shift=bool(mods & Qt.KeyboardModifier.ShiftModifier),
            ctrl=bool(mods & Qt.KeyboardModifier.ControlModifier),
            scale=self.scale_factor(),
        )

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(self.ZOOM_STEP**steps)

    def mousePressEvent(self, event):
        button = event.button()
        if button == Qt.MouseButton.RightButton:
            self._drag = ("wl", event.position(), self.model.window_level)
        elif button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self.tool is None
        ):
            self._drag = ("pan", event.position(), None)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.LeftButton and self.tool is not None and not self.model.is_empty:
            self._drag = ("tool", event.position(), None)
            self.tool.press(self.pointer(event))
        event.accept()

    def mouseMoveEvent(self, event):
        p = self.pointer(event)
        self.cursor_moved.emit(p.x, p.y)
        if self._drag is None:
            if self.tool is not None:
                self.tool.hover(p)
            return
        kind, start, data = self._drag
        if kind == "wl":
            d = event.position() - start
            self.model.set_window_level(drag_window_level(data, d.x(), d.y()))
        elif kind == "pan":
            d = event.position() - start
            self._drag = ("pan", event.position(), None)
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(d.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(d.y()))
        elif kind == "tool" and self.tool is not None:
            self.tool.move(p)

    def mouseReleaseEvent(self, event):
        if self._drag is not None and self._drag[0] == "tool" and self.tool is not None:
            self.tool.release(self.pointer(event))
        if self._drag is not None and self._drag[0] == "pan":
            self.viewport().unsetCursor()
        self._drag = None

    def mouseDoubleClickEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and not self.model.is_empty:
            self.tool.double_click(self.pointer(event))
        event.accept()

    def drawForeground(self, painter: QPainter, rect):
        if self.model.is_empty:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(200, 200, 210))
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Open a study (Ctrl+O), a folder (Ctrl+Shift+O) or File > Open sample study",
            )
            painter.restore()
