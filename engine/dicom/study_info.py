"""Laterality, patient, study, series and equipment fields of a study as typed, read-only objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pydicom.dataset import Dataset


def _s(ds: Dataset, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # a malformed value reads as absent, never as a crash
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _i(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except Exception:
        return None


@dataclass(frozen=True)
class PatientInfo:
    PatientName: str
    PatientID: str
    PatientBirthDate: str
    PatientSex: str
    PatientIdentityRemoved: str


@dataclass(frozen=True)
class StudyFields:
    StudyInstanceUID: str
    StudyDate: str
    StudyTime: str
    StudyID: str
    AccessionNumber: str
    StudyDescription: str
    ReferringPhysicianName: str


@dataclass(frozen=True)
class SeriesFields:
    SeriesInstanceUID: str
    SeriesNumber: int | None
    SeriesDescription: str
    Modality: str
    BodyPartExamined: str


@dataclass(frozen=True)
class EquipmentInfo:
    Manufacturer: str
    ManufacturerModelName: str
    SoftwareVersions: str
    InstitutionName: str
    StationName: str
    DeviceSerialNumber: str


@dataclass(frozen=True)
class StudyInfo:
    """What a study says about who, when and with what; `laterality` is L, R, B or '' (unknown)."""

    patient: PatientInfo
    study: StudyFields
    series: SeriesFields
    equipment: EquipmentInfo
    laterality: str
    SOPClassUID: str
    SOPInstanceUID: str
    InstanceNumber: int | None
    ImageType: str
    BurnedInAnnotation: str
    LossyImageCompression: str
    SyntheticData: str

    @classmethod
    def from_dataset(cls, ds: Dataset) -> StudyInfo:
        laterality = _s(ds, "Laterality") or _s(ds, "ImageLaterality")
        if not laterality:
            for item in ds.get("SharedFunctionalGroupsSequence") or []:
                for fc in item.get("FrameAnatomySequence") or []:
                    laterality = _s(fc, "FrameLaterality") or laterality
        laterality = laterality.strip().upper()
        return cls(
            patient=PatientInfo(*(_s(ds, f) for f in PatientInfo.__dataclass_fields__)),
            study=StudyFields(*(_s(ds, f) for f in StudyFields.__dataclass_fields__)),
            series=SeriesFields(
                _s(ds, "SeriesInstanceUID"),
                _i(ds, "SeriesNumber"),
                _s(ds, "SeriesDescription"),
                _s(ds, "Modality"),
                _s(ds, "BodyPartExamined"),
            ),
            equipment=EquipmentInfo(*(_s(ds, f) for f in EquipmentInfo.__dataclass_fields__)),
            laterality=laterality if laterality in ("L", "R", "B", "U") else "",
            SOPClassUID=_s(ds, "SOPClassUID"),
            SOPInstanceUID=_s(ds, "SOPInstanceUID"),
            InstanceNumber=_i(ds, "InstanceNumber"),
            ImageType=_s(ds, "ImageType"),
            BurnedInAnnotation=_s(ds, "BurnedInAnnotation"),
            LossyImageCompression=_s(ds, "LossyImageCompression"),
            SyntheticData=_s(ds, "SyntheticData"),
        )

    @classmethod
    def empty(cls) -> StudyInfo:
        return cls.from_dataset(Dataset())

    def to_dict(self) -> dict:
        return asdict(self)
