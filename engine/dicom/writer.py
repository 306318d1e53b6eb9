"""Write synthetic studies: a US image (Synthetic Data = YES), its tumor mask as a DICOM
Segmentation, and its clinical attributes as a TID 1500 measurement report.

`USImage` is a typed builder in highdicom's manner: it validates on construction, so an invalid
image never exists. SEG and SR are highdicom objects. `write_synthetic_study` ties the three to a
source study (references, calibration, laterality, lossy history), de-identifies by default, and
writes each file atomically.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

from engine import __version__
from engine.errors import DicomError, InputError

SYNTHESIZING_EQUIPMENT = ("109100", "DCM", "Synthesizing Equipment")
SOURCE_IMAGE_PURPOSE = ("121322", "DCM", "Source image for image processing operation")
TOOL_NAME = "BUS Studio"
LOSSY_TRANSFER_SYNTAXES = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.203",
}


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _fail(reason: str, keyword: str | None = None) -> None:
    raise DicomError("(US image being built)", reason, keyword)


def contributing_equipment_item(
    model: str, *, version: str = __version__, description: str = "", when: str | None = None
) -> Dataset:
    """An item of the Contributing Equipment Sequence naming the tool, its version and the model."""
    item = Dataset()
    item.Manufacturer = TOOL_NAME
    item.ManufacturerModelName = model[:64]
    item.SoftwareVersions = version
    item.PurposeOfReferenceCodeSequence = DicomSequence([_code(*SYNTHESIZING_EQUIPMENT)])
    if when:
        item.ContributionDateTime = when
    if description:
        item.ContributionDescription = description[:1024]
    return item


class USImage(Dataset):
    """US Image (one frame) or US Multi-frame Image (several), 8-bit MONOCHROME2 or RGB, uncompressed.

    Every argument names a DICOM attribute; optional ones are only written when given. Refuses
    (DicomError) frames of mixed shape or type, invalid UIDs, and unknown enumerated values.
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        *,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        series_number: int = 1,
        instance_number: int = 1,
        patient_name: str = "",
        patient_id: str = "",
        patient_birth_date: str = "",
        patient_sex: str = "",
        study_date: str = "",
        study_time: str = "",
        study_id: str = "",
        accession_number: str = "",
        referring_physician_name: str = "",
        manufacturer: str = TOOL_NAME,
        image_type: Sequence[str] = ("DERIVED", "SECONDARY"),
        synthetic_data: bool = True,
        burned_in_annotation: str | None = None,
        lossy_image_compression: str = "00",
        laterality: str | None = None,
        body_part_examined: str | None = "BREAST",
        ultrasound_regions: Sequence[Dataset] | None = None,
        source_images: Sequence[Dataset] | None = None,
        contributing_equipment: Sequence[Dataset] | None = None,
        frame_time_ms: float | None = None,
        optional: dict | None = None,
    ):
        super().__init__()
        frames = [np.asarray(f) for f in frames]
        if not frames:
            _fail("no frames given")
        shape = frames[0].shape
        for f in frames:
            if f.dtype != np.uint8 or f.shape != shape:
                _fail(
                    f"every frame must be uint8 of one shape; got {f.dtype} {f.shape} and {shape}",
                    "PixelData",
                )
        if len(shape) == 2:
            photometric, spp = "MONOCHROME2", 1
        elif len(shape) == 3 and shape[2] == 3:
            photometric, spp = "RGB", 3
        else:
            _fail(f"frames must be HxW (gray) or HxWx3 (RGB), got {shape}", "PixelData")
        rows, cols = shape[:2]
        if not (0 < rows <= 65535 and 0 < cols <= 65535):
            _fail(f"frame size {rows}x{cols} out of range", "Rows")
        for name, uid in (
            ("StudyInstanceUID", study_instance_uid),
            ("SeriesInstanceUID", series_instance_uid),
            ("SOPInstanceUID", sop_instance_uid),
        ):
            if not UID(uid).is_valid:
                _fail(f"{name} {uid!r} is not a valid UID", name)
        if burned_in_annotation not in (None, "YES", "NO"):
            _fail(
                f"Burned In Annotation must be YES or NO, not {burned_in_annotation!r}", "BurnedInAnnotation"
            )
        if lossy_image_compression not in ("00", "01"):
            _fail("Lossy Image Compression must be 00 or 01", "LossyImageCompression")
        if laterality not in (None, "", "L", "R", "B"):
            # U means "unpaired" in DICOM, never "unknown"; the breast is paired.
            _fail(f"Laterality must be L, R, B or None (unknown), not {laterality!r}", "Laterality")
        multi = len(frames) > 1
        if multi and not (frame_time_ms and frame_time_ms > 0):
            _fail("a multi-frame US image needs a positive frame time (ms)", "FrameTime")
        sop_class = UltrasoundMultiFrameImageStorage if multi else UltrasoundImageStorage

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_instance_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
        meta.ImplementationVersionName = f"BUSSTUDIO_{__version__}"[:16]
        self.file_meta = meta

        self.SpecificCharacterSet = "ISO_IR 100"
        self.SOPClassUID = sop_class
        self.SOPInstanceUID = sop_instance_uid
        self.ImageType = list(image_type)
        if synthetic_data:
            self.SyntheticData = "YES"
        self.StudyDate, self.StudyTime = study_date, study_time
        self.AccessionNumber = accession_number
        self.Modality = "US"
        self.Manufacturer = manufacturer
        self.ReferringPhysicianName = referring_physician_name
        self.PatientName, self.PatientID = patient_name, patient_id
        self.PatientBirthDate, self.PatientSex = patient_birth_date, patient_sex
        self.StudyInstanceUID = study_instance_uid
        self.SeriesInstanceUID = series_instance_uid
        self.StudyID = study_id
        self.SeriesNumber = series_number
        self.InstanceNumber = instance_number
        # General Series Laterality is Type 2C for a paired body part (the breast), enumerated R or L,
        # and empty only when actually unknown (dciodvfy warns; accepted in engine.dicom.validate).
        # Both breasts in one image: Image Laterality B, which satisfies the condition instead.
        if laterality == "B":
            self.ImageLaterality = "B"
        else:
            self.Laterality = laterality or ""
        if body_part_examined:
            self.BodyPartExamined = body_part_examined
        self.PatientOrientation = ""
        if burned_in_annotation is not None:
            self.BurnedInAnnotation = burned_in_annotation
        self.LossyImageCompression = lossy_image_compression
        if source_images:
            self.SourceImageSequence = DicomSequence(
                [_source_item(s, len(source_images)) for s in source_images]
            )
        if contributing_equipment:
            self.ContributingEquipmentSequence = DicomSequence(list(contributing_equipment))
        if ultrasound_regions:
            self.SequenceOfUltrasoundRegions = DicomSequence(list(ultrasound_regions))
            for r in ultrasound_regions:
                if not (0 <= r.RegionLocationMinX0 < cols and 0 <= r.RegionLocationMinY0 < rows):
                    _fail("an ultrasound region lies outside the frame", "SequenceOfUltrasoundRegions")
        for keyword, value in (optional or {}).items():
            if value is not None:
                setattr(self, keyword, value)
        self.SamplesPerPixel = spp
        self.PhotometricInterpretation = photometric
        if spp == 3:
            self.PlanarConfiguration = 0
        self.Rows, self.Columns = rows, cols
        self.BitsAllocated = self.BitsStored = 8
        self.HighBit = 7
        self.PixelRepresentation = 0
        if multi:
            self.NumberOfFrames = len(frames)
            self.FrameIncrementPointer = 0x00181063  # Frame Time
            self.FrameTime = round(float(frame_time_ms), 4)
        self.PixelData = np.ascontiguousarray(np.stack(frames)).tobytes()
        if len(self.PixelData) % 2:
            self.PixelData += b"\x00"


