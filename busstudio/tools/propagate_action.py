"""Propagate: carry the current lesion's contour to the other frames of the cine loop (one undoable
edit). Frames drawn or corrected by hand stop it; running it from a corrected frame resumes from
there and replaces the contours it propagated before.

Three steps, so the slow middle one runs off the UI thread (busstudio.panels.propagation_progress):
`plan_propagation` snapshots the track on the UI thread, `PropagationPlan.run` does the optical flow
anywhere (it touches only the plan's own copies), `apply_propagation` pushes the edit on the UI
thread, unless the track was edited meanwhile.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from busstudio.models.annotations import CORRECTED, PROPAGATED_PREFIX, AnnotationModel, Lesion
from busstudio.models.edits import Edit
from engine.errors import InputError

FLOW_PREFIX = PROPAGATED_PREFIX


def is_propagated(lesion: Lesion) -> bool:
    return lesion.method.startswith(FLOW_PREFIX)


@dataclass
class ReplaceTrack(Edit):
    """Swap one set of lesions for another (the track before and after propagation)."""

    model: AnnotationModel
    before: list
    after: list
    text: str = "Propagate contour"

    def _swap(self, remove: list, add: list) -> None:
        for lesion in remove:
            if self.model.get(lesion.id) is not None:
                self.model.remove_lesion(lesion.id)
        for lesion in add:
            fresh = copy.copy(lesion)
            fresh.contour = lesion.contour.copy()
            self.model.add_lesion(fresh)
        if add:
            self.model.set_current(add[0].id)  # the anchor, on the frame shown

    def redo(self) -> None:
        self._swap(self.before, self.after)

    def undo(self) -> None:
        self._swap(self.after, self.before)


def _signature(lesions) -> list:
    return sorted((les.id, les.frame, les.method, les.contour.points.tobytes()) for les in lesions)


@dataclass
class PropagationPlan:
    """What propagation starts from, copied off the model: safe to run on another thread."""

    anchor: Lesion
    track_id: int
    members: list  # the lesions of the track when planned (the anchor among them)
    n_frames: int
    steps: int | None = None
    snap_px: float = 0.0
    track: object = None  # engine.annotation.propagate.Track, filled by run()
    written: list = field(default_factory=list)

    def run(
        self, frame_at: Callable[[int], object], progress: Callable[[float, str], None] | None = None
    ) -> list[int]:
        """Propagate both ways from the anchor (`frame_at(i)`: frame i's gray array); returns the
        frames written. `progress(fraction, message)` after each frame may raise to stop it."""
        from engine.annotation.propagate import MANUAL, Track, TrackEntry, propagate

        track = Track(self.n_frames)
        for les in self.members:
            track.entries[les.frame] = TrackEntry(
                les.contour.copy(), les.method if is_propagated(les) else MANUAL
            )
        track.set_manual(self.anchor.frame, self.anchor.contour)
        room = max(self.n_frames - 1, 1)

        def on_frame(frame: int) -> None:
            done.append(frame)
            if progress is not None:
                progress(len(done) / room, f"propagated to frame {frame + 1} of {self.n_frames}")

        done: list[int] = []
        written = propagate(track, frame_at, self.anchor.frame, 1, self.steps, self.snap_px, on_frame)
        written += propagate(track, frame_at, self.anchor.frame, -1, self.steps, self.snap_px, on_frame)
        self.track, self.written = track, written
        return written


def _track_members(model: AnnotationModel, anchor: Lesion, track_id: int) -> list:
    return [les for les in model.lesions if les.id == track_id or les.track == track_id or les is anchor]


def plan_propagation(
    model: AnnotationModel, n_frames: int, steps: int | None = None, snap_px: float = 0.0
) -> PropagationPlan:
    """Snapshot the current lesion's track (UI thread); InputError when there is nothing to do."""
    anchor = model.current
    if anchor is None:
        raise InputError("select the lesion to propagate first (click it with the Contour tool)")
    if n_frames < 2:
        raise InputError("this study has one frame: there is nothing to propagate to")
    track_id = anchor.track if anchor.track is not None else anchor.id
    members = [copy.copy(les) for les in _track_members(model, anchor, track_id)]
    for les in members:
        les.contour = les.contour.copy()
    snapshot = next(les for les in members if les.id == anchor.id)
    return PropagationPlan(snapshot, track_id, members, n_frames, steps, snap_px)


def apply_propagation(model: AnnotationModel, history, plan: PropagationPlan) -> list[int]:
    """Push the propagated track as one undoable edit (UI thread); returns the frames written.
    Nothing changes when the track was edited while the flow ran (the user propagates again)."""
    anchor = model.get(plan.anchor.id)
    if anchor is None or _signature(_track_members(model, anchor, plan.track_id)) != _signature(plan.members):
        model.tell("The contours changed while propagating; nothing was replaced. Propagate again (P).")
        return []
    written, track = plan.written, plan.track
    if not written:
        model.tell("Nothing to propagate: the neighbouring frames were drawn or corrected by hand.")
        return []
    by_frame = {les.frame: les for les in _track_members(model, anchor, plan.track_id)}
    before, after = [], []
    anchor_after = copy.copy(anchor)
    anchor_after.track = plan.track_id
    if is_propagated(anchor):
        anchor_after.method = CORRECTED
    before.append(anchor)
    after.append(anchor_after)
    for frame in written:
        old = by_frame.get(frame)
        if old is not None:
            before.append(old)
        after.append(Lesion(
            id=old.id if old is not None else model.new_id(), frame=frame,
            contour=track.entries[frame].contour, description=anchor.description, text=anchor.text,
            method=track.entries[frame].method, track=plan.track_id,
        ))  # fmt: skip
    history.push(ReplaceTrack(model, before, after, f"Propagate contour to {len(written)} frames"))
    model.set_current(anchor.id)
    model.tell(
        f"Propagated to {len(written)} frames by optical flow; correct any frame and propagate again from it."
    )
    return sorted(written)


def propagate_current(
    model: AnnotationModel, history, n_frames: int, frame_at, steps: int | None = None, snap_px: float = 0.0
) -> list[int]:
    """Plan, run and apply in one go on this thread (headless use; the app runs `run` in a worker)."""
    plan = plan_propagation(model, n_frames, steps, snap_px)
    plan.run(frame_at)
    return apply_propagation(model, history, plan)
