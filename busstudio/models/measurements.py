"""Live lesion measurements: area, longest diameter and the perpendicular, in mm where calibrated.

Millimetres are given only when every control point lies in the same calibrated region (the scale may
differ in x and y, so the contour is scaled to mm before measuring).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Measurement:
    area_px: float
    longest_px: float
    perpendicular_px: float
    longest_ends: tuple  # ((x, y), (x, y)) in image pixels, for drawing
    perpendicular_ends: tuple
    area_mm2: float | None = None
    longest_mm: float | None = None
    perpendicular_mm: float | None = None

    def text(self) -> str:
        if self.area_mm2 is None:
            return (
                f"area {self.area_px:.0f} px²   longest {self.longest_px:.1f} px   "
                f"perpendicular {self.perpendicular_px:.1f} px   (no mm: not in one calibrated region)"
            )
        return (
            f"area {self.area_mm2:.1f} mm²   longest {self.longest_mm:.1f} mm   "
            f"perpendicular {self.perpendicular_mm:.1f} mm"
        )


def common_scale(calibration, points: np.ndarray) -> tuple[float, float] | None:
    """(mm/px x, mm/px y) when every point lies under one scale, else None."""
    if calibration is None:
        return None
    scales = [calibration.at(float(x), float(y)) for x, y in points]
    if any(s is None for s in scales):
        return None
    first = scales[0]
    if any(s.region != first.region for s in scales):
        return None
    return first.mm_per_pixel_x, first.mm_per_pixel_y


# Contour.diameters compares every pair of convex-hull points of its dense polyline (sampled at
# 1 unit): on a smooth 200 px lesion that is thousands of points and seconds of UI time. Measuring a
# copy scaled so its polyline has about DENSE_POINTS samples keeps it to milliseconds; the error of a
# chord-sampled smooth curve at that density is far below a pixel.
DENSE_POINTS = 400


def _measured(contour, sx: float, sy: float):
    """(longest, perpendicular, longest_ends, perpendicular_ends, area) in the units of (sx, sy)."""
    pts = contour.points * (sx, sy)
    seg = float(np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1).max())
    if seg <= 0:
        raise ValueError("degenerate contour")
    # dense() takes about 1.5 * longest segment samples per segment at one sample per unit
    k = DENSE_POINTS / (1.5 * seg * len(pts))
    c = type(contour)(pts * k, contour.tensions.copy())
    d = c.diameters()
    ends = lambda pair: tuple(tuple(np.asarray(e) / k) for e in pair)  # noqa: E731
    return (
        d.longest_px / k,
        d.perpendicular_px / k,
        ends(d.longest_ends),
        ends(d.perpendicular_ends),
        c.area_px() / k**2,
    )


def measure(contour, calibration=None) -> Measurement:
    longest, perp, l_ends, p_ends, area = _measured(contour, 1.0, 1.0)
    m = Measurement(area, longest, perp, l_ends, p_ends)
    scale = common_scale(calibration, contour.points)
    if scale is None:
        return m
    sx, sy = scale
    longest_mm, perp_mm, l_ends, p_ends, area_mm2 = _measured(contour, sx, sy)
    back = np.array([sx, sy])
    return Measurement(
        area_px=m.area_px,
        longest_px=m.longest_px,
        perpendicular_px=m.perpendicular_px,
        longest_ends=tuple(tuple(np.asarray(e) / back) for e in l_ends),
        perpendicular_ends=tuple(tuple(np.asarray(e) / back) for e in p_ends),
        area_mm2=area_mm2,
        longest_mm=longest_mm,
        perpendicular_mm=perp_mm,
    )
