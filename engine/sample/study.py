"""Write the simulated phantom as a DICOM US Image with a calibrated Sequence of Ultrasound Regions.

Run `python -m engine.sample.study` to regenerate resources/sample/phantom_breast_us.dcm. The pixels
and UIDs are derived from a fixed seed, so regenerating gives the same file.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage

from engine import __version__
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
    g = PhantomGeometry()
    frame = simulate_frame(seed, g)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = _stable_uid(f"sop/{seed}")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _UID_PREFIX + "1"
    meta.ImplementationVersionName = f"BUSSTUDIO_{__version__}"[:16]

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = UltrasoundImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SyntheticData = "YES"  # a simulation, never an acquired image
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20251130"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.AccessionNumber = ""
    ds.Modality = "US"
    ds.Manufacturer = "BUS Studio"
    ds.ManufacturerModelName = "Breast phantom simulator"
    ds.SoftwareVersions = __version__
    ds.InstitutionName = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Simulated breast ultrasound phantom"
    ds.SeriesDescription = "Simulated B-mode, left breast"
    ds.PatientName = "PHANTOM^BREAST"
    ds.PatientID = "BUS-PHANTOM-001"
    ds.PatientBirthDate = ""
    ds.PatientSex = "F"
    ds.BodyPartExamined = "BREAST"
    ds.StudyInstanceUID = _stable_uid(f"study/{seed}")
    ds.SeriesInstanceUID = _stable_uid(f"series/{seed}")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Laterality = "L"
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "YES"  # probe, frequency and depth scale are written into the pixels
    ds.LossyImageCompression = "00"
    ds.DerivationDescription = (
        f"Simulated by BUS Studio {__version__} (engine.sample.phantom, seed {seed}): "
        "speckle from a scatterer field with skin, fat, glandular and muscle layers"
    )
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = frame.shape
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.SequenceOfUltrasoundRegions = [_region(g)]
    ds.PixelData = np.ascontiguousarray(frame).tobytes()
    return ds


def write_sample_study(path: Path | None = None, seed: int = PHANTOM_SEED) -> Path:
    path = Path(path or sample_study_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = build_sample_dataset(seed)
    tmp = path.with_name(path.name + ".part")
    pydicom.dcmwrite(tmp, ds, enforce_file_format=True)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    print(write_sample_study(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
