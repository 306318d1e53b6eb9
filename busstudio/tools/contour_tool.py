"""The contour tool: place, close, drag, insert, remove, reshape and box-select contour points.

Gestures (image coordinates arrive as Pointer; radii are in screen pixels):
  click on empty space          start a lesion (first point), then each click adds a point
  click the first point / double-click    close the curve (3 points at least)
  drag a point                  move it (all selected points when it is part of a selection)
  ctrl+click near the curve     insert a point there
  shift+click a point           remove it
  drag a curvature handle       sharpen (towards the point) or round (away) that corner
  drag on empty space           box-select points of the current lesion
With `snapper` set a dragged point snaps to the nearest edge; with `livewire` set each placed point
brings the edge path from the previous one, and a dragged point rewires both of its segments.
Every finished gesture is one undoable edit pushed on `history`; an edit of a lesion records how it
was made in the lesion's method (models.annotations.edited_method).
"""

from __future__ import annotations

import numpy as np

from busstudio.bindings.pointer import Pointer, Tool
from busstudio.models.annotations import AnnotationModel, Lesion, edited_method
from busstudio.models.edits import AddLesion, RemoveLesion, ReplaceContour, SetDraft
from busstudio.tools.handles import handle_position, tension_from_handle

POINT_HIT_PX = 7.0
CURVE_HIT_PX = 6.0
DRAG_START_PX = 3.0


def contour_class():
    from busstudio import engine_parts

    return engine_parts.contour_spline().Contour


