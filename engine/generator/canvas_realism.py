"""Realism without leakage: held-out lesions drawn on lesion-free frames, against the real lesions.

The in-place realism figure (engine.generator.realism) draws each lesion over the real one, in its
own frame: the backgrounds match exactly, but whatever a generator keeps of the frame around the
mask (tissue speckle, the real lesion's posterior features, its edge where the hand-drawn mask is a
little too small, BUSI's calipers) came from the real lesion. Here each held-out BUSI lesion's mask
and description are moved to a lesion-free BUSI frame (a "normal" image, the canvases users draw
on), at the same relative position, and drawn there; the classifier sees the real lesion's window
against the window of its twin on the canvas. Nothing of the real lesion can leak, but the
backgrounds differ; the real lesion itself pasted onto the canvas (the cut-and-paste control of
engine.generator.figures) shows what that difference alone gives away. Each canvas holds one
lesion, so no background appears in two folds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import DataError
from engine.generator.window import lesion_box


def load_canvases(data_root: Path) -> list[tuple[str, np.ndarray]]:
    """(case id, frame) of every lesion-free BUSI frame, in case order."""
    from engine.datasets import load_busi
    from engine.datasets.images import read_gray

    root = Path(data_root) / "bus" / "BUSI"
    if not root.is_dir():
        raise DataError(
            f"{root} not found: the lesion-free canvases (BUSI normal/) live there (BUS_DATA_ROOT)"
        )
    cases = sorted((c for c in load_busi(root).cases if not c.has_lesion), key=lambda c: c.case_id)
    if not cases:
        raise DataError(f"{root}: no lesion-free frames (normal/) to draw on")
    return [(c.case_id, read_gray(c.image_path)) for c in cases]


def moved_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The mask moved to a frame of `shape`, its box centred at the same relative position and kept
    inside the frame; None where the box does not fit."""
    x0, y0, x1, y1 = lesion_box(mask)
    h, w = y1 - y0, x1 - x0
    if h >= shape[0] or w >= shape[1]:
        return None
    cy = (y0 + y1) / 2.0 / mask.shape[0] * shape[0]
    cx = (x0 + x1) / 2.0 / mask.shape[1] * shape[1]
    ny0 = int(np.clip(round(cy - h / 2.0), 0, shape[0] - h))
    nx0 = int(np.clip(round(cx - w / 2.0), 0, shape[1] - w))
    out = np.zeros(shape, bool)
    out[ny0 : ny0 + h, nx0 : nx0 + w] = mask[y0:y1, x0:x1]
    return out
