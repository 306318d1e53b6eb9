"""Draws the annotation model over the image: contours, points, selection, handles, diameters, draft, box.

Only this item repaints while a point is dragged (the image pixmap is cached), so a redraw costs the
curve of the lesions on one frame.
"""

from __future__ import annotations

import struct

import numpy as np
from PySide6.QtCore import QByteArray, QDataStream, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from busstudio.models.annotations import AnnotationModel
from busstudio.tools.handles import handle_position

CURRENT = QColor(255, 200, 40)
OTHER = QColor(80, 200, 255)
SELECTED = QColor(255, 80, 80)
DRAFT = QColor(120, 255, 120)


def _polygon(points: np.ndarray) -> QPolygonF:
    """numpy (N, 2) -> QPolygonF through QDataStream (count, then x y doubles): ~10x faster than
    building one QPointF per point, which matters at mouse-move rate."""
    points = np.ascontiguousarray(points, dtype="<f8")
    data = QByteArray(struct.pack("<I", len(points)) + points.tobytes())
    stream = QDataStream(data)
    stream.setByteOrder(QDataStream.ByteOrder.LittleEndian)
    polygon = QPolygonF()
    stream >> polygon
    return polygon


class AnnotationOverlay(QGraphicsItem):
    def __init__(self, model: AnnotationModel, measure_fn=None):
        super().__init__()
        self.model = model
        self.measure_fn = measure_fn  # lesion -> Measurement | None, for the diameter lines
        self._rect = QRectF(0, 0, 1, 1)
        self.muted = False  # while comparing results: the outline only, so the tumor stays visible
        self.setZValue(10)
        self.pad = 64.0  # image pixels around the drawing: handles, point squares, pen width
        for event in (model.events.lesions, model.events.selection, model.events.draft, model.events.current):
            event.connect(lambda **_: self.changed())

    def set_muted(self, muted: bool) -> None:
        if muted != self.muted:
            self.muted = muted
            self.update()

    def set_image_size(self, w: int, h: int) -> None:
        self.changed()

    def changed(self) -> None:
        """Fit the bounding rect to what is drawn, so a drag repaints only the lesion's neighbourhood."""
        m = self.model
        boxes = [les.contour.points for les in m.on_frame()]
        if m.draft:
            boxes.append(np.array(m.draft))
        if m.box is not None:
            boxes.append(np.array(m.box, float).reshape(2, 2))
        if boxes:
            pts = np.concatenate(boxes)
            (x0, y0), (x1, y1) = pts.min(axis=0) - self.pad, pts.max(axis=0) + self.pad
            rect = QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        else:
            rect = QRectF(0, 0, 1, 1)
        # the old rect is repainted too (prepareGeometryChange), so nothing is left behind
        self.prepareGeometryChange()
        self._rect = rect
        self.update()

    def set_view_scale(self, scale: float) -> None:
        from busstudio.tools.handles import HANDLE_PX

        self.pad = (2 * HANDLE_PX + 16) / max(scale, 1e-6)
        self.changed()

    def boundingRect(self) -> QRectF:
        return self._rect

    def _scale(self, painter: QPainter) -> float:
        return max(float(painter.worldTransform().m11()), 1e-6)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        m = self.model
        s = self._scale(painter)
        px = 1.0 / s  # one screen pixel in image units
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for lesion in m.on_frame():
            current = lesion.id == m.current_id
            color = CURRENT if current else OTHER
            c = lesion.contour
            path = QPainterPath()
            path.addPolygon(_polygon(c.dense(max(1.0, 3.0 * px))))
            path.closeSubpath()
            if self.muted:
                painter.setPen(QPen(color, 1.0 * px, Qt.PenStyle.DashLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(path)
                continue
            painter.setPen(QPen(color, 2.0 * px))
            painter.setBrush(QBrush(QColor(color.red(), color.green(), color.blue(), 28)))
            painter.drawPath(path)
            half = 3.5 * px
            for i, (x, y) in enumerate(c.points):
                selected = current and i in m.selection
                painter.setPen(QPen(Qt.GlobalColor.black, 1.0 * px))
                painter.setBrush(SELECTED if selected else color)
                painter.drawRect(QRectF(x - half, y - half, 2 * half, 2 * half))
            if current:
                for i in sorted(m.selection):
                    if i >= len(c):
                        continue
                    h = handle_position(c.points, c.tensions, i, s)
                    painter.setPen(QPen(SELECTED, 1.0 * px, Qt.PenStyle.DashLine))
                    painter.drawLine(QPointF(*c.points[i]), QPointF(*h))
                    painter.setBrush(QColor(255, 255, 255))
                    painter.drawEllipse(QPointF(*h), 4 * px, 4 * px)
                self._paint_diameters(painter, lesion, px)
        if m.draft:
            painter.setPen(QPen(DRAFT, 2.0 * px, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolyline(_polygon(np.array(m.draft)))
            painter.setBrush(DRAFT)
            for i, (x, y) in enumerate(m.draft):
                r = (5.0 if i == 0 else 3.5) * px  # the first point is larger: click it to close
                painter.drawEllipse(QPointF(x, y), r, r)
        if m.box is not None:
            x0, y0, x1, y1 = m.box
            painter.setPen(QPen(QColor(255, 255, 255), 1.0 * px, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(255, 255, 255, 30))
            painter.drawRect(QRectF(QPointF(min(x0, x1), min(y0, y1)), QPointF(max(x0, x1), max(y0, y1))))

    def _paint_diameters(self, painter: QPainter, lesion, px: float) -> None:
        if self.measure_fn is None:
            return
        meas = self.measure_fn(lesion, compute=False)  # drawn once the panel has measured
        if meas is None:
            return
        painter.setPen(QPen(QColor(255, 255, 255, 180), 1.0 * px, Qt.PenStyle.DotLine))
        for a, b in (meas.longest_ends, meas.perpendicular_ends):
            painter.drawLine(QPointF(*a), QPointF(*b))
