"""PS3.15 Basic Profile: every attribute of Table E.1-1 carries a value, each gets its action."""

import io
import json

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ImplicitVRLittleEndian

from engine.dicom import open_study
from engine.dicom.deid import TABLE_PATH, UIDMap, applied_action, basic_profile, deidentify, profile_action
from engine.dicom.writer import write_synthetic_study
from engine.sample.study import build_sample_dataset
from tests.dciodvfy import dciodvfy

MARK = "SECRET"  # every identifying string value carries it; nothing de-identified may


def _value(vr: str, tag: int):
    text = {
        "AE": "SECRETAE",
        "AS": "042Y",
        "CS": "SECRET",
        "DA": "19800101",
        "DS": "42.5",
        "DT": "19800101121314",
        "IS": "42",
        "PN": "SECRET^NAME",
        "TM": "121314",
        "UR": "http://secret.example",
    }
    if vr in text:
        return text[vr]
    if vr in ("LO", "LT", "SH", "ST", "UC", "UT"):
        return f"SECRET {tag:08X}"
    if vr == "UI":
        return f"1.2.999.{tag}"
    if vr in ("US", "SS", "UL", "SL", "UV", "SV", "AT"):
        return 42
    if vr in ("FL", "FD"):
        return 42.5
    if vr in ("OB", "OW", "OD", "OF", "OL", "OV", "UN"):
        return b"SECRET"
    if vr == "SQ":
        item = Dataset()
        item.PatientName = "SECRET^NESTED"  # Z inside any kept or dummied item
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "SECRET1", "99X", "SECRET code"
        return Sequence([item])
    raise AssertionError(vr)


def _full_dataset() -> tuple[Dataset, dict[int, object]]:
    """The phantom's header plus a value in every Table E.1-1 attribute pydicom can encode."""
    ds = build_sample_dataset()
    del ds.PixelData
    originals = {}
    exact, masked = basic_profile()
    for tag in exact:
        try:
            vr = dictionary_VR(tag).split(" or ")[0]
        except KeyError:
            continue  # newer than pydicom's dictionary: no VR to encode it with
        if tag >> 16 in (0x0000, 0x0002, 0x0004):  # command, file meta and DICOMDIR groups
            continue
        ds.add_new(tag, vr, _value(vr, tag))
        originals[tag] = ds[tag].value
    for attr in masked:  # one element of each repeating group (curve 5000, overlay 6000)
        vr = "OB" if attr.tag == 0x50000000 else dictionary_VR(attr.tag)
        ds.add_new(attr.tag, vr.split(" or ")[0], b"SECRET" if "O" in vr else "SECRET")
        originals[attr.tag] = ds[attr.tag].value
    block = ds.private_block(0x0009, "ACME US 1.0", create=True)
    block.add_new(0x10, "LO", "SECRET private")
    # Attributes outside the table are kept, and sequences outside it are cleaned inside.
    ds.ReferencedSeriesSequence = Sequence([Dataset()])
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.999.77"
    ds.ReferencedSeriesSequence[0].PatientName = "SECRET^IN KEPT SEQUENCE"
    return ds, originals


def test_table_is_the_full_basic_profile_with_provenance():
    table = json.loads(TABLE_PATH.read_text())
    assert "Table E.1-1" in table["standard"] and "dicom-anonymizer 2.1.0" in table["source"]
    actions = {row["action"] for row in table["attributes"]}
    assert actions == {"D", "Z", "X", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}
    assert len(table["attributes"]) > 600
    # Spot checks against the standard's table.
    assert profile_action(0x00100010) == "Z"  # Patient's Name
    assert profile_action(0x00100020) == "Z/D"  # Patient ID
    assert profile_action(0x00080080) == "X/Z/D"  # Institution Name
    assert profile_action(0x0020000D) == "U"  # Study Instance UID
    assert profile_action(0x00082112) == "X/Z/U*"  # Source Image Sequence
    assert profile_action(0x60203000) == "X"  # Overlay Data, any 60xx group
    assert profile_action(0x00280010) is None  # Rows: not in the table, kept
    assert applied_action(0x00100020) == "D" and applied_action(0x00080023) == "Z"  # Z/D
    assert applied_action(0x00080080) == "X" and applied_action(0x00082112) == "X"


