"""Write the simulated phantom as a DICOM US Image with a calibrated Sequence of Ultrasound Regions.

Run `python -m engine.sample.study` to regenerate resources/sample/phantom_breast_us.dcm. The pixels
and UIDs are derived from a fixed seed, so regenerating gives the same file.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from pydicom.dataset import Dataset

from engine import __version__
from engine.dicom.fileio import write_dataset
from engine.dicom.writer import USImage
from engine.sample.phantom import PhantomGeometry, simulate_frame
from engine.settings import sample_study_path

PHANTOM_SEED = 20251130
_UID_PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's root, used here only for the fixed phantom


def _stable_uid(label: str) -> str:
    digits = str(int(hashlib.sha256(f"bus-studio-phantom/{label}".encode()).hexdigest(), 16))
    return (_UID_PREFIX + digits)[:64].rstrip("0") or _UID_PREFIX + "1"


def _region(g: PhantomGeometry) -> Dataset:
    r = Dataset()
    r.RegionSpatialFormat = 1  # 2D
    r.RegionDataType = 1  # tissue
    r.RegionFlags = 0
    r.RegionLocationMinX0, r.RegionLocationMinY0 = g.region_x0, g.region_y0
    r.RegionLocationMaxX1, r.RegionLocationMaxY1 = g.region_x1, g.region_y1
    r.ReferencePixelX0 = (g.region_x1 - g.region_x0) // 2
    r.ReferencePixelY0 = 0
    r.ReferencePixelPhysicalValueX = 0.0
    r.ReferencePixelPhysicalValueY = 0.0
    r.PhysicalUnitsXDirection = 3  # cm
    r.PhysicalUnitsYDirection = 3
    r.PhysicalDeltaX = g.mm_per_pixel / 10
    r.PhysicalDeltaY = g.mm_per_pixel / 10
    r.TransducerFrequency = 12000  # kHz
    return r


def build_sample_dataset(seed: int = PHANTOM_SEED) -> Dataset:
    """The phantom as a US Image through engine.dicom's builder (which validates it)."""
    g = PhantomGeometry()
    frame = simulate_frame(seed, g)
    return USImage(
        [frame],
        study_instance_uid=_stable_uid(f"study/{seed}"),
        series_instance_uid=_stable_uid(f"series/{seed}"),
        sop_instance_uid=_stable_uid(f"sop/{seed}"),
        patient_name="PHANTOM^BREAST",
        patient_id="BUS-PHANTOM-001",
        patient_sex="F",
        study_date="20251130",
        study_time="120000",
        study_id="1",
        manufacturer="BUS Studio",
        image_type=("DERIVED", "PRIMARY"),
        synthetic_data=True,  # a simulation, never an acquired image
        burned_in_annotation="YES",  # probe, frequency and depth scale are written into the pixels
        lossy_image_compression="00",
        laterality="L",
        ultrasound_regions=[_region(g)],
        optional={
            "SeriesDate": "20251130",
            "ContentDate": "20251130",
            "SeriesTime": "120000",
            "ContentTime": "120000",
            "ManufacturerModelName": "Breast phantom simulator",
            "SoftwareVersions": __version__,
            "InstitutionName": "",
            "StudyDescription": "Simulated breast ultrasound phantom",
            "SeriesDescription": "Simulated B-mode, left breast",
            "DerivationDescription": (
                f"Simulated by BUS Studio {__version__} (engine.sample.phantom, seed {seed}): "
                "speckle from a scatterer field with skin, fat, glandular and muscle layers"
            ),
        },
    )


def write_sample_study(path: Path | None = None, seed: int = PHANTOM_SEED) -> Path:
    return write_dataset(path or sample_study_path(), build_sample_dataset(seed))


if __name__ == "__main__":
    print(write_sample_study(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
