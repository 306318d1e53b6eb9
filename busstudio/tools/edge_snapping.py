"""Edge snapping for the contour tool: when on, a dragged point snaps to the strongest boundary
along its normal within the tolerance (engine.annotation.snapping)."""

from __future__ import annotations

DEFAULT_TOLERANCE_PX = 6.0


class EdgeSnapping:
    def __init__(self, frame_source, tell, tolerance_px: float = DEFAULT_TOLERANCE_PX):
        self.frame_source = frame_source  # () -> the current frame's gray array, or None
        self.tell = tell  # (text) -> None: the status bar
        self.tolerance_px = float(tolerance_px)
        self.enabled = False

    def toggle(self) -> bool:
        self.enabled = not self.enabled
        state = f"on (tolerance {self.tolerance_px:g} px along the normal)" if self.enabled else "off"
        self.tell(f"Edge snapping {state}")
        return self.enabled

    def __call__(self, contour, index: int) -> tuple[float, float]:
        """Where point `index` goes: snapped when on and a frame is shown, else where it is."""
        x, y = contour.points[index]
        gray = self.frame_source()
        if not self.enabled or gray is None:
            return float(x), float(y)
        from engine.annotation.snapping import snap_point

        return snap_point(gray, contour, index, self.tolerance_px)
