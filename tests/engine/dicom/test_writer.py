"""Round trip: read, synthesize a dummy change, write image + SEG + SR, read back, check everything."""

import subprocess

import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from engine import __version__
from engine.dicom import open_study
from engine.dicom.fileio import write_dataset
from engine.dicom.validate import LATERALITY_UNKNOWN, dciodvfy_path
from engine.dicom.writer import USImage, write_synthetic_study
from engine.errors import DicomError
from tests.dciodvfy import dciodvfy

# Two qualitative evaluations as the language room will give them: (concept, value) codes.
EVALUATIONS = [(codes.SCT.Shape, codes.SCT.Irregular), (codes.DCM.Echogenicity, codes.DCM.Hypoechoic)]
DERIVATION = {"model": "tiny-test-model", "seed": 7, "steps": 3, "guidance": 2.5, "method": "diffusion"}
TEXT = "irregular hypoechoic mass, 9 mm"


def _dummy_synthesis(study, n_frames):
    frames = [study.frame(i).gray.copy() for i in range(n_frames)]
    region = study.calibration.calibrated_regions[0]
    cy, cx = (region.y0 + region.y1) // 2, (region.x0 + region.x1) // 2
    yy, xx = np.ogrid[: study.rows, : study.columns]
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= 15**2
    for f in frames:
        f[mask] = f[mask] // 3  # a dark blob: the "tumor"
    return frames, mask


def _all_codes(ds):
    found = []
    for item in ds.get("ContentSequence") or []:
        if "ConceptCodeSequence" in item:
            found.append((item.ConceptNameCodeSequence[0].CodeValue, item.ConceptCodeSequence[0].CodeValue))
        if "MeasuredValueSequence" in item:
            found.append(
                (item.ConceptNameCodeSequence[0].CodeValue, float(item.MeasuredValueSequence[0].NumericValue))
            )
        found += _all_codes(item)
    return found


@pytest.mark.data
@pytest.mark.parametrize(
    "name,n_frames,deidentify",
    [
        ("us_implicit-le_palette16_regions_aloka.dcm", 1, True),
        ("us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm", 3, True),
        ("us_jpeg-lossless-sv1_mono2_regions_epiq7c.dcm", 1, False),
    ],
)
def test_round_trip_synthetic_study(name, n_frames, deidentify, dicom_dir, tmp_path):
    src_path = dicom_dir / name
    study = open_study(src_path)
    original = pydicom.dcmread(src_path, stop_before_pixels=True)
    frames, mask = _dummy_synthesis(study, n_frames)
    description = {
        "text": TEXT,
        "qualitative_evaluations": EVALUATIONS,
        "measurements": [(codes.SCT.Diameter, 9.0, codes.UCUM.Millimeter)],
    }
    paths = write_synthetic_study(
        study,
        frames,
        mask,
        description,
        DERIVATION,
        tmp_path,
        deidentify=deidentify,
        laterality="L",
        uid_root="1.2.826.0.1.3680043.8.498.77.",
    )
    for p in (paths.image, paths.segmentation, paths.report):
        errors, warnings = dciodvfy(p)
        assert errors == [] and warnings == [], (p.name, errors, warnings)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "synthetic_image.dcm",
        "synthetic_seg.dcm",
        "synthetic_sr.dcm",
    ]

    img = pydicom.dcmread(paths.image)
    assert img.SOPClassUID == (
        pydicom.uid.UltrasoundMultiFrameImageStorage if n_frames > 1 else pydicom.uid.UltrasoundImageStorage
    )
    assert list(img.ImageType)[:2] == ["DERIVED", "SECONDARY"] and img.SyntheticData == "YES"
    (equipment,) = img.ContributingEquipmentSequence
    assert equipment.PurposeOfReferenceCodeSequence[0].CodeValue == "109100"
    assert equipment.PurposeOfReferenceCodeSequence[0].CodeMeaning == "Synthesizing Equipment"
    assert equipment.Manufacturer == "BUS Studio" and equipment.SoftwareVersions == __version__
    assert equipment.ManufacturerModelName == DERIVATION["model"]
    for word in ("tiny-test-model", "seed 7", "steps 3", "guidance 2.5", TEXT):
        assert word in img.DerivationDescription
    for uid in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert img[uid].value != original[uid].value and img[uid].value.startswith(
            "1.2.826.0.1.3680043.8.498.77."
        )
    ref = img.SourceImageSequence[0]
    assert ref.ReferencedSOPClassUID == original.SOPClassUID
    if deidentify:
        assert ref.ReferencedSOPInstanceUID == paths.uid_map[original.SOPInstanceUID]
        assert img.PatientIdentityRemoved == "YES"
        assert img.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert paths.pixels_cleaned and img.BurnedInAnnotation == "NO"
        assert img.DeidentificationMethodCodeSequence[1].CodeValue == "113101"
        assert img.PatientID != original.PatientID and str(img.PatientName) == ""
    else:
        assert ref.ReferencedSOPInstanceUID == original.SOPInstanceUID
        assert img.PatientID == (original.PatientID or img.PatientID) and "PatientIdentityRemoved" not in img
        assert str(img.PatientName) == str(original.PatientName)
    lossy = "01" if original.get("LossyImageCompression") == "01" or "baseline" in name else "00"
    assert img.LossyImageCompression == lossy
    assert img.Laterality == "L"

    back = open_study(paths.image)
    assert back.n_frames == n_frames and back.info.SyntheticData == "YES"
    assert back.calibration.mm_per_pixel == pytest.approx(study.calibration.mm_per_pixel)
    assert [r.to_dict() for r in back.calibration.regions] == [r.to_dict() for r in study.calibration.regions]
    for i in range(n_frames):
        expected = frames[i]
        if deidentify:
            expected = np.where(study.calibration.region_mask(expected.shape), expected, 0)
        assert np.array_equal(back.frame(i).gray, expected)

    seg = pydicom.dcmread(paths.segmentation)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and seg.StudyInstanceUID == img.StudyInstanceUID
    assert (
        seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        == img.SOPInstanceUID
    )
    assert np.array_equal(seg.pixel_array.astype(bool), mask)

    sr = pydicom.dcmread(paths.report)
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert sr.StudyInstanceUID == img.StudyInstanceUID and sr.SyntheticData == "YES"
    evidence = {
        r.ReferencedSOPInstanceUID
        for s in sr.CurrentRequestedProcedureEvidenceSequence
        for series in s.ReferencedSeriesSequence
        for r in series.ReferencedSOPSequence
    }
    assert evidence == {img.SOPInstanceUID, seg.SOPInstanceUID}
    found = _all_codes(sr)
    for concept, value in EVALUATIONS:
        assert (concept.value, value.value) in found
    assert (codes.SCT.Diameter.value, 9.0) in found


