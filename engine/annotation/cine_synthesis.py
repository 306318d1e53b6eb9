"""One synthetic tumor through a whole cine loop: the same seed and description on every frame, the
lesion mask carried from frame to frame by propagation (engine.annotation.propagate's Track).

Modes:
  warped (default)  frame k is pulled into the anchor frame's geometry by a thin-plate spline fitted
                    to the track's contours (anchor -> frame k), synthesized there with the anchor's
                    mask and the seed, and only the change the synthesis made is pushed back through
                    the inverse spline. Window, noise and draft are the same on every frame; only the
                    tissue around the lesion differs, so the tumor moves and deforms with the tissue.
  per-frame         each frame synthesized on its own with its propagated mask and the same seed.
                    The generator chooses its window from each mask, and its noise is laid out on
                    that window, so the texture jumps whenever the window's size changes.
  independent       per-frame with seed + k on frame k: the baseline with nothing held fixed.

`interior_change` is the consistency figure: the mean absolute difference between consecutive
frames inside the lesion, after pulling both into the anchor frame's geometry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.ndimage import binary_erosion

from engine.annotation.propagate import Track
from engine.contour.spline import Contour, sample_closed
from engine.errors import InputError

MODES = ("warped", "per-frame", "independent")
CORRESPONDENCES = 64  # points along each contour that pin the spline
TPS_SMOOTHING = 1.0  # px^2-ish: damps the jitter of single control points
CORE_INSET_PX = 2  # the lesion core whose drawn pixels are carried as they are
GRID_STEP_PX = 4  # the spline is evaluated on this grid and interpolated between (it is smooth)

# synth(gray uint8 [h, w], mask bool [h, w], seed) -> the frame with the tumor drawn in (uint8 [h, w])
Synth = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


@dataclass
class LoopSynthesis:
    pixels: (
        np.ndarray
    )  # [n, h, w] uint8: every frame of the loop, with the tumor where the track has a contour
    masks: np.ndarray  # [n, h, w] bool: the track's contour raster on each frame (empty where it has none)
    record: dict = field(default_factory=dict)


# --- the warp between two frames of a track ------------------------------------------------------
def _arc_resample(poly: np.ndarray, n: int) -> np.ndarray:
    closed = np.vstack([poly, poly[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])], axis=1)


def correspondences(a: Contour, b: Contour, n: int = CORRESPONDENCES) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) matching points on `a` and `b`. Contours with the same number of control points (a
    propagated track) match at the same spline parameter; otherwise both are resampled by arc length
    and `b` is shifted round to the start that best matches `a`."""
    if len(a) == len(b):
        per = int(np.ceil(n / len(a)))
        return sample_closed(a.points, a.tensions, per), sample_closed(b.points, b.tensions, per)
    pa, pb = _arc_resample(a.dense(1.0), n), _arc_resample(b.dense(1.0), n)
    signed = [
        float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - p[:, 1] * np.roll(p[:, 0], -1))) for p in (pa, pb)
    ]
    if np.sign(signed[0]) != np.sign(signed[1]):
        pb = pb[::-1]  # drawn the other way round
    shift = min(range(n), key=lambda k: float(((np.roll(pb, -k, axis=0) - pa) ** 2).sum()))
    return pa, np.roll(pb, -shift, axis=0)


