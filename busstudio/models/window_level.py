"""Window/level of an 8-bit display frame: presets and a lookup table (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowLevel:
    window: float = 256.0  # width of the displayed gray range
    level: float = 127.5  # its centre

    def clamped(self) -> WindowLevel:
        return WindowLevel(
            float(min(max(self.window, 1.0), 512.0)), float(min(max(self.level, -128.0), 383.0))
        )

    def lut(self) -> np.ndarray:
        """uint8[256]: input gray -> displayed gray (linear ramp over [level - w/2, level + w/2])."""
        lo = self.level - self.window / 2.0
        ramp = (np.arange(256, dtype=np.float64) - lo) * (255.0 / self.window)
        return np.clip(np.rint(ramp), 0, 255).astype(np.uint8)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Apply to a uint8 gray (HxW) or colour (HxWx3) frame; identity leaves it untouched."""
        if self == FULL_RANGE:
            return image
        return self.lut()[image]


FULL_RANGE = WindowLevel(256.0, 127.5)

# Presets a sonographer understands: whole range, more contrast in the dark (lesion) range, soft.
PRESETS: dict[str, WindowLevel] = {
    "Full range": FULL_RANGE,
    "High contrast": WindowLevel(160.0, 110.0),
    "Dark lesions": WindowLevel(120.0, 70.0),
    "Soft": WindowLevel(320.0, 127.5),
}


def drag_window_level(start: WindowLevel, dx: float, dy: float, sensitivity: float = 1.0) -> WindowLevel:
    """Dragging right widens the window, dragging down raises the level (the convention of most viewers)."""
    return WindowLevel(start.window + dx * sensitivity, start.level + dy * sensitivity).clamped()
