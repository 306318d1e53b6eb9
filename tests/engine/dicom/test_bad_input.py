"""Bad input: one DicomError naming file, tag and reason, before any pixel is decoded; inputs untouched."""

import hashlib

import numpy as np
import pydicom
import pytest

from engine.dicom import open_study
from engine.dicom.fileio import atomic_write
from engine.dicom.reader import MAX_COLUMNS, MAX_FRAMES, MAX_PIXEL_BYTES, MAX_ROWS
from engine.errors import DicomError
from engine.sample.study import build_sample_dataset


def _no_pixels(ds):
    del ds.PixelData


def _huge(ds):  # every dimension inside its limit, their product (12 GiB decoded) not
    ds.Rows, ds.Columns, ds.NumberOfFrames = 16384, 16384, 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0


CASES = {
    "missing pixel data": (_no_pixels, "(7FE0,0010)", "no Pixel Data"),
    "rows zero": (lambda ds: setattr(ds, "Rows", 0), "(0028,0010)", "Rows 0 outside"),
    "absurd rows": (lambda ds: setattr(ds, "Rows", MAX_ROWS + 1), "(0028,0010)", "outside"),
    "absurd columns": (lambda ds: setattr(ds, "Columns", MAX_COLUMNS + 1), "(0028,0011)", "outside"),
    "absurd frames": (lambda ds: setattr(ds, "NumberOfFrames", MAX_FRAMES + 1), "(0028,0008)", "outside"),
    "absurd decoded size": (_huge, "(7FE0,0010)", f"exceeds the limit of {MAX_PIXEL_BYTES}"),
    "rows beyond the data": (
        lambda ds: setattr(ds, "Rows", 2000),
        "(7FE0,0010)",
        "expected for the image size",
    ),
    "bits allocated 12": (
        lambda ds: setattr(ds, "BitsAllocated", 12),
        "(0028,0100)",
        "is not 1, 8, 16 or 32",
    ),
    "bits stored above allocated": (lambda ds: setattr(ds, "BitsStored", 12), "(0028,0101)", "does not fit"),
    "samples vs photometric": (lambda ds: setattr(ds, "SamplesPerPixel", 3), "(0028,0002)", "does not match"),
    "unknown photometric": (
        lambda ds: setattr(ds, "PhotometricInterpretation", "HSV"),
        "(0028,0004)",
        "unsupported Photometric",
    ),
    "unknown transfer syntax": (
        None,  # pydicom refuses to write one: the bytes are changed after writing
        "(0002,0010)",
        "unknown or unsupported transfer syntax",
    ),
}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_header_gives_one_error_with_file_tag_and_reason(case, tmp_path):
    change, tag, reason = CASES[case]
    ds = build_sample_dataset()
    if change:
        change(ds)
    path = tmp_path / "bad.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    if change is None:  # Explicit VR Little Endian -> an unknown UID of the same length
        data = path.read_bytes()
        assert data.count(b"1.2.840.10008.1.2.1\x00") == 1
        path.write_bytes(data.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.9\x00"))
    before = _sha(path)
    with pytest.raises(DicomError) as err:
        open_study(path)
    assert err.value.file == str(path) and err.value.tag == tag, str(err.value)
    assert reason in err.value.reason, str(err.value)
    assert _sha(path) == before  # the input is never modified


@pytest.mark.parametrize(
    "content,reason",
    [(b"hello, not DICOM\n", "not a DICOM file"), (b"", "not a DICOM file")],
)
def test_non_dicom_file(content, reason, tmp_path):
    path = tmp_path / "x.dcm"
    path.write_bytes(content)
    with pytest.raises(DicomError, match=reason):
        open_study(path)


@pytest.mark.parametrize("keep", [200, 400, 0.5, 0.999])
def test_truncated_file(keep, tmp_path):
    full = tmp_path / "full.dcm"
    pydicom.dcmwrite(full, build_sample_dataset(), enforce_file_format=True)
    data = full.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: int(keep if keep > 1 else len(data) * keep)])
    with pytest.raises(DicomError) as err:
        study = open_study(cut)
        study.frame(0)
    assert str(cut) in str(err.value)


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "out.dcm"
    target.write_bytes(b"previous")

    def fails(tmp):
        tmp.write_bytes(b"half a fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.dcm"]  # no temporary file left
    atomic_write(target, lambda tmp: tmp.write_bytes(np.arange(4, dtype=np.uint8).tobytes()))
    assert target.read_bytes() == b"\x00\x01\x02\x03"