def test_every_table_attribute_gets_its_action():
    ds, originals = _full_dataset()
    assert len(originals) > 550
    uid_map = UIDMap("1.2.826.0.1.3680043.8.498.9.", secret="fixed")
    out = deidentify(ds, uid_map, pixels_cleaned=True)
    counts = {}
    for tag, original in originals.items():
        action = applied_action(tag)
        counts[action] = counts.get(action, 0) + 1
        name = f"{tag:08X} ({profile_action(tag)})"
        if action == "X" or tag >> 16 in (0x5000, 0x6000):
            assert tag not in out, name
            continue
        assert tag in out, name
        value = out[tag].value
        if action == "Z":
            assert value in (None, "", b"") or (out[tag].VR == "SQ" and len(value) == 0), name
        elif action == "U":
            assert value == uid_map(original) != original and UID(value).is_valid, name
        elif action == "D":
            assert value not in (None, "", b"") and value != original, name
            if out[tag].VR == "SQ":
                (item,) = value
                assert str(item.PatientName) == "" and MARK not in item.CodeMeaning, name
    assert set(counts) == {"X", "Z", "D", "U"}, counts
    assert out.PatientID == uid_map.dummy_id(ds.PatientID)  # Z/D -> consistent dummy
    # Kept: attributes outside the table, and the kept sequences' contents cleaned.
    assert out.Modality == "US" and out.SOPClassUID == ds.SOPClassUID and out.Rows == ds.Rows
    assert len(out.SequenceOfUltrasoundRegions) == 1
    ref = out.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == uid_map("1.2.999.77") and str(ref.PatientName) == ""
    assert not any(elem.tag.is_private for elem in out)
    assert out.PatientIdentityRemoved == "YES" and out.BurnedInAnnotation == "NO"
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == ["113100", "113101"]
    # Written and read back, no identifying string is left anywhere in the file.
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, out, enforce_file_format=True)
    assert MARK.encode() not in buffer.getvalue()
    assert MARK.lower().encode() not in buffer.getvalue().lower()
    back = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    assert back.PatientIdentityRemoved == "YES"


def test_without_clean_pixels_only_the_basic_profile_code():
    ds, _ = _full_dataset()
    out = deidentify(ds, UIDMap("1.2.3."))
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == ["113100"]
    assert out.BurnedInAnnotation == ds.BurnedInAnnotation  # pixels untouched: not claimed clean


def test_written_study_from_a_full_source_carries_nothing_identifying(tmp_path):
    ds, _ = _full_dataset()
    frame = build_sample_dataset().pixel_array
    ds.PixelData = frame.tobytes()
    src = tmp_path / "src.dcm"
    ds.save_as(src, enforce_file_format=True)
    study = open_study(src)
    mask = np.zeros(frame.shape, bool)
    mask[200:220, 300:330] = True
    paths = write_synthetic_study(
        study,
        [frame],
        mask,
        {"text": "oval mass"},
        {"model": "test", "seed": 1},
        tmp_path / "out",
        uid_secret="s",
    )
    assert paths.pixels_cleaned
    for path in (paths.image, paths.segmentation, paths.report):
        data = path.read_bytes()
        assert MARK.encode() not in data.upper(), path.name
        written = pydicom.dcmread(path)
        assert written.PatientIdentityRemoved == "YES"
        assert [c.CodeValue for c in written.DeidentificationMethodCodeSequence] == ["113100", "113101"]
        errors, warnings = dciodvfy(path)
        assert errors == [] and warnings == [], (path.name, errors, warnings)


@pytest.mark.parametrize("keyword", ["PatientName", "StudyInstanceUID"])
def test_implicit_vr_elements_keep_their_action(tmp_path, keyword):
    """Read back as implicit VR (no VR on disk), the table still applies by tag."""
    ds, _ = _full_dataset()
    path = tmp_path / "implicit.dcm"
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    read = pydicom.dcmread(path)
    out = deidentify(read, UIDMap("1.2.3.", secret="x"))
    value = str(out[keyword].value)
    assert MARK not in value and value != str(read[keyword].value)
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, out, enforce_file_format=True)
    assert MARK.encode() not in buffer.getvalue().upper()