@dataclass
class ContourWarp:
    """Thin-plate splines between the anchor frame's contour and frame k's, both ways."""

    forward: RBFInterpolator  # anchor (x, y) -> frame k (x, y)
    inverse: RBFInterpolator  # frame k (x, y) -> anchor (x, y)

    @classmethod
    def fit(cls, anchor: Contour, other: Contour) -> ContourWarp:
        pa, pk = correspondences(anchor, other)
        make = dict(kernel="thin_plate_spline", smoothing=TPS_SMOOTHING)
        return cls(RBFInterpolator(pa, pk, **make), RBFInterpolator(pk, pa, **make))

    @staticmethod
    def maps(spline: RBFInterpolator, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps for the pixels of `box` (x0, y0, x1, y1): where each one comes from."""
        x0, y0, x1, y1 = box
        xs = np.arange(x0, x1 + GRID_STEP_PX, GRID_STEP_PX, dtype=np.float64)
        ys = np.arange(y0, y1 + GRID_STEP_PX, GRID_STEP_PX, dtype=np.float64)
        gx, gy = np.meshgrid(xs, ys)
        where = spline(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(len(ys), len(xs), 2)
        # bilinear between grid nodes: node i sits at x0 + i * step
        px = (np.arange(x0, x1) - x0) / GRID_STEP_PX
        py = (np.arange(y0, y1) - y0) / GRID_STEP_PX
        qx, qy = np.meshgrid(px.astype(np.float32), py.astype(np.float32))
        mx = cv2.remap(where[..., 0].astype(np.float32), qx, qy, cv2.INTER_LINEAR)
        my = cv2.remap(where[..., 1].astype(np.float32), qx, qy, cv2.INTER_LINEAR)
        return mx, my

    def pull(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """`image` (frame k) seen in the anchor frame's geometry over `box` (float32)."""
        mx, my = self.maps(self.forward, box)
        return cv2.remap(image.astype(np.float32), mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)

    def push_box(self, box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """The box of frame k that the anchor-geometry `box` lands on (clipped to the frame)."""
        x0, y0, x1, y1 = box
        t = np.linspace(0.0, 1.0, 9)
        edge = np.concatenate(
            [
                np.stack([x0 + t * (x1 - x0), np.full_like(t, y0)], 1),
                np.stack([x0 + t * (x1 - x0), np.full_like(t, y1)], 1),
                np.stack([np.full_like(t, x0), y0 + t * (y1 - y0)], 1),
                np.stack([np.full_like(t, x1), y0 + t * (y1 - y0)], 1),
            ]
        )
        where = self.forward(edge)
        h, w = shape
        lo, hi = np.floor(where.min(axis=0)) - 2, np.ceil(where.max(axis=0)) + 3
        return int(max(lo[0], 0)), int(max(lo[1], 0)), int(min(hi[0], w)), int(min(hi[1], h))

    def push(
        self, layers: Sequence[np.ndarray], box: tuple[int, int, int, int], shape: tuple[int, int]
    ) -> tuple[list[np.ndarray], tuple[int, int, int, int]]:
        """Arrays in the anchor geometry over `box` carried onto frame k (0 where nothing lands):
        (the carried arrays, the box of frame k they cover)."""
        target = self.push_box(box, shape)
        mx, my = self.maps(self.inverse, target)
        mx, my = mx - box[0], my - box[1]
        moved = [
            cv2.remap(
                a.astype(np.float32), mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0
            )
            for a in layers
        ]
        return moved, target


# --- the loop ---------------------------------------------------------------------------------
def _box_of(window) -> tuple[int, int, int, int]:
    return int(window.x0), int(window.y0), int(window.x1), int(window.y1)


def _core_weight(mask: np.ndarray) -> np.ndarray:
    """1 well inside the lesion, 0 outside, a short ramp just inside its edge (float32)."""
    core = binary_erosion(mask, iterations=CORE_INSET_PX) if mask.sum() > 64 else mask
    return np.clip(cv2.GaussianBlur(core.astype(np.float32), (0, 0), CORE_INSET_PX / 2), 0, 1)


def _warped_frame(
    synth: Synth,
    gray: np.ndarray,
    anchor_gray: np.ndarray,
    anchor_mask: np.ndarray,
    box,
    warp: ContourWarp,
    seed,
) -> np.ndarray:
    """Frame k pulled into the anchor's geometry, drawn there, carried back. Inside the lesion the
    drawn pixels themselves are carried; around it (margin blend, posterior features) only the change
    the generator made, added to frame k's own tissue, so the round trip never blurs that tissue."""
    x0, y0, x1, y1 = box
    pulled = anchor_gray.copy()
    pulled_box = np.clip(np.rint(warp.pull(gray, box)), 0, 255).astype(np.uint8)
    pulled[y0:y1, x0:x1] = pulled_box
    drawn = synth(pulled, anchor_mask, seed)[y0:y1, x0:x1].astype(np.float32)
    change = drawn - pulled_box.astype(np.float32)
    (drawn_k, change_k, core_k), (tx0, ty0, tx1, ty1) = warp.push(
        [drawn, change, _core_weight(anchor_mask[y0:y1, x0:x1])], box, gray.shape
    )
    core_k = np.clip(core_k, 0.0, 1.0)  # cubic resampling overshoots a little at the ramp
    own = gray[ty0:ty1, tx0:tx1].astype(np.float32)
    region = (own + change_k) * (1 - core_k) + drawn_k * core_k
    out = gray.copy()
    out[ty0:ty1, tx0:tx1] = np.clip(np.rint(region), 0, 255).astype(np.uint8)
    return out


def synthesize_loop(
    frame_at: Callable[[int], np.ndarray],
    track: Track,
    anchor: int,
    synth: Synth,
    seed: int = 0,
    mode: str = "warped",
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> LoopSynthesis:
    """The tumor drawn into every frame of `track` (frames without a contour are left as they are).

    `frame_at(i)` gives frame i's uint8 gray array; `synth` draws one tumor (see physics_synth,
    diffusion_synth); `anchor` is the frame whose mask is the tumor's own shape (warped mode)."""
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if anchor not in track.entries:
        raise InputError(f"frame {anchor} has no contour to synthesize the tumor from")
    from engine.generator.window import choose_window

    started = time.perf_counter()
    anchor_gray = np.asarray(frame_at(anchor))
    if anchor_gray.ndim != 2 or anchor_gray.dtype != np.uint8:
        raise InputError(f"frames must be uint8 grayscale, got {anchor_gray.dtype} {anchor_gray.shape}")
    shape = anchor_gray.shape
    anchor_contour = track.entries[anchor].contour
    anchor_mask = anchor_contour.raster(shape)
    if not anchor_mask.any():
        raise InputError(f"the contour on frame {anchor} encloses no pixel of the frame")
    box = _box_of(choose_window(anchor_mask))
    pixels = np.empty((track.n_frames, *shape), np.uint8)
    masks = np.zeros((track.n_frames, *shape), bool)
    done = []
    for i in range(track.n_frames):
        if is_cancelled():
            break
        if progress is not None:
            progress(i / track.n_frames, f"frame {i + 1} of {track.n_frames}")
        gray = np.asarray(frame_at(i))
        if gray.shape != shape:
            raise InputError(f"frame {i} is {gray.shape}, frame {anchor} is {shape}: not one loop")
        entry = track.entries.get(i)
        if entry is None:
            pixels[i] = gray
            continue
        masks[i] = entry.contour.raster(shape)
        if mode == "warped":
            if i == anchor:
                pixels[i] = synth(gray, anchor_mask, seed)
            else:
                warp = ContourWarp.fit(anchor_contour, entry.contour)
                pixels[i] = _warped_frame(synth, gray, anchor_gray, anchor_mask, box, warp, seed)
        else:
            if not masks[i].any():
                raise InputError(f"the contour on frame {i} encloses no pixel of the frame")
            pixels[i] = synth(gray, masks[i], seed + (i if mode == "independent" else 0))
        done.append(i)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress(1.0, f"{len(done)} frames")
    record = {
        "mode": mode,
        "seed": int(seed),
        "anchor_frame": int(anchor),
        "frames_synthesized": done,
        "window": list(box),
        "seconds": round(seconds, 3),
        "seconds_per_frame": round(seconds / max(len(done), 1), 4),
    }
    return LoopSynthesis(pixels, masks, record)


# --- generators ---------------------------------------------------------------------------------
def physics_synth(description) -> Synth:
    """The physics draft (no model) for `description`."""
    from engine.generator.pipeline import physics_only

    def synth(gray, mask, seed):
        return physics_only(gray, mask, description, seed=seed).pixels[0]

    return synth


def diffusion_synth(pipe, description, text: str | None = None, **sampling) -> Synth:
    """A loaded generator pipeline (BusTumorPipeline or an ONNX one) with fixed sampling settings."""

    def synth(gray, mask, seed):
        return pipe(gray, mask, description, seed=seed, text=text, **sampling).pixels[0]

    return synth


# --- the consistency figure ---------------------------------------------------------------------
def interior_change(pulled: Sequence[np.ndarray], mask: np.ndarray, erode_px: int = 2) -> np.ndarray:
    """Mean |frame k+1 - frame k| inside `mask` (eroded by `erode_px`) for consecutive images that
    are already in one geometry (the anchor frame's); one value per pair."""
    inside = binary_erosion(mask, iterations=erode_px) if erode_px > 0 else mask.astype(bool)
    if not inside.any():
        raise InputError("the lesion is too small to measure its interior")
    stack = np.stack([np.asarray(p, np.float32) for p in pulled])
    return np.abs(np.diff(stack, axis=0))[:, inside].mean(axis=1)
