"""Sequence of Ultrasound Regions: each region's bounds, format, units and deltas, and px <-> mm.

A scanner writes one item per region of the screen (B-mode image, Doppler strip, M-mode trace...),
each with its own physical units. Only a 2D region (Region Spatial Format 1) whose X and Y units are
centimetres maps pixels to millimetres; `Calibration.at(x, y)` answers for a point which such region
holds it and with what scale.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

# PS3.3 C.8.5.5.1.1 Region Spatial Format
SPATIAL_FORMATS = {0: "none", 1: "2D", 2: "M-mode", 3: "spectral", 4: "waveform", 5: "graphics"}
# PS3.3 C.8.5.5.1.15 Physical Units X/Y Direction
PHYSICAL_UNITS = {
    0: "none",
    1: "percent",
    2: "dB",
    3: "cm",
    4: "seconds",
    5: "hertz",
    6: "dB/seconds",
    7: "cm/sec",
    8: "cm2",
    9: "cm2/sec",
    10: "cm3",
    11: "cm3/sec",
    12: "degrees",
}
UNIT_CM = 3
FORMAT_2D = 1


@dataclass(frozen=True)
class Region:
    """One item of the Sequence of Ultrasound Regions (bounds inclusive, in pixels)."""

    index: int
    x0: int
    y0: int
    x1: int
    y1: int
    spatial_format: int
    data_type: int
    units_x: int
    units_y: int
    delta_x: float
    delta_y: float
    reference_x0: int | None = None
    reference_y0: int | None = None
    item: Dataset | None = field(default=None, repr=False, compare=False)

    @property
    def spatial_format_name(self) -> str:
        return SPATIAL_FORMATS.get(self.spatial_format, f"unknown({self.spatial_format})")

    @property
    def units_x_name(self) -> str:
        return PHYSICAL_UNITS.get(self.units_x, f"unknown({self.units_x})")

    @property
    def units_y_name(self) -> str:
        return PHYSICAL_UNITS.get(self.units_y, f"unknown({self.units_y})")

    @property
    def is_calibrated_2d(self) -> bool:
        """A 2D region in cm/cm with positive deltas: pixels map to millimetres."""
        return (
            self.spatial_format == FORMAT_2D
            and self.units_x == UNIT_CM
            and self.units_y == UNIT_CM
            and self.delta_x > 0
            and self.delta_y > 0
        )

    @property
    def mm_per_pixel(self) -> tuple[float, float] | None:
        """(x, y) millimetres per pixel, or None when the region is not a calibrated 2D region."""
        if not self.is_calibrated_2d:
            return None
        return (abs(self.delta_x) * 10.0, abs(self.delta_y) * 10.0)

    @property
    def area(self) -> int:
        return (self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def to_dict(self) -> dict:
        mm = self.mm_per_pixel
        return {
            "bounds": [self.x0, self.y0, self.x1, self.y1],
            "spatial_format": self.spatial_format_name,
            "units": [self.units_x_name, self.units_y_name],
            "delta": [self.delta_x, self.delta_y],
            "mm_per_pixel": list(mm) if mm else None,
        }

    @classmethod
    def from_item(cls, index: int, item: Dataset) -> Region:
        def num(keyword, default=0):
            value = item.get(keyword, default)
            return default if value is None or value == "" else value

        return cls(
            index=index,
            x0=int(num("RegionLocationMinX0")),
            y0=int(num("RegionLocationMinY0")),
            x1=int(num("RegionLocationMaxX1")),
            y1=int(num("RegionLocationMaxY1")),
            spatial_format=int(num("RegionSpatialFormat")),
            data_type=int(num("RegionDataType")),
            units_x=int(num("PhysicalUnitsXDirection")),
            units_y=int(num("PhysicalUnitsYDirection")),
            delta_x=float(num("PhysicalDeltaX", 0.0)),
            delta_y=float(num("PhysicalDeltaY", 0.0)),
            reference_x0=int(item.ReferencePixelX0) if item.get("ReferencePixelX0") is not None else None,
            reference_y0=int(item.ReferencePixelY0) if item.get("ReferencePixelY0") is not None else None,
            item=item,
        )

    def to_item(self) -> Dataset:
        """The DICOM item, copied from the source when there was one (so nothing is lost)."""
        if self.item is not None:
            return copy.deepcopy(self.item)
        r = Dataset()
        r.RegionSpatialFormat = self.spatial_format
        r.RegionDataType = self.data_type
        r.RegionFlags = 0
        r.RegionLocationMinX0, r.RegionLocationMinY0 = self.x0, self.y0
        r.RegionLocationMaxX1, r.RegionLocationMaxY1 = self.x1, self.y1
        r.PhysicalUnitsXDirection = self.units_x
        r.PhysicalUnitsYDirection = self.units_y
        r.PhysicalDeltaX = float(self.delta_x)
        r.PhysicalDeltaY = float(self.delta_y)
        return r


@dataclass(frozen=True)
class Scale:
    """The answer for one point: the region holding it and its millimetres per pixel (x, y)."""

    region: Region | None
    mm_per_pixel_x: float
    mm_per_pixel_y: float
    source: str  # "region", "PixelSpacing" or "given"


@dataclass(frozen=True)
class Calibration:
    """Pixel <-> millimetre mapping of one image.

    `regions` are the ultrasound regions (possibly several, with different units). When there is no
    calibrated 2D region, `pixel_spacing` (row, column spacing in mm, from PixelSpacing or given by the
    user for PNG input) applies to the whole image.
    """

    regions: tuple[Region, ...] = ()
    pixel_spacing: tuple[float, float] | None = None
    spacing_source: str = "PixelSpacing"

    @classmethod
    def from_dataset(cls, ds: Dataset) -> Calibration:
        regions = tuple(
            Region.from_item(i, item) for i, item in enumerate(ds.get("SequenceOfUltrasoundRegions") or [])
        )
        spacing = None
        ps = ds.get("PixelSpacing")
        if ps is not None and len(ps) == 2:
            try:
                row, col = float(ps[0]), float(ps[1])
                if row > 0 and col > 0:
                    spacing = (row, col)
            except (TypeError, ValueError):
                spacing = None
        return cls(regions=regions, pixel_spacing=spacing)

    @classmethod
    def uniform(cls, mm_per_pixel: float) -> Calibration:
        """A whole-image scale given by the user (PNG/JPEG research data)."""
        return cls(pixel_spacing=(float(mm_per_pixel), float(mm_per_pixel)), spacing_source="given")

    @property
    def calibrated_regions(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.is_calibrated_2d)

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibrated_regions) or self.pixel_spacing is not None

    def at(self, x: float, y: float) -> Scale | None:
        """Which calibrated 2D region holds (x, y) and with what scale; None if no scale applies.

        Overlapping regions: the smallest calibrated region holding the point wins. Without calibrated
        regions the PixelSpacing (or the given scale) applies everywhere.
        """
        holding = [r for r in self.calibrated_regions if r.contains(x, y)]
        if holding:
            r = min(holding, key=lambda r: r.area)
            mx, my = r.mm_per_pixel
            return Scale(r, mx, my, "region")
        if not self.calibrated_regions and self.pixel_spacing is not None:
            row, col = self.pixel_spacing
            return Scale(None, col, row, self.spacing_source)
        return None

    @property
    def mm_per_pixel(self) -> tuple[float, float] | None:
        """The main (x, y) scale: the largest calibrated 2D region, else the pixel spacing."""
        regions = self.calibrated_regions
        if regions:
            return max(regions, key=lambda r: r.area).mm_per_pixel
        if self.pixel_spacing is not None:
            return (self.pixel_spacing[1], self.pixel_spacing[0])
        return None

    def distance_mm(self, p: tuple[float, float], q: tuple[float, float]) -> float | None:
        """Distance between two points (x, y) in mm, or None unless both lie under the same scale."""
        a, b = self.at(*p), self.at(*q)
        if a is None or b is None or a.region != b.region:
            return None
        dx = (q[0] - p[0]) * a.mm_per_pixel_x
        dy = (q[1] - p[1]) * a.mm_per_pixel_y
        return float((dx * dx + dy * dy) ** 0.5)

    def region_mask(self, shape: tuple[int, int], *, calibrated_only: bool = False):
        """Boolean HxW mask of the pixels inside the regions (all regions with a spatial format)."""
        import numpy as np

        mask = np.zeros(shape, dtype=bool)
        for r in self.regions:
            if r.spatial_format == 0 or (calibrated_only and not r.is_calibrated_2d):
                continue
            mask[max(r.y0, 0) : r.y1 + 1, max(r.x0, 0) : r.x1 + 1] = True
        return mask

    def to_dicts(self) -> list[dict]:
        return [r.to_dict() for r in self.regions]
