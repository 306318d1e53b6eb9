"""Formats real scanners write that the data folder lacks, built here from known pixels."""

import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGLSNearLossless,
    RLELossless,
    UltrasoundMultiFrameImageStorage,
)

from engine.dicom import open_study
from engine.dicom.deid import UIDMap, deidentify
from engine.dicom.display import luma
from engine.sample.study import build_sample_dataset


def _colour_frames(n=4, h=64, w=96):
    rng = np.random.default_rng(3)
    base = np.zeros((h, w, 3), np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None]
    base[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    base[..., 2] = 128
    return [
        np.clip(base.astype(int) + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)
        for _ in range(n)
    ]


def _save(ds, path, **kw):
    ds.save_as(path, enforce_file_format=True, **kw)
    return path


def test_multiframe_jpeg_baseline_ybr_full_422(tmp_path):
    frames = _colour_frames()
    fragments = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format="JPEG", quality=95, subsampling=1)  # 4:2:2, YCbCr
        fragments.append(buf.getvalue())
    ds = build_sample_dataset()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    ds.Rows, ds.Columns = frames[0].shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    ds.NumberOfFrames, ds.FrameTime, ds.FrameIncrementPointer = len(frames), 40.0, 0x00181063
    ds.LossyImageCompression = "01"
    del ds.SequenceOfUltrasoundRegions
    ds.PixelData = encapsulate(fragments)
    ds["PixelData"].VR = "OB"
    study = open_study(_save(ds, tmp_path / "jpeg422.dcm"))
    assert (study.n_frames, study.frame_time_ms) == (4, 40.0)
    for i in (0, 3):
        f = study.frame(i)
        pil = np.asarray(Image.open(io.BytesIO(fragments[i])).convert("RGB")).astype(int)
        assert np.abs(f.color.astype(int) - pil).mean() < 1.5  # same JPEG, another decoder
        assert np.abs(f.color.astype(int) - frames[i]).mean() < 10  # lossy, but the same picture
        assert np.array_equal(f.gray, luma(f.color))


def test_rle_ybr_full_planar_configuration_1(tmp_path):
    (rgb,) = _colour_frames(1)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    ds = build_sample_dataset()
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL", 0
    del ds.SequenceOfUltrasoundRegions
    ds.PixelData = ybr.tobytes()
    ds.compress(RLELossless, ybr, encoding_plugin="pydicom")
    ds.PlanarConfiguration = 1  # what RLE encoders such as Mindray's write
    study = open_study(_save(ds, tmp_path / "rle.dcm"))
    assert study.photometric == "YBR_FULL"
    expected = convert_color_space(ybr, "YBR_FULL", "RGB")
    assert np.array_equal(study.frame(0).color, expected)


@pytest.mark.data
def test_implicit_vr_palette(dicom_dir, tmp_path):
    src = pydicom.dcmread(dicom_dir / "us_explicit-le_palette_regions_cx50.dcm")
    src.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    path = _save(src, tmp_path / "implicit.dcm", implicit_vr=True, little_endian=True)
    a = open_study(path).frame(0)
    b = open_study(dicom_dir / "us_explicit-le_palette_regions_cx50.dcm").frame(0)
    assert np.array_equal(a.color, b.color) and np.array_equal(a.gray, b.gray)


@pytest.mark.parametrize("syntax", [ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian])
def test_big_endian_and_deflated(syntax, tmp_path):
    ds = build_sample_dataset()
    ds.file_meta.TransferSyntaxUID = syntax
    kw = {"implicit_vr": False, "little_endian": syntax != ExplicitVRBigEndian}
    study = open_study(_save(ds, tmp_path / "x.dcm", **kw))
    assert np.array_equal(study.frame(0).gray, ds.pixel_array)
    assert study.calibration.mm_per_pixel == pytest.approx((0.1, 0.1))


def _region(fmt, x0, y0, x1, y1, ux, uy, dx, dy):
    r = Dataset()
    r.RegionSpatialFormat, r.RegionDataType, r.RegionFlags = fmt, 1, 0
    r.RegionLocationMinX0, r.RegionLocationMinY0, r.RegionLocationMaxX1, r.RegionLocationMaxY1 = (
        x0,
        y0,
        x1,
        y1,
    )
    r.PhysicalUnitsXDirection, r.PhysicalUnitsYDirection = ux, uy
    r.PhysicalDeltaX, r.PhysicalDeltaY = dx, dy
    return r