class ContourTool(Tool):
    name = "contour"
    cursor = "cross"

    def __init__(self, model: AnnotationModel, history, contour_cls=None):
        self.model = model
        self.history = history
        self._contour_cls = contour_cls
        self._gesture: dict | None = None
        self.snapper = None  # (contour, index) -> (x, y): edge snapping of a dragged point, when set
        self.livewire = None  # wire_between(a, b) / wire_around(contour, index), when set (EdgeSnapping)

    @property
    def Contour(self):
        if self._contour_cls is None:
            self._contour_cls = contour_class()
        return self._contour_cls

    # hit testing -----------------------------------------------------------------------------------
    def _hit_handle(self, lesion: Lesion, p: Pointer) -> int | None:
        c = lesion.contour
        for i in sorted(self.model.selection):
            if i < len(c):
                h = handle_position(c.points, c.tensions, i, p.scale)
                if np.hypot(h[0] - p.x, h[1] - p.y) <= p.radius(POINT_HIT_PX):
                    return i
        return None

    def _hit_point(self, lesion: Lesion, p: Pointer) -> int | None:
        i, d = lesion.contour.nearest_point(p.x, p.y)
        return i if d <= p.radius(POINT_HIT_PX) else None

    def _lesion_under(self, p: Pointer) -> Lesion | None:
        """The lesion whose point or curve is under the pointer (the current one first)."""
        on = self.model.on_frame()
        current = self.model.current
        ordered = ([current] if current else []) + [les for les in reversed(on) if les is not current]
        for les in ordered:
            if self._hit_point(les, p) is not None:
                return les
            if les.contour.nearest_curve_position(p.x, p.y, 16).distance <= p.radius(CURVE_HIT_PX):
                return les
        return None

    # gestures --------------------------------------------------------------------------------------
    def press(self, p: Pointer) -> None:
        m = self.model
        if m.draft:
            self._press_while_placing(p)
            return
        lesion = self._lesion_under(p) or m.current
        if lesion is not None:
            if lesion.id != m.current_id:
                m.set_current(lesion.id)
            handle = self._hit_handle(lesion, p)
            if handle is not None:
                self._gesture = {
                    "kind": "tension",
                    "lesion": lesion,
                    "index": handle,
                    "before": lesion.contour.copy(),
                }
                return
            index = self._hit_point(lesion, p)
            if index is not None:
                if p.shift:
                    self._delete_points(lesion, {index})
                    return
                moving = m.selection if index in m.selection and len(m.selection) > 1 else {index}
                m.set_selection(moving)
                self._gesture = {
                    "kind": "move",
                    "lesion": lesion,
                    "indices": sorted(moving),
                    "before": lesion.contour.copy(),
                    "start": (p.x, p.y),
                    "moved": False,
                    "aid": None,
                    "selection_after": None,
                }
                return
            if p.ctrl:
                pos = lesion.contour.nearest_curve_position(p.x, p.y)
                if pos.distance <= p.radius(CURVE_HIT_PX) * 2:
                    after = lesion.contour.copy()
                    new_index = after.insert_on_curve(pos)
                    self._replace(lesion, lesion.contour.copy(), after, "Insert point", {new_index})
                    return
        self._gesture = {"kind": "empty", "start": (p.x, p.y), "dragged": False}

    def _press_while_placing(self, p: Pointer) -> None:
        m = self.model
        first = np.array(m.draft[0])
        if len(m.draft) >= 3 and np.hypot(*(first - (p.x, p.y))) <= p.radius(POINT_HIT_PX):
            self.close_draft()
            return
        between = self._wire_between(m.draft[-1], (p.x, p.y))
        text = "Place point (livewire)" if len(between) else "Place point"
        self.history.push(SetDraft(m, list(m.draft), [*m.draft, *between, (p.x, p.y)], text))

    def _wire_between(self, a, b) -> list[tuple[float, float]]:
        if self.livewire is None:
            return []
        return [(float(x), float(y)) for x, y in self.livewire.wire_between(a, b)]

    def _replace(self, lesion: Lesion, before, after, text: str, selection_after=None, aid=None) -> None:
        """One undoable contour edit that also records the aid in the lesion's method."""
        method = edited_method(lesion.method, aid)
        self.history.push(
            ReplaceContour(
                self.model, lesion.id, before, after, text, selection_after,
                method_before=lesion.method, method_after=method,
            )
        )  # fmt: skip

    def move(self, p: Pointer) -> None:
        g = self._gesture
        if g is None:
            return
        m = self.model
        if g["kind"] == "move":
            dx, dy = p.x - g["start"][0], p.y - g["start"][1]
            if not g["moved"] and np.hypot(dx, dy) * p.scale < 1.0:
                return
            g["moved"] = True
            after = g["before"].copy()
            for i in g["indices"]:
                bx, by = g["before"].points[i]
                after.move(i, bx + dx, by + dy)
            g["aid"], g["selection_after"] = None, None
            if len(g["indices"]) == 1:
                i = g["indices"][0]
                if self.snapper is not None:
                    where = self.snapper(after, i)
                    if not np.allclose(where, after.points[i]):
                        after.move(i, *where)
                        g["aid"] = "snap"
                wired = self.livewire.wire_around(after, i) if self.livewire is not None else None
                if wired is not None:
                    after, i = wired
                    g["aid"], g["selection_after"] = "livewire", {i}
            m.set_contour(g["lesion"].id, after)
            if g["selection_after"] is not None:
                m.set_selection(g["selection_after"])
        elif g["kind"] == "tension":
            before = g["before"]
            t = tension_from_handle(before.points, g["index"], p.x, p.y, p.scale)
            after = before.copy()
            after.set_tension(g["index"], t)
            m.set_contour(g["lesion"].id, after)
        elif g["kind"] == "empty":
            sx, sy = g["start"]
            if g["dragged"] or np.hypot(p.x - sx, p.y - sy) * p.scale >= DRAG_START_PX:
                g["dragged"] = True
                m.set_box((sx, sy, p.x, p.y))

    def release(self, p: Pointer) -> None:
        g, self._gesture = self._gesture, None
        if g is None:
            return
        m = self.model
        if g["kind"] == "move" and g["moved"]:
            lesion = m.get(g["lesion"].id)
            text = "Move point" if len(g["indices"]) == 1 else f"Move {len(g['indices'])} points"
            if g["aid"]:
                text += f" ({g['aid']})"
            self._replace(lesion, g["before"], lesion.contour.copy(), text, g["selection_after"], g["aid"])
        elif g["kind"] == "tension":
            lesion = m.get(g["lesion"].id)
            self._replace(lesion, g["before"], lesion.contour.copy(), "Change curvature")
        elif g["kind"] == "empty":
            if g["dragged"]:
                box = m.box
                m.set_box(None)
                self._select_in_box(box)
            else:
                m.set_selection(set())
                self.history.push(SetDraft(m, [], [(p.x, p.y)], "Start lesion"))

    def double_click(self, p: Pointer) -> None:
        if self.model.draft:
            self.close_draft()

    def cancel(self) -> None:
        """Esc: drop the open curve being placed (undoable) and any gesture."""
        self._gesture = None
        self.model.set_box(None)
        if self.model.draft:
            self.history.push(SetDraft(self.model, list(self.model.draft), [], "Discard open curve"))

    # edits -----------------------------------------------------------------------------------------
    def close_draft(self) -> None:
        m = self.model
        pts = np.array(m.draft, float)
        # a double-click lands its last point on (or next to) the one before it: drop duplicates
        keep = [0] + [i for i in range(1, len(pts)) if np.hypot(*(pts[i] - pts[i - 1])) > 0.5]
        pts = pts[keep]
        if len(pts) < 3:
            m.tell("A contour needs at least 3 points; keep clicking to add more.")
            return
        closing = self._wire_between(pts[-1], pts[0])
        if closing:
            pts = np.vstack([pts, closing])
        method = "livewire" if self.livewire is not None else "manual"
        lesion = Lesion(id=m.new_id(), frame=m.frame, contour=self.Contour(pts), method=method)
        self.history.push(AddLesion(m, lesion, "Close contour", draft_before=list(m.draft)))

    def _select_in_box(self, box) -> None:
        m = self.model
        candidates = ([m.current] if m.current else []) + [
            les for les in m.on_frame() if les is not m.current
        ]
        for les in candidates:
            inside = m.points_in_box(les, box)
            if inside:
                m.set_current(les.id)
                m.set_selection(inside)
                return
        m.set_selection(set())

    def _delete_points(self, lesion: Lesion, indices: set[int]) -> None:
        m = self.model
        remaining = len(lesion.contour) - len(indices)
        if remaining < 3:
            self.history.push(RemoveLesion(m, lesion, "Delete lesion"))
            return
        after = lesion.contour.copy()
        for i in sorted(indices, reverse=True):
            after.delete(i)
        text = "Delete point" if len(indices) == 1 else f"Delete {len(indices)} points"
        self._replace(lesion, lesion.contour.copy(), after, text, set())

    def delete_selected(self) -> None:
        """Delete key: the selected points, or the whole current lesion when none are selected."""
        m = self.model
        lesion = m.current
        if lesion is None:
            return
        self._delete_points(lesion, set(m.selection) or set(range(len(lesion.contour))))

    def select_all(self) -> None:
        if self.model.current is not None:
            self.model.set_selection(range(len(self.model.current.contour)))