def _source_item(source: Dataset, n: int) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.SOPClassUID
    item.ReferencedSOPInstanceUID = source.SOPInstanceUID
    item.PurposeOfReferenceCodeSequence = DicomSequence([_code(*SOURCE_IMAGE_PURPOSE)])
    return item


@dataclass
class SyntheticStudyPaths:
    image: Path
    segmentation: Path
    report: Path
    uid_map: dict = field(default_factory=dict)
    pixels_cleaned: bool = False


def _hash_uid(uid_root: str, *parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"|")
    return generate_uid(prefix=uid_root, entropy_srcs=[h.hexdigest()])


def _fix_referenced_class(ds: Dataset, sop_instance_uid: str, sop_class_uid: str) -> None:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                if (
                    item.get("ReferencedSOPInstanceUID") == sop_instance_uid
                    and "ReferencedSOPClassUID" in item
                ):
                    item.ReferencedSOPClassUID = sop_class_uid
                _fix_referenced_class(item, sop_instance_uid, sop_class_uid)


def build_segmentation(
    image: Dataset,
    masks: np.ndarray,
    *,
    series_instance_uid: str,
    sop_instance_uid: str,
    model: str,
    series_number: int = 2,
    label: str = "Synthetic tumor",
):
    """The tumor mask(s) as a binary DICOM Segmentation referencing `image` (one mask per frame)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    n_frames = int(image.get("NumberOfFrames", 1) or 1)
    masks = np.asarray(masks).astype(bool)
    if masks.ndim == 3 and n_frames > 1:
        if not all(np.array_equal(masks[0], m) for m in masks[1:]):
            raise InputError(
                "a cine loop's SEG holds one mask for every frame (highdicom cannot segment single "
                "frames of an image without a frame of reference); give one HxW mask"
            )
        masks = masks[0]
    if masks.ndim == 3 and masks.shape[0] == 1:
        masks = masks[0]
    if masks.shape != (image.Rows, image.Columns):
        raise InputError(f"mask shape {masks.shape} does not match the image {image.Rows}x{image.Columns}")
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Mass,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name=TOOL_NAME,
            version=__version__,
            family=codes.DCM.ArtificialIntelligence,
            parameters={"model": model},
        ),
    )
    source = image
    if n_frames > 1:
        # highdicom segments one frame of an image without a frame of reference; the loop's one mask
        # applies to every frame, so the SEG references the whole multi-frame instance (no frame list).
        source = Dataset()
        for elem in image:
            if elem.keyword not in ("PixelData", "NumberOfFrames", "FrameIncrementPointer", "FrameTime"):
                source.add(copy.deepcopy(elem))
        source.SOPClassUID = UltrasoundImageStorage  # patched back below, in every reference
    seg = hd.seg.Segmentation(
        source_images=[source],
        pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=series_instance_uid,
        series_number=series_number,
        sop_instance_uid=sop_instance_uid,
        instance_number=1,
        manufacturer=TOOL_NAME,
        manufacturer_model_name=model[:64],
        software_versions=__version__,
        device_serial_number="0",
        series_description="Synthetic tumor mask",
        omit_empty_frames=False,
    )
    if n_frames > 1:
        _fix_referenced_class(seg, image.SOPInstanceUID, image.SOPClassUID)
    # General Image: Patient Orientation is Type 2C for images without a patient frame of reference.
    seg.PatientOrientation = ""
    if "SyntheticData" in image:
        seg.SyntheticData = image.SyntheticData
    if "Laterality" in seg:  # dciodvfy: only for images of a paired body part; the image carries it
        del seg.Laterality
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in image and keyword not in seg:
            setattr(seg, keyword, image[keyword].value)
    return seg


def build_measurement_report(
    image: Dataset,
    segmentation: Dataset,
    *,
    series_instance_uid: str,
    sop_instance_uid: str,
    qualitative_evaluations: Sequence[tuple] = (),
    measurements: Sequence[tuple] = (),
    series_number: int = 3,
):
    """TID 1500 measurement report: one planar ROI group referencing segment 1 of `segmentation`.

    qualitative_evaluations: (concept, value) pairs of CodedConcept/Code (e.g. BI-RADS descriptors);
    measurements: (concept, value, unit) triples.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    tracking = hd.sr.TrackingIdentifier(
        uid=_hash_uid("2.25.", sop_instance_uid, "tracking"), identifier="Synthetic tumor 1"
    )
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking,
        referenced_segment=hd.sr.ReferencedSegmentationFrame(
            sop_class_uid=segmentation.SOPClassUID,
            sop_instance_uid=segmentation.SOPInstanceUID,
            frame_number=1,
            segment_number=1,
            source_image=hd.sr.SourceImageForSegmentation(
                image.SOPClassUID,
                image.SOPInstanceUID,
                referenced_frame_numbers=[1] if "NumberOfFrames" in image else None,
            ),
        ),
        finding_type=codes.SCT.Mass,
        measurements=[hd.sr.Measurement(name=n, value=float(v), unit=u) for n, v, u in measurements] or None,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(name=n, value=v) for n, v in qualitative_evaluations
        ]
        or None,
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_hash_uid("2.25.", TOOL_NAME, __version__), name=TOOL_NAME, manufacturer_name=TOOL_NAME
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=hd.sr.CodedConcept("47079000", "SCT", "Ultrasonography of breast"),
        imaging_measurements=[group],
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=[image, segmentation],
        content=report,
        series_instance_uid=series_instance_uid,
        series_number=series_number,
        sop_instance_uid=sop_instance_uid,
        instance_number=1,
        manufacturer=TOOL_NAME,
        is_complete=True,
        series_description="Synthetic tumor attributes",
        coding_schemes=_private_coding_schemes(qualitative_evaluations, measurements) or None,
    )
    _drop_frame_number_beside_segment_number(sr)
    if "SyntheticData" in image:
        sr.SyntheticData = image.SyntheticData
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in image and keyword not in sr:
            setattr(sr, keyword, image[keyword].value)
    return sr