def test_several_regions_with_different_units_and_private_tags(tmp_path):
    ds = build_sample_dataset()
    ds.SequenceOfUltrasoundRegions = [
        _region(1, 10, 10, 300, 250, 3, 3, 0.01, 0.012),  # B-mode, cm/cm
        _region(2, 320, 10, 630, 250, 4, 3, 0.005, 0.02),  # M-mode, seconds/cm
        _region(3, 10, 270, 630, 470, 4, 7, 0.004, 0.5),  # spectral Doppler, seconds/(cm/s)
    ]
    block = ds.private_block(0x0009, "ACME US 1.0", create=True)
    block.add_new(0x10, "LO", "probe L12-5 serial 12345")
    block.add_new(0x11, "OB", b"\x01\x02\x03\x04")
    study = open_study(_save(ds, tmp_path / "regions.dcm"))
    cal = study.calibration
    assert [r.units_x_name for r in cal.regions] == ["cm", "seconds", "seconds"]
    assert [r.units_y_name for r in cal.regions] == ["cm", "cm", "cm/sec"]
    s = cal.at(100, 100)
    assert (s.mm_per_pixel_x, s.mm_per_pixel_y) == pytest.approx((0.1, 0.12))
    assert cal.at(400, 100) is None and cal.at(100, 300) is None  # M-mode and Doppler: not mm
    assert cal.mm_per_pixel == pytest.approx((0.1, 0.12))
    assert study.frame(0).gray.shape == (480, 640)
    clean = deidentify(study.dataset, UIDMap("1.2.3."))
    assert not any(t.is_private for t in clean.keys())  # noqa: SIM118 (Dataset iterates elements)
    assert len(clean.SequenceOfUltrasoundRegions) == 3


@pytest.mark.data
def test_uid_remapping_is_consistent_across_a_study(dicom_dir):
    a = pydicom.dcmread(dicom_dir / "us_rle_palette_cine_echo.dcm", stop_before_pixels=True)
    b = pydicom.dcmread(dicom_dir / "us_jpeg-ls-lossless_palette_cine_echo.dcm", stop_before_pixels=True)
    uid_map = UIDMap("1.2.826.0.1.3680043.8.498.5.")
    da, db = deidentify(a, uid_map), deidentify(b, uid_map)
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert da[kw].value == db[kw].value != a[kw].value  # same originals, same new UIDs
    assert da.SOPClassUID == a.SOPClassUID  # DICOM-defined UIDs stay
    assert da.PatientIdentityRemoved == "YES" and da.get("PatientID") == db.get("PatientID")
    assert UIDMap("1.2.3.")(a.StudyInstanceUID) != UIDMap("1.2.3.")(a.StudyInstanceUID)  # secret per export


def test_segmented_16_bit_palette(tmp_path):
    """PALETTE COLOR with segmented LUTs: a linear ramp, a discrete table, a falling ramp."""
    index = np.arange(256, dtype=np.uint8)[None].repeat(8, 0)
    ds = build_sample_dataset()
    del ds.SequenceOfUltrasoundRegions
    ds.Rows, ds.Columns = index.shape
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.PixelData = index.tobytes()
    green = [(i * 37 % 256) * 257 for i in range(256)]
    segments = {
        "Red": [0, 1, 0, 1, 255, 65535],  # discrete 0, then linear up to 65535 over 255 entries
        "Green": [0, 256, *green],  # one discrete segment of every entry
        "Blue": [0, 1, 65535, 1, 255, 0],  # linear down
    }
    for colour, data in segments.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", np.asarray(data, "<u2").tobytes())
    frame = open_study(_save(ds, tmp_path / "seg.dcm")).frame(0)
    i = np.arange(256)
    assert np.array_equal(frame.color[0, :, 0], i)
    assert np.array_equal(frame.color[0, :, 1], i * 37 % 256)
    assert np.array_equal(frame.color[0, :, 2], 255 - i)
    assert np.array_equal(frame.gray, luma(frame.color))


def test_rgb_planar_configuration_1_uncompressed(tmp_path):
    (rgb,) = _colour_frames(1)
    ds = build_sample_dataset()
    del ds.SequenceOfUltrasoundRegions
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 1
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()  # RRR..GGG..BBB..
    frame = open_study(_save(ds, tmp_path / "planar.dcm")).frame(0)
    assert np.array_equal(frame.color, rgb)


def test_jpeg_ls_near_lossless(tmp_path):
    ds = build_sample_dataset()
    pixels = ds.pixel_array
    ds.compress(JPEGLSNearLossless, pixels, jls_error=2)
    ds.LossyImageCompression = "01"
    study = open_study(_save(ds, tmp_path / "nl.dcm"))
    assert study.transfer_syntax == JPEGLSNearLossless
    diff = np.abs(study.frame(0).gray.astype(int) - pixels)
    assert diff.max() <= 2 and diff.any()  # near-lossless: within the error bound, not identical
