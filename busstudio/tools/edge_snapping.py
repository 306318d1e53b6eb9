"""Edge snapping for the contour tool (engine.annotation.snapping), two aids toggled apart:

- point snapping (E): a dragged point snaps to the strongest boundary along its normal within the
  tolerance;
- livewire (W): the curve between neighbouring points follows the strongest edge, a minimal path on
  the despeckled gradient no farther than the margin from the straight line: each placed point
  brings the path from the previous one, and a dragged point rewires both of its segments.
"""

from __future__ import annotations

import numpy as np

from engine.errors import InputError

DEFAULT_TOLERANCE_PX = 6.0
DEFAULT_LIVEWIRE_MARGIN_PX = 12


class EdgeSnapping:
    def __init__(
        self,
        frame_source,
        tell,
        tolerance_px: float = DEFAULT_TOLERANCE_PX,
        livewire_margin_px: int = DEFAULT_LIVEWIRE_MARGIN_PX,
    ):
        self.frame_source = frame_source  # () -> the current frame's gray array, or None
        self.tell = tell  # (text) -> None: the status bar
        self.tolerance_px = float(tolerance_px)
        self.livewire_margin_px = int(livewire_margin_px)
        self.enabled = False  # point snapping
        self.livewire = False

    def toggle(self) -> bool:
        self.enabled = not self.enabled
        state = f"on (tolerance {self.tolerance_px:g} px along the normal)" if self.enabled else "off"
        self.tell(f"Edge snapping {state}")
        return self.enabled

    def toggle_livewire(self) -> bool:
        self.livewire = not self.livewire
        state = (
            f"on (the curve between neighbouring points follows the strongest edge, tolerance "
            f"{self.livewire_margin_px} px from the straight line)"
            if self.livewire
            else "off"
        )
        self.tell(f"Livewire {state}")
        return self.livewire

    def state_text(self) -> str:
        """The aids that are on, with their tolerances, for a permanent status bar label."""
        on = []
        if self.enabled:
            on.append(f"Snap {self.tolerance_px:g} px")
        if self.livewire:
            on.append(f"Livewire {self.livewire_margin_px} px")
        return " · ".join(on)

    def __call__(self, contour, index: int) -> tuple[float, float]:
        """Where point `index` goes: snapped when on and a frame is shown, else where it is."""
        x, y = contour.points[index]
        gray = self.frame_source()
        if not self.enabled or gray is None:
            return float(x), float(y)
        from engine.annotation.snapping import snap_point

        return snap_point(gray, contour, index, self.tolerance_px)

    def wire_between(self, start, end) -> np.ndarray:
        """(K, 2) points between `start` and `end` along the edge; none when off, with no frame, or
        when a point lies outside the image (the segment stays a plain spline there)."""
        gray = self.frame_source()
        if not self.livewire or gray is None:
            return np.empty((0, 2))
        from engine.annotation.snapping import livewire_points

        try:
            return livewire_points(gray, start, end, self.livewire_margin_px)
        except InputError:
            return np.empty((0, 2))

    def wire_around(self, contour, index: int):
        """(contour, index) with point `index`'s two segments along the edge, or None (as above)."""
        gray = self.frame_source()
        if not self.livewire or gray is None:
            return None
        from engine.annotation.snapping import livewire_around

        try:
            return livewire_around(gray, contour, index, self.livewire_margin_px)
        except InputError:
            return None
