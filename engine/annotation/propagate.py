"""Carry a contour through a cine loop: dense optical flow of the window around the lesion moves the
control points from frame to frame, then an optional short snap pulls them onto the boundary.

A Track holds one contour per frame and how it was made; `propagate` walks away from a frame in
one direction and stops before the next frame the user drew or corrected, so a correction resumes
propagation from there without overwriting other corrections.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import map_coordinates

from engine.annotation.despeckle import despeckle
from engine.annotation.snapping import snap_contour
from engine.contour.spline import Contour
from engine.errors import InputError

FLOW_MAX_PX = 192  # the window is shrunk to at most this size for the flow
WINDOW_EXTENTS = 2.0  # window side in lesion extents
SNAP_PX = 0.0  # snapping after flow is off by default: the benchmark measures both
MANUAL = "manual"
METHOD = "dis-flow"


@dataclass
class TrackEntry:
    contour: Contour
    method: str  # MANUAL for drawn/corrected frames, otherwise how the frame was propagated


@dataclass
class Track:
    n_frames: int
    entries: dict[int, TrackEntry] = field(default_factory=dict)

    def set_manual(self, frame: int, contour: Contour) -> None:
        self._check(frame)
        self.entries[frame] = TrackEntry(contour.copy(), MANUAL)

    def _check(self, frame: int) -> None:
        if not 0 <= frame < self.n_frames:
            raise InputError(f"frame {frame} is outside 0..{self.n_frames - 1}")

    def to_dict(self) -> dict:
        return {
            "n_frames": self.n_frames,
            "frames": {
                str(k): {"method": e.method, "contour": e.contour.to_dict()}
                for k, e in sorted(self.entries.items())
            },
        }

    @classmethod
    def from_dict(cls, d: dict) -> Track:
        t = cls(int(d["n_frames"]))
        for k, e in d["frames"].items():
            t.entries[int(k)] = TrackEntry(Contour.from_dict(e["contour"]), str(e["method"]))
        return t


def _flow_window(contour: Contour, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    pts = contour.points
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = float(max(hi - lo))
    c = (lo + hi) / 2
    half = max(WINDOW_EXTENTS * extent / 2, 16.0)
    h, w = shape
    x0, y0 = int(max(np.floor(c[0] - half), 0)), int(max(np.floor(c[1] - half), 0))
    x1, y1 = int(min(np.ceil(c[0] + half), w)), int(min(np.ceil(c[1] + half), h))
    return x0, y0, x1, y1


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None)


def flow_step(
    previous: np.ndarray, current: np.ndarray, contour: Contour, snap_px: float = SNAP_PX
) -> Contour:
    """`contour` on frame `previous` carried to frame `current` (both 2-D gray arrays)."""
    if previous.shape != current.shape or previous.ndim != 2:
        raise InputError(f"frames must be 2-D and the same size, got {previous.shape} and {current.shape}")
    x0, y0, x1, y1 = _flow_window(contour, previous.shape)
    scale = min(1.0, FLOW_MAX_PX / max(x1 - x0, y1 - y0))
    a, b = (despeckle(f[y0:y1, x0:x1], 3, 1.0) for f in (previous, current))
    if scale < 1.0:
        size = (max(int(round((x1 - x0) * scale)), 8), max(int(round((y1 - y0) * scale)), 8))
        a, b = (cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in (a, b))
    flow = _flow(np.clip(a, 0, 255).astype(np.uint8), np.clip(b, 0, 255).astype(np.uint8))
    sx, sy = flow.shape[1] / (x1 - x0), flow.shape[0] / (y1 - y0)
    # sample the flow at each control point (bilinear, pixel centres)
    px = (contour.points[:, 0] - x0 + 0.5) * sx - 0.5
    py = (contour.points[:, 1] - y0 + 0.5) * sy - 0.5
    u = map_coordinates(flow[..., 0], [py, px], order=1, mode="nearest") / sx
    v = map_coordinates(flow[..., 1], [py, px], order=1, mode="nearest") / sy
    moved = Contour(contour.points + np.stack([u, v], axis=1), contour.tensions.copy())
    return snap_contour(current, moved, snap_px) if snap_px > 0 else moved


def propagate(
    track: Track,
    frame_at: Callable[[int], np.ndarray],
    start: int,
    direction: int,
    steps: int | None = None,
    snap_px: float = SNAP_PX,
    on_frame: Callable[[int], None] | None = None,
) -> list[int]:
    """Fill `track` from the contour at `start` towards `direction` (+1 or -1), at most `steps`
    frames, stopping before the next manual frame; returns the frames written. `on_frame(frame)` is
    called after each frame (a worker reports progress there, and stops the walk by raising)."""
    if direction not in (1, -1):
        raise InputError(f"direction must be +1 or -1, got {direction}")
    if start not in track.entries:
        raise InputError(f"frame {start} has no contour to propagate from")
    method = METHOD + (f"+snap{snap_px:g}px" if snap_px > 0 else "")
    written, contour, previous = [], track.entries[start].contour, frame_at(start)
    frame = start + direction
    while 0 <= frame < track.n_frames and (steps is None or len(written) < steps):
        existing = track.entries.get(frame)
        if existing is not None and existing.method == MANUAL:
            break
        current = frame_at(frame)
        contour = flow_step(previous, current, contour, snap_px)
        track.entries[frame] = TrackEntry(contour, method)
        written.append(frame)
        if on_frame is not None:
            on_frame(frame)
        previous, frame = current, frame + direction
    return written


def timed_propagate(
    track: Track, frame_at, start: int, direction: int, steps: int | None = None, snap_px: float = SNAP_PX
) -> tuple[list[int], float]:
    """propagate() and its seconds per frame written."""
    t0 = time.perf_counter()
    written = propagate(track, frame_at, start, direction, steps, snap_px)
    return written, (time.perf_counter() - t0) / max(len(written), 1)