def _private_coding_schemes(*groups) -> list:
    """PS3.3 C.12.1.1.4: a private coding scheme (designator starting with '99') used in the content
    is identified in the Coding Scheme Identification Sequence."""
    import highdicom as hd

    designators = sorted(
        {
            str(getattr(code, "scheme_designator", ""))
            for group in groups
            for item in group
            for code in item
            if str(getattr(code, "scheme_designator", "")).startswith("99")
        }
    )
    return [
        hd.coding_schemes.CodingSchemeIdentificationItem(
            designator=d, name=f"{TOOL_NAME} private codes", responsible_organization=TOOL_NAME
        )
        for d in designators
    ]


def _drop_frame_number_beside_segment_number(ds: Dataset) -> None:
    """PS3.3 Table 10-3: Referenced Frame Number and Referenced Segment Number exclude each other.

    highdicom writes both for a planar ROI's segmentation reference; keeping the segment number
    refers to segment 1 on every frame of the SEG, which is what the mask is.
    """
    for item in ds.get("ContentSequence") or []:
        for ref in item.get("ReferencedSOPSequence") or []:
            if "ReferencedSegmentNumber" in ref and "ReferencedFrameNumber" in ref:
                del ref.ReferencedFrameNumber
        _drop_frame_number_beside_segment_number(item)


