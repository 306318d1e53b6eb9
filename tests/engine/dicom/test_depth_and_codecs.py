"""Grayscale above 8 bits, JPEG Extended and JPEG Lossless (any predictor), and a missing codec."""

import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import Decoder
from pydicom.uid import (
    UID,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLSLossless,
    RLELossless,
)

from engine.dicom import open_study
from engine.errors import DicomError
from engine.sample.study import build_sample_dataset
from tests.engine.dicom.ljpeg import encode_lossless


def _gray_dataset(pixels: np.ndarray, bits: int, photometric: str, window=None):
    ds = build_sample_dataset()
    del ds.SequenceOfUltrasoundRegions
    ds.Rows, ds.Columns = pixels.shape
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def _ramp(bits: int) -> np.ndarray:
    top = (1 << bits) - 1
    return np.linspace(0, top, 48 * 64).round().astype(np.uint16).reshape(48, 64)


def _expected(x: np.ndarray, bits: int, photometric: str, window) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 (LINEAR) written out, or the full Bits Stored range, onto 0..255."""
    x = x.astype(np.float64)
    if window:
        c, w = window[0] - 0.5, window[1] - 1
        y = np.clip((x - c) / w + 0.5, 0, 1)
    else:
        y = x / ((1 << bits) - 1)
    y = np.rint(y * 255)
    return (255 - y if photometric == "MONOCHROME1" else y).astype(np.uint8)


@pytest.mark.parametrize("photometric", ["MONOCHROME1", "MONOCHROME2"])
@pytest.mark.parametrize("bits", [12, 16])
@pytest.mark.parametrize("windowed", [False, True])
def test_grayscale_above_8_bits(photometric, bits, windowed, tmp_path):
    x = _ramp(bits)
    top = (1 << bits) - 1
    window = (round(0.3 * top), round(0.2 * top)) if windowed else None
    path = tmp_path / "deep.dcm"
    _gray_dataset(x, bits, photometric, window).save_as(path, enforce_file_format=True)
    gray = open_study(path).frame(0).gray
    assert gray.dtype == np.uint8 and gray.shape == x.shape
    assert np.abs(gray.astype(int) - _expected(x, bits, photometric, window)).max() <= 1
    dark, bright = (255, 0) if photometric == "MONOCHROME1" else (0, 255)
    assert gray.flat[0] == dark and gray.flat[-1] == bright
    if windowed:  # below the window: dark, above: bright, inside: a ramp
        assert (gray[x < 0.2 * top] == dark).all() and (gray[x > 0.4 * top] == bright).all()
        assert len(np.unique(gray[(x > 0.22 * top) & (x < 0.38 * top)])) > 100
        # The window, not the frame's own range, sets the scale: a flat frame at the centre is mid-gray.
        flat = np.full((8, 8), window[0], np.uint16)
        _gray_dataset(flat, bits, photometric, window).save_as(path, enforce_file_format=True)
        assert abs(int(open_study(path).frame(0).gray[0, 0]) - 128) <= 1


def test_12_bit_jpeg_ls_decodes_to_the_same_display(tmp_path):
    x = _ramp(12)
    ds = _gray_dataset(x, 12, "MONOCHROME2", (1000, 1500))
    plain = tmp_path / "plain.dcm"
    ds.save_as(plain, enforce_file_format=True)
    ds.compress(JPEGLSLossless, x)
    packed = tmp_path / "jls.dcm"
    ds.save_as(packed, enforce_file_format=True)
    a, b = open_study(plain).frame(0).gray, open_study(packed).frame(0).gray
    assert np.array_equal(a, b) and len(np.unique(a)) > 200


def _encapsulated(ds, fragment: bytes, syntax: UID, path):
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_jpeg_extended_process_2(tmp_path):
    """8-bit JPEG Extended: a Huffman sequential stream with an SOF1 marker (T.81 process 2).

    No installed encoder writes JPEG Extended (Pillow, OpenCV and pylibjpeg-libjpeg write only
    baseline, or nothing); an 8-bit extended stream is a baseline stream marked SOF1, so the test
    writes one with Pillow and marks it. 12-bit process 4 has no encoder here at all.
    """
    rng = np.random.default_rng(5)
    img = np.clip(rng.normal(100, 40, (64, 80)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=90)
    baseline = buf.getvalue()
    assert baseline.count(b"\xff\xc0") == 1
    extended = baseline.replace(b"\xff\xc0", b"\xff\xc1")
    ds = build_sample_dataset()
    del ds.SequenceOfUltrasoundRegions
    ds.Rows, ds.Columns = img.shape
    ds.LossyImageCompression = "01"
    study = open_study(_encapsulated(ds, extended, JPEGExtended12Bit, tmp_path / "ext.dcm"))
    assert study.transfer_syntax == JPEGExtended12Bit
    expected = np.asarray(Image.open(io.BytesIO(baseline)))
    assert np.abs(study.frame(0).gray.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("predictor", [2, 4, 7])
@pytest.mark.parametrize("bits", [8, 12])
def test_jpeg_lossless_process_14_other_predictors(predictor, bits, tmp_path):
    rng = np.random.default_rng(predictor)
    x = rng.integers(0, 1 << bits, (40, 56)).astype(np.uint16)
    x[10:30, 10:40] = (1 << bits) - 1
    ds = _gray_dataset(x, bits, "MONOCHROME2")
    if bits == 8:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    path = _encapsulated(ds, encode_lossless(x, predictor, bits), JPEGLossless, tmp_path / "ll.dcm")
    study = open_study(path)
    decoded, _ = study.decoded(0)
    assert np.array_equal(decoded, x)  # lossless: every sample back exactly
    assert np.array_equal(study.frame(0).gray, _expected(x, bits, "MONOCHROME2", None))


def _build(syntax: UID, tmp_path):
    ds = build_sample_dataset()
    if syntax == JPEGBaseline8Bit:
        buf = io.BytesIO()
        Image.fromarray(ds.pixel_array).save(buf, format="JPEG")
        ds.LossyImageCompression = "01"
        return _encapsulated(ds, buf.getvalue(), syntax, tmp_path / "c.dcm")
    ds.compress(syntax, ds.pixel_array, encoding_plugin="pydicom" if syntax == RLELossless else "")
    ds.save_as(tmp_path / "c.dcm", enforce_file_format=True)
    return tmp_path / "c.dcm"


@pytest.mark.parametrize(
    "syntax,package",
    [
        (JPEGBaseline8Bit, "pylibjpeg-libjpeg"),
        (JPEGLSLossless, "pyjpegls"),
        (JPEG2000Lossless, "pylibjpeg-openjpeg"),
        (RLELossless, "pylibjpeg-rle"),
    ],
)
def test_missing_codec_names_the_syntax_and_the_package(syntax, package, tmp_path, monkeypatch):
    path = _build(syntax, tmp_path)
    assert open_study(path).frame(0).gray.shape == (480, 640)  # decodes with the plugins installed
    installed = Decoder.is_available
    # Simulate an installation without the plugins for this one syntax.
    monkeypatch.setattr(
        Decoder, "is_available", property(lambda self: syntax != self.UID and installed.fget(self))
    )
    with pytest.raises(DicomError) as err:
        open_study(path)
    message = str(err.value)
    assert syntax in message and syntax.name in message and package in message
    assert str(path) in message and "(0002,0010)" in message
    pydicom.dcmread(path)  # the header alone still reads: only the pixels need the codec
