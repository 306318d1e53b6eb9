import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_color_lut, pixel_array

from engine.dicom import Calibration, open_study
from engine.dicom.display import luma
from engine.errors import DicomError
from tests.engine.dicom.conftest import ALL_FILES, EXPECTED_MM, sha256


@pytest.mark.data
@pytest.mark.parametrize("name", ALL_FILES)
def test_every_real_file_reads_with_pydicoms_pixels_and_scale(name, dicom_dir, input_hashes):
    path = dicom_dir / name
    before = sha256(path)
    study = open_study(path)
    reference = pydicom.dcmread(path)
    assert study.n_frames == int(reference.get("NumberOfFrames", 1) or 1)
    # Long loops: first, middle and last frame against pydicom's own decode of that frame.
    indices = range(study.n_frames) if study.n_frames <= 10 else [0, study.n_frames // 2, study.n_frames - 1]
    expected = {
        i: pixel_array(path, index=i) if study.n_frames > 1 else reference.pixel_array for i in indices
    }
    for i in indices:
        arr, photometric = study.decoded(i)
        assert np.array_equal(arr, expected[i]), f"frame {i} differs from pydicom's decode"
        frame = study.frame(i)
        assert frame.gray.dtype == np.uint8 and frame.gray.shape == (study.rows, study.columns)
        pi = reference.PhotometricInterpretation
        if pi == "PALETTE COLOR":
            rgb = apply_color_lut(expected[i], reference)
            if rgb.dtype != np.uint8:
                rgb = (rgb >> 8).astype(np.uint8)
            assert np.array_equal(frame.color, rgb)
            assert np.array_equal(frame.gray, luma(rgb))
        elif pi.startswith("MONOCHROME"):
            assert frame.color is None
            assert np.array_equal(frame.gray, expected[i] if pi == "MONOCHROME2" else 255 - expected[i])
        else:
            assert photometric == "RGB"
            assert np.array_equal(frame.color, expected[i])
            assert np.array_equal(frame.gray, luma(expected[i]))
        assert frame.calibration is study.calibration
    mm = study.calibration.mm_per_pixel
    if name in EXPECTED_MM:
        assert mm == pytest.approx(EXPECTED_MM[name], rel=2e-4)
    else:
        assert mm is None
    assert sha256(path) == before


@pytest.mark.data
def test_gray_content_is_exact_for_colour_encoded_bmode(dicom_dir):
    """Three encodings of the same LOGIQ 700 image give the same display frame."""
    frames = [
        open_study(dicom_dir / n).frame(0).gray
        for n in (
            "us_explicit-le_rgb_logiq700.dcm",
            "us_rle_rgb_logiq700.dcm",
            "us_j2k-lossless_ybr-rct_logiq700.dcm",
        )
    ]
    assert np.array_equal(frames[0], frames[1]) and np.array_equal(frames[0], frames[2])


@pytest.mark.data
def test_opening_a_long_jpeg_loop_decodes_nothing(dicom_dir, monkeypatch):
    import pydicom.pixels.decoders.base as base

    calls = []
    real = base.Decoder.as_array

    def counting(self, src, *, index=None, **kw):
        calls.append(index)
        return real(self, src, index=index, **kw)

    monkeypatch.setattr(base.Decoder, "as_array", counting)
    monkeypatch.setattr(base.Decoder, "iter_array", lambda *a, **k: pytest.fail("iter_array used"))
    study = open_study(dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_voluson-s.dcm")
    assert (study.n_frames, study.rows, study.columns) == (87, 743, 975)
    assert study.frame_time_ms == pytest.approx(34.9927, abs=1e-3)
    assert calls == []
    study.frame(40)
    assert calls == [40]


@pytest.mark.data
def test_regions_answer_for_a_point(dicom_dir):
    aloka = open_study(dicom_dir / "us_implicit-le_palette16_regions_aloka.dcm").calibration
    assert len(aloka.regions) == 3 and len(aloka.calibrated_regions) == 2
    left, right = aloka.at(100, 200), aloka.at(400, 200)
    assert left.region.index == 0 and right.region.index == 1
    assert left.mm_per_pixel_x == pytest.approx(0.38265, rel=1e-4)
    assert aloka.at(5, 5) is None  # outside every region
    assert aloka.distance_mm((100, 200), (400, 200)) is None  # two different regions
    assert aloka.distance_mm((100, 100), (100, 200)) == pytest.approx(100 * 0.3826530650258064)

    cx50 = open_study(dicom_dir / "us_explicit-le_palette_regions_cx50.dcm").calibration
    wave = next(r for r in cx50.regions if r.spatial_format_name == "waveform")
    assert (wave.units_x_name, wave.units_y_name) == ("seconds", "none") and wave.mm_per_pixel is None
    assert cx50.at((wave.x0 + wave.x1) / 2, (wave.y0 + wave.y1) / 2) is None

    hp = open_study(dicom_dir / "us_jpeg-baseline_ybr422_cine_doppler-regions_hp.dcm").calibration
    scale = hp.at(*_centre(hp.calibrated_regions[0]))
    assert (scale.mm_per_pixel_x, scale.mm_per_pixel_y) == pytest.approx((0.28571, 0.22857), rel=1e-4)


def _centre(r):
    return ((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2)


@pytest.mark.data
def test_voluson_pixel_spacing_and_region_agree(dicom_dir):
    cal = open_study(dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_voluson-s.dcm").calibration
    assert cal.pixel_spacing == pytest.approx((0.259386, 0.259386), rel=1e-5)
    assert cal.mm_per_pixel == pytest.approx((0.259386, 0.259386), rel=1e-5)


@pytest.mark.data
def test_study_info_is_typed(dicom_dir):
    info = open_study(dicom_dir / "us_implicit-le_palette16_regions_aloka.dcm").info
    assert info.equipment.Manufacturer == "ALOKA CO., LTD."
    assert info.series.Modality == "US"
    assert info.laterality in ("L", "R", "B", "U", "")
    assert info.study.StudyInstanceUID
    assert info.to_dict()["patient"].keys() >= {"PatientName", "PatientID"}


def test_png_input_with_given_calibration(tmp_path):
    import cv2

    img = (np.arange(60 * 80) % 251).astype(np.uint8).reshape(60, 80)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    study = open_study(tmp_path / "a.png", calibration=Calibration.uniform(0.1))
    frame = study.frame(0)
    assert np.array_equal(frame.gray, img) and frame.color is None
    assert study.calibration.at(3, 3).mm_per_pixel_x == 0.1 and not study.is_dicom
    assert open_study(tmp_path / "a.png").calibration.at(3, 3) is None


def test_frame_out_of_range_and_missing_file(tmp_path):
    from engine.settings import sample_study_path

    study = open_study(sample_study_path())
    with pytest.raises(DicomError, match="out of range"):
        study.frame(1)
    with pytest.raises(DicomError, match="no such file"):
        open_study(tmp_path / "none.dcm")
