"""De-identification on export: DICOM PS3.15 Basic Application Level Confidentiality Profile.

- Attributes of the profile's table E.1-1 are removed (X) or emptied / given a consistent dummy (Z);
  every private element, overlay and curve is removed; sequences are cleaned recursively.
- UIDs (U): every UI value that is not a DICOM-defined UID (1.2.840.10008.*) is replaced through one
  UIDMap, so the same original UID maps to the same new UID across a whole study (image, SEG, SR).
- Clean Pixel Data Option for ultrasound: pixels outside the calibrated regions (where the scanner
  burns in names and dates) are blanked; only then may Burned In Annotation say NO.
"""

from __future__ import annotations

import copy
import hashlib
import secrets

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from engine import __version__

BASIC_PROFILE = ("113100", "DCM", "Basic Application Confidentiality Profile")
CLEAN_PIXEL_DATA = ("113101", "DCM", "Clean Pixel Data Option")

# Z: keep the element (Type 2 in the IODs we write) with an empty or dummy value.
ZERO = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "ContentDate",
    "ContentTime",
)
# X: remove (identifying or possibly identifying attributes of table E.1-1 that US files carry).
REMOVE = (
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "DeviceSerialNumber",
    "OperatorsName",
    "PerformingPhysicianName",
    "PhysiciansOfRecord",
    "NameOfPhysiciansReadingStudy",
    "RequestingPhysician",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "PatientBirthName",
    "PatientBirthTime",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "MilitaryRank",
    "BranchOfService",
    "EthnicGroup",
    "Occupation",
    "AdditionalPatientHistory",
    "PatientComments",
    "MedicalRecordLocator",
    "MedicalAlerts",
    "Allergies",
    "PregnancyStatus",
    "LastMenstrualDate",
    "SmokingStatus",
    "PatientReligiousPreference",
    "CountryOfResidence",
    "RegionOfResidence",
    "AdmittingDiagnosesDescription",
    "AdmissionID",
    "IssuerOfPatientID",
    "StudyDescription",
    "SeriesDescription",
    "ImageComments",
    "DerivationDescription",
    "ProtocolName",
    "PerformedProcedureStepDescription",
    "PerformedProcedureStepID",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
    "ReferencedStudySequence",
    "ReferencedPatientSequence",
    "ReferencedPerformedProcedureStepSequence",
    "RequestedProcedureDescription",
    "ScheduledProcedureStepDescription",
    "SeriesDate",
    "SeriesTime",
    "AcquisitionDate",
    "AcquisitionTime",
    "AcquisitionDateTime",
    "InstanceCreationDate",
    "InstanceCreationTime",
    "InstanceCreatorUID",
    "OverlayDate",
    "OverlayTime",
    "CurveDate",
    "CurveTime",
    "TimezoneOffsetFromUTC",
    "DateOfLastCalibration",
    "TimeOfLastCalibration",
    "OperatorIdentificationSequence",
    "PhysiciansOfRecordIdentificationSequence",
    "PerformingPhysicianIdentificationSequence",
    "ReferringPhysicianIdentificationSequence",
    "InstitutionCodeSequence",
    "TextString",
    "TextComments",
    "Modifiedattributessequence",
    "OriginalAttributesSequence",
)
# UIDs that identify the kind of thing, not the instance: never remapped.
_DICOM_UID_PREFIX = "1.2.840.10008."


class UIDMap:
    """Consistent UID replacement: one instance per export, so a study's references stay linked.

    The new UID is derived from the original and a secret (random unless given), so nobody can
    recompute it from a known original UID; give the same secret to reproduce an export.
    """

    def __init__(self, uid_root: str, secret: str | None = None):
        self.uid_root = uid_root if uid_root.endswith(".") else uid_root + "."
        self.secret = secret if secret is not None else secrets.token_hex(16)
        self.mapping: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        uid = str(uid).strip()
        if not uid or uid.startswith(_DICOM_UID_PREFIX):
            return uid
        if uid not in self.mapping:
            self.mapping[uid] = generate_uid(prefix=self.uid_root, entropy_srcs=[self.secret, uid])
        return self.mapping[uid]

    def dummy_id(self, value: str, prefix: str = "ANON-") -> str:
        """A consistent, non-reversible replacement for an identifier (e.g. Patient ID)."""
        if not value:
            return ""
        digest = hashlib.sha256(f"{self.secret}/{value}".encode()).hexdigest()[:12].upper()
        return prefix + digest


def _clean(ds: Dataset, uid_map: UIDMap) -> None:
    ds.remove_private_tags()
    for tag in list(ds.keys()):
        group = tag >> 16
        if 0x5000 <= group <= 0x50FF or (0x6000 <= group <= 0x60FF):
            del ds[tag]
    for keyword in REMOVE:
        if keyword in ds:
            delattr(ds, keyword)
    for keyword in ZERO:
        if keyword in ds:
            if keyword == "PatientID":
                ds.PatientID = uid_map.dummy_id(str(ds.PatientID))
            elif keyword == "PatientName":
                ds.PatientName = ""
            else:
                ds[keyword].value = ""
    for elem in list(ds):
        if elem.VR == "UI" and elem.tag != 0x00080016 and elem.value:
            if elem.VM > 1:
                elem.value = [uid_map(v) for v in elem.value]
            else:
                elem.value = uid_map(elem.value)
        elif elem.VR == "SQ":
            for item in elem.value:
                _clean(item, uid_map)


def deidentify(ds: Dataset, uid_map: UIDMap, *, pixels_cleaned: bool = False) -> Dataset:
    """A de-identified copy of `ds` (header only: use clean_pixel_data for the pixels).

    `pixels_cleaned` says that the caller blanked the pixels outside the calibrated regions: the
    method then names the Clean Pixel Data Option and Burned In Annotation becomes NO.
    """
    out = copy.deepcopy(ds)
    if hasattr(out, "file_meta"):
        out.file_meta = copy.deepcopy(ds.file_meta)
        if "MediaStorageSOPInstanceUID" in out.file_meta:
            out.file_meta.MediaStorageSOPInstanceUID = uid_map(out.file_meta.MediaStorageSOPInstanceUID)
    _clean(out, uid_map)
    mark_deidentified(out, pixels_cleaned=pixels_cleaned)
    return out


def mark_deidentified(ds: Dataset, *, pixels_cleaned: bool) -> None:
    codes = [BASIC_PROFILE] + ([CLEAN_PIXEL_DATA] if pixels_cleaned else [])
    ds.PatientIdentityRemoved = "YES"
    # LO: at most 64 characters; the code sequence carries the full names.
    ds.DeidentificationMethod = f"BUS Studio {__version__} PS3.15 Basic" + (
        " + Clean Pixel Data" if pixels_cleaned else ""
    )
    items = []
    for value, scheme, meaning in codes:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    if pixels_cleaned:
        ds.BurnedInAnnotation = "NO"


def clean_pixel_data(frames: list[np.ndarray], calibration) -> list[np.ndarray] | None:
    """Blank every pixel outside the ultrasound regions; None when there is no region to keep.

    Regions with a spatial format (2D, M-mode, Doppler, waveform) are kept; the rest of the screen,
    where scanners burn in patient name, date and institution, becomes 0.
    """
    if not frames:
        return []
    keep = calibration.region_mask(frames[0].shape[:2])
    if not keep.any():
        return None
    out = []
    for f in frames:
        f = np.array(f, copy=True)
        f[~keep] = 0
        out.append(f)
    return out