def test_us_image_builder_refuses_invalid_input():
    ok = dict(study_instance_uid="1.2.3", series_instance_uid="1.2.4", sop_instance_uid="1.2.5")
    with pytest.raises(DicomError, match="uint8"):
        USImage([np.zeros((4, 4), np.uint16)], **ok)
    with pytest.raises(DicomError, match="frame time"):
        USImage([np.zeros((4, 4), np.uint8)] * 2, **ok)
    with pytest.raises(DicomError, match="Laterality"):
        USImage([np.zeros((4, 4), np.uint8)], laterality="left", **ok)
    with pytest.raises(DicomError, match="Laterality"):
        USImage([np.zeros((4, 4), np.uint8)], laterality="U", **ok)  # U is "unpaired", not unknown
    with pytest.raises(DicomError, match="not a valid UID"):
        USImage([np.zeros((4, 4), np.uint8)], **{**ok, "sop_instance_uid": "1.02.x"})


@pytest.mark.parametrize("laterality", [None, "B", "R"])
def test_laterality_known_both_or_unknown(laterality, tmp_path):
    ids = dict(study_instance_uid="1.2.3", series_instance_uid="1.2.4", sop_instance_uid="1.2.5")
    ids.update(patient_id="P1", study_date="20260101", study_time="120000", study_id="1")
    image = USImage([np.zeros((8, 8), np.uint8)], laterality=laterality, **ids)
    path = write_dataset(tmp_path / "lat.dcm", image)
    ds = pydicom.dcmread(path)
    if laterality is None:  # unknown: empty, as Type 2C allows only in this case
        assert ds.Laterality == "" and "ImageLaterality" not in ds
    elif laterality == "B":  # both breasts: Image Laterality; Laterality (R or L only) absent
        assert ds.ImageLaterality == "B" and "Laterality" not in ds
    else:
        assert ds.Laterality == "R"
    assert open_study(path).info.laterality == (laterality or "")
    errors, warnings = dciodvfy(path)
    assert errors == [] and warnings == []
    # The accepted Laterality warning is raised for the unknown case, and only then.
    raw = subprocess.run([dciodvfy_path(), str(path)], capture_output=True, text=True, check=False)
    assert (LATERALITY_UNKNOWN in raw.stdout + raw.stderr) == (laterality is None)
