"""Propagate: carry the current lesion's contour to the other frames of the cine loop (one undoable
edit). Frames drawn or corrected by hand stop it; running it from a corrected frame resumes from
there and replaces the contours it propagated before."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from busstudio.models.annotations import AnnotationModel, Lesion
from busstudio.models.edits import Edit
from engine.errors import InputError

FLOW_PREFIX = "dis-flow"


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


def propagate_current(
    model: AnnotationModel, history, n_frames: int, frame_at, steps: int | None = None, snap_px: float = 0.0
) -> list[int]:
    """Propagate the current lesion both ways through `n_frames` frames (`frame_at(i)` gives frame i's
    gray array); returns the frames written."""
    from engine.annotation.propagate import MANUAL, Track, TrackEntry, propagate

    anchor = model.current
    if anchor is None:
        raise InputError("select the lesion to propagate first (click it with the Contour tool)")
    if n_frames < 2:
        raise InputError("this study has one frame: there is nothing to propagate to")
    track_id = anchor.track if anchor.track is not None else anchor.id
    members = [les for les in model.lesions if les.id == track_id or les.track == track_id or les is anchor]
    track = Track(n_frames)
    for les in members:
        track.entries[les.frame] = TrackEntry(les.contour, les.method if is_propagated(les) else MANUAL)
    track.set_manual(anchor.frame, anchor.contour)
    written = propagate(track, frame_at, anchor.frame, 1, steps, snap_px)
    written += propagate(track, frame_at, anchor.frame, -1, steps, snap_px)
    if not written:
        model.tell("Nothing to propagate: the neighbouring frames were drawn or corrected by hand.")
        return []
    by_frame = {les.frame: les for les in members}
    before, after = [], []
    anchor_after = copy.copy(anchor)
    anchor_after.track = track_id
    if is_propagated(anchor):
        anchor_after.method = "corrected"
    before.append(anchor)
    after.append(anchor_after)
    for frame in written:
        old = by_frame.get(frame)
        if old is not None:
            before.append(old)
        after.append(Lesion(
            id=old.id if old is not None else model.new_id(), frame=frame,
            contour=track.entries[frame].contour, description=anchor.description, text=anchor.text,
            method=track.entries[frame].method, track=track_id,
        ))  # fmt: skip
    history.push(ReplaceTrack(model, before, after, f"Propagate contour to {len(written)} frames"))
    model.set_current(anchor.id)
    model.tell(
        f"Propagated to {len(written)} frames by optical flow; correct any frame and propagate again from it."
    )
    return sorted(written)