def _derivation_text(derivation: dict, text: str) -> str:
    parts = [f"Synthesized by {TOOL_NAME} {__version__}"]
    for key in ("method", "model", "seed", "steps", "guidance", "strength"):
        if derivation.get(key) is not None:
            parts.append(f"{key} {derivation[key]}")
    if text:
        parts.append(f"description: {text}")
    return "; ".join(parts)[:1024]


def write_synthetic_study(
    source,
    frames: Sequence[np.ndarray],
    masks: np.ndarray | Sequence[np.ndarray],
    description: dict,
    derivation: dict,
    out_dir: str | Path,
    *,
    deidentify: bool = True,
    uid_root: str | None = None,
    laterality: str | None = None,
    uid_secret: str | None = None,
    stem: str = "synthetic",
) -> SyntheticStudyPaths:
    """Write image, SEG and SR for frames synthesized from `source` (an UltrasoundStudy).

    description: {"text": str, "qualitative_evaluations": [(concept, value)], "measurements":
    [(concept, value, unit)]}; derivation: {"model", "seed", "steps", "guidance", "method", ...}.
    With deidentify (default) the copied patient/study fields follow the PS3.15 basic profile and the
    pixels outside the ultrasound regions are blanked when the source has regions.
    """
    from engine.dicom.deid import UIDMap, clean_pixel_data
    from engine.dicom.deid import deidentify as deid_dataset
    from engine.dicom.fileio import write_dataset
    from engine.settings import get_settings

    uid_root = uid_root or get_settings().uid_root
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise InputError("no frames to write")
    if frames[0].shape[:2] != (source.rows, source.columns):
        raise InputError(
            f"frames are {frames[0].shape[:2]}, the source is {(source.rows, source.columns)}: "
            "the calibration would not apply"
        )
    masks = np.asarray(masks)
    src = source.dataset if source.dataset is not None else Dataset()
    uid_map = UIDMap(uid_root, uid_secret)
    pixels_cleaned = False
    if deidentify:
        cleaned = clean_pixel_data(frames, source.calibration)
        if cleaned is not None:
            frames, pixels_cleaned = cleaned, True
        header = deid_dataset(src, uid_map, pixels_cleaned=pixels_cleaned)
    else:
        header = src
    model = str(derivation.get("model", "unknown model"))
    text = str(description.get("text", ""))
    content_hash = hashlib.sha256(b"".join(np.ascontiguousarray(f).tobytes() for f in frames))
    content_hash.update(masks.astype(np.uint8).tobytes())
    content_hash.update(repr(sorted(derivation.items())).encode() + text.encode())
    key = (str(src.get("SOPInstanceUID", source.path)), content_hash.hexdigest())
    study_uid = _hash_uid(uid_root, *key, "study")
    now = datetime.datetime.now()

    burned = header.get("BurnedInAnnotation")
    if pixels_cleaned:
        burned = "NO"
    lossy = (
        "01"
        if (
            str(src.get("LossyImageCompression", "")) == "01"
            or source.transfer_syntax in LOSSY_TRANSFER_SYNTAXES
        )
        else "00"
    )
    optional = {
        "ManufacturerModelName": model[:64],
        "SoftwareVersions": __version__,
        "ContentDate": now.strftime("%Y%m%d"),
        "ContentTime": now.strftime("%H%M%S"),
        "SeriesDescription": "Synthetic tumor (BUS Studio)",
        "DerivationDescription": _derivation_text(derivation, text),
        "LossyImageCompressionRatio": src.get("LossyImageCompressionRatio") if lossy == "01" else None,
        "LossyImageCompressionMethod": src.get("LossyImageCompressionMethod") if lossy == "01" else None,
    }
    if deidentify:
        optional.update(
            PatientIdentityRemoved="YES",
            DeidentificationMethod=header.DeidentificationMethod,
            DeidentificationMethodCodeSequence=header.DeidentificationMethodCodeSequence,
        )
    source_ref = Dataset()
    source_ref.SOPClassUID = src.get("SOPClassUID", UltrasoundImageStorage)
    source_ref.SOPInstanceUID = header.get("SOPInstanceUID") or _hash_uid(uid_root, source.path, "source")
    regions = [r.to_item() for r in source.calibration.regions]
    lat = laterality if laterality is not None else (source.info.laterality or None)
    if lat == "U":  # a source that says "unpaired" about a breast: we do not know the side
        lat = None
    image = USImage(
        frames,
        study_instance_uid=study_uid,
        series_instance_uid=_hash_uid(uid_root, *key, "series"),
        sop_instance_uid=_hash_uid(uid_root, *key, "image"),
        patient_name=str(header.get("PatientName", "") or ""),
        # A source without Patient ID gets a generated one (DICOMDIR and PACS need a value).
        patient_id=str(header.get("PatientID", "") or "") or uid_map.dummy_id(key[0], prefix="SYN-"),
        patient_birth_date=str(header.get("PatientBirthDate", "") or ""),
        patient_sex=str(header.get("PatientSex", "") or ""),
        # A synthetic study is a new study, made now: its date and ID are its own, never the source's.
        study_date=now.strftime("%Y%m%d"),
        study_time=now.strftime("%H%M%S"),
        study_id="1",
        burned_in_annotation=str(burned) if burned in ("YES", "NO") else None,
        lossy_image_compression=lossy,
        laterality=lat,
        ultrasound_regions=regions or None,
        source_images=[source_ref],
        contributing_equipment=[
            contributing_equipment_item(
                model, description=_derivation_text(derivation, ""), when=now.strftime("%Y%m%d%H%M%S")
            )
        ],
        frame_time_ms=source.frame_time_ms or (33.3 if len(frames) > 1 else None),
        optional=optional,
    )
    seg = build_segmentation(
        image,
        masks,
        series_instance_uid=_hash_uid(uid_root, *key, "seg-series"),
        sop_instance_uid=_hash_uid(uid_root, *key, "seg"),
        model=model,
    )
    measurements = list(description.get("measurements", ()))
    sr = build_measurement_report(
        image,
        seg,
        series_instance_uid=_hash_uid(uid_root, *key, "sr-series"),
        sop_instance_uid=_hash_uid(uid_root, *key, "sr"),
        qualitative_evaluations=list(description.get("qualitative_evaluations", ())),
        measurements=measurements,
    )
    out_dir = Path(out_dir)
    paths = SyntheticStudyPaths(
        image=write_dataset(out_dir / f"{stem}_image.dcm", image),
        segmentation=write_dataset(out_dir / f"{stem}_seg.dcm", seg),
        report=write_dataset(out_dir / f"{stem}_sr.dcm", sr),
        uid_map=dict(uid_map.mapping),
        pixels_cleaned=pixels_cleaned,
    )
    return paths
