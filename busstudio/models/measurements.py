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


def measure(contour, calibration=None) -> Measurement:
    d = contour.diameters()
    m = Measurement(
        area_px=contour.area_px(),
        longest_px=d.longest_px,
        perpendicular_px=d.perpendicular_px,
        longest_ends=d.longest_ends,
        perpendicular_ends=d.perpendicular_ends,
    )
    scale = common_scale(calibration, contour.points)
    if scale is None:
        return m
    sx, sy = scale
    mm = type(contour)(contour.points * (sx, sy), contour.tensions.copy())
    dm = mm.diameters()
    back = np.array([sx, sy])
    return Measurement(
        area_px=m.area_px,
        longest_px=m.longest_px,
        perpendicular_px=m.perpendicular_px,
        longest_ends=tuple(tuple(np.asarray(e) / back) for e in dm.longest_ends),
        perpendicular_ends=tuple(tuple(np.asarray(e) / back) for e in dm.perpendicular_ends),
        area_mm2=mm.area_px(),
        longest_mm=dm.longest_px,
        perpendicular_mm=dm.perpendicular_px,
    )
