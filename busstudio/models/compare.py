"""Compare a generated frame with the original: flicker, side by side, difference (numpy only)."""

from __future__ import annotations

import numpy as np

MODES = ("original", "result", "flicker", "side by side", "difference")


def side_by_side(original: np.ndarray, result: np.ndarray, gap: int = 4) -> np.ndarray:
    """Original on the left, result on the right (same coordinates for the left half), black gap."""
    h, w = original.shape[:2]
    out = np.zeros((h, 2 * w + gap) + original.shape[2:], np.uint8)
    out[:, :w] = original
    out[:, w + gap :] = result
    return out


def difference(original: np.ndarray, result: np.ndarray) -> np.ndarray:
    """|result - original| stretched to the full range (0 stays black, so untouched pixels are black)."""
    d = np.abs(result.astype(np.int16) - original.astype(np.int16)).astype(np.float32)
    peak = float(d.max())
    if peak <= 0:
        return np.zeros(original.shape, np.uint8)
    return np.rint(d * (255.0 / peak)).astype(np.uint8)


def compose(
    mode: str, original: np.ndarray, result: np.ndarray | None, flicker_on: bool = False
) -> np.ndarray | None:
    """The image to show instead of the original, or None to show the original itself."""
    if result is None or mode == "original":
        return None
    if mode == "result" or (mode == "flicker" and flicker_on):
        return result
    if mode == "flicker":
        return None
    if mode == "side by side":
        return side_by_side(original, result)
    if mode == "difference":
        return difference(original, result)
    raise ValueError(f"unknown compare mode {mode!r}")
