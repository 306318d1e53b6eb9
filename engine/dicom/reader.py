"""Open a study: DICOM (every ultrasound transfer syntax and photometric) or PNG/JPEG, frames lazily.

`open_study(path)` reads the header and leaves Pixel Data on disk (pydicom defer_size); `frame(i)`
decodes only frame i through pydicom's own decoders (pydicom.pixels, pylibjpeg plugins), so opening a
long JPEG cine loop decodes nothing. Every problem with the input becomes one DicomError naming the
file, the tag when known, and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from engine.dicom.display import display_frames, luma
from engine.dicom.regions import Calibration
from engine.dicom.study_info import StudyInfo
from engine.errors import DicomError

# Limits: anything above is refused before any pixel is decoded.
MAX_ROWS = 16384
MAX_COLUMNS = 16384
MAX_FRAMES = 10000
MAX_PIXEL_BYTES = 4 * 1024**3  # decoded size of all frames
DEFER_SIZE = 64 * 1024  # values larger than this stay on disk until asked for

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}

# Which package decodes a transfer syntax (named in the error when its codec is missing).
CODEC_PACKAGES = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg-libjpeg (or Pillow)",
    "1.2.840.10008.1.2.4.51": "pylibjpeg-libjpeg (or Pillow)",
    "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.80": "pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.81": "pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg (or Pillow)",
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg (or Pillow)",
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pylibjpeg-rle (or pydicom's own RLE decoder)",
}
PHOTOMETRIC_SAMPLES = {
    "MONOCHROME1": 1,
    "MONOCHROME2": 1,
    "PALETTE COLOR": 1,
    "RGB": 3,
    "YBR_FULL": 3,
    "YBR_FULL_422": 3,
    "YBR_RCT": 3,
    "YBR_ICT": 3,
    "YBR_PARTIAL_420": 3,
}
TAG_PIXEL_DATA = "(7FE0,0010)"


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    t = tag_for_keyword(keyword)
    return f"({t >> 16:04X},{t & 0xFFFF:04X})" if t is not None else keyword


@dataclass(frozen=True)
class Frame:
    """One display frame: `gray` uint8 HxW, `color` uint8 HxWx3 (None for grayscale sources)."""

    index: int
    gray: np.ndarray
    color: np.ndarray | None
    calibration: Calibration

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape


def is_raster_image(path: Path) -> bool:
    return path.suffix.lower() in RASTER_SUFFIXES


def read_dataset(path: str | os.PathLike, *, pixels: bool = True) -> Dataset:
    """Read a DICOM file's dataset: pixels deferred (pixels=True) or not read at all (pixels=False)."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DicomError(name, "no such file")
    try:
        if pixels:
            ds = pydicom.dcmread(path, defer_size=DEFER_SIZE)
        else:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        raise DicomError(name, "not a DICOM file (no 'DICM' prefix or File Meta Information)") from None
    except (EOFError, OSError, ValueError, KeyError, TypeError, IndexError, OverflowError) as exc:
        raise DicomError(name, f"unreadable DICOM ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pydicom may raise others on damaged input; still one error type
        raise DicomError(name, f"unreadable DICOM ({type(exc).__name__}: {exc})") from None
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", Dataset()):
        raise DicomError(name, "no Transfer Syntax UID in the file meta information", "(0002,0010)")
    try:
        # Force every non-deferred element to parse now so damage shows here, not later.
        _parse_all(ds)
    except Exception as exc:
        raise DicomError(name, f"damaged element ({type(exc).__name__}: {exc})") from None
    return ds


def _parse_all(ds: Dataset) -> None:
    """Convert every element that is in memory (deferred ones stay on disk), sequences included."""
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        if getattr(raw, "value", 1) is None and getattr(raw, "length", 0):
            continue  # deferred: read later, on demand
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                _parse_all(item)


def _int(ds: Dataset, keyword: str, file: str, *, required: bool = True, default: int | None = None) -> int:
    try:
        value = ds.get(keyword)
    except Exception as exc:
        raise DicomError(file, f"{keyword} is unreadable ({exc})", _tag(keyword)) from None
    if value is None or value == "":
        if required:
            raise DicomError(file, f"{keyword} is missing", _tag(keyword))
        return default  # type: ignore[return-value]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DicomError(file, f"{keyword} is not a number ({value!r})", _tag(keyword)) from None


def check_image(ds: Dataset, file: str) -> dict:
    """Check the image pixel description without decoding; return the normalised values.

    Refuses missing pixel data, inconsistent Rows/Columns/Bits/Samples, absurd sizes, unknown transfer
    syntaxes and missing codecs, each as a DicomError naming the tag.
    """
    ts = UID(str(ds.file_meta.TransferSyntaxUID))
    if "PixelData" not in ds:
        raise DicomError(file, "no Pixel Data", TAG_PIXEL_DATA)
    rows = _int(ds, "Rows", file)
    cols = _int(ds, "Columns", file)
    bits = _int(ds, "BitsAllocated", file)
    stored = _int(ds, "BitsStored", file, required=False, default=bits)
    spp = _int(ds, "SamplesPerPixel", file, required=False, default=1)
    frames = _int(ds, "NumberOfFrames", file, required=False, default=1)
    planar = _int(ds, "PlanarConfiguration", file, required=False, default=0)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip()
    if not 0 < rows <= MAX_ROWS:
        raise DicomError(file, f"Rows {rows} outside 1..{MAX_ROWS}", _tag("Rows"))
    if not 0 < cols <= MAX_COLUMNS:
        raise DicomError(file, f"Columns {cols} outside 1..{MAX_COLUMNS}", _tag("Columns"))
    if bits not in (1, 8, 16, 32):
        raise DicomError(file, f"Bits Allocated {bits} is not 1, 8, 16 or 32", _tag("BitsAllocated"))
    if not 0 < stored <= bits:
        raise DicomError(file, f"Bits Stored {stored} does not fit Bits Allocated {bits}", _tag("BitsStored"))
    if not 0 < frames <= MAX_FRAMES:
        raise DicomError(file, f"Number of Frames {frames} outside 1..{MAX_FRAMES}", _tag("NumberOfFrames"))
    if photometric not in PHOTOMETRIC_SAMPLES:
        raise DicomError(
            file, f"unsupported Photometric Interpretation {photometric!r}", _tag("PhotometricInterpretation")
        )
    if spp != PHOTOMETRIC_SAMPLES[photometric]:
        raise DicomError(
            file, f"Samples per Pixel {spp} does not match {photometric}", _tag("SamplesPerPixel")
        )
    if planar not in (0, 1):
        raise DicomError(file, f"Planar Configuration {planar} is not 0 or 1", _tag("PlanarConfiguration"))
    if photometric == "PALETTE COLOR":
        for colour in ("Red", "Green", "Blue"):
            kw = f"{colour}PaletteColorLookupTableDescriptor"
            if kw not in ds:
                raise DicomError(file, f"PALETTE COLOR without {kw}", _tag(kw))
    total = rows * cols * spp * max(bits, 8) // 8 * frames
    if total > MAX_PIXEL_BYTES:
        raise DicomError(
            file, f"decoded size {total} bytes exceeds the limit of {MAX_PIXEL_BYTES}", TAG_PIXEL_DATA
        )
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise DicomError(file, f"unknown or unsupported transfer syntax {ts}", "(0002,0010)") from None
    if not decoder.is_available:
        package = CODEC_PACKAGES.get(str(ts), "a pydicom pixel data plugin")
        raise DicomError(
            file,
            f"no decoder installed for transfer syntax {ts.name} ({ts}); install {package}",
            "(0002,0010)",
        )
    element = ds.get_item("PixelData")
    length = getattr(element, "length", None)  # deferred (still on disk): its declared length
    if length is None and isinstance(getattr(element, "value", None), bytes):
        length = len(element.value)
    if not ts.is_compressed and length is not None and length != 0xFFFFFFFF:
        if bits == 1:
            expected = (rows * cols * spp * frames + 7) // 8
        elif photometric == "YBR_FULL_422":  # uncompressed 4:2:2 keeps two samples per pixel
            expected = rows * cols * 2 * frames * (bits // 8)
        else:
            expected = rows * cols * spp * frames * (bits // 8)
        if length < expected:
            raise DicomError(
                file, f"Pixel Data has {length} bytes, {expected} expected for the image size", TAG_PIXEL_DATA
            )
    return {
        "transfer_syntax": str(ts),
        "transfer_syntax_name": ts.name,
        "photometric": photometric,
        "rows": rows,
        "columns": cols,
        "frames": frames,
        "bits_allocated": bits,
        "samples_per_pixel": spp,
        "planar_configuration": planar,
    }


def _frame_time_ms(ds: Dataset) -> float | None:
    try:
        if ds.get("FrameTime") not in (None, ""):
            return float(ds.FrameTime)
        vector = ds.get("FrameTimeVector")
        if vector:
            values = [float(v) for v in vector][1:] or [float(vector[0])]
            return float(np.mean(values)) if values else None
        for kw in ("CineRate", "RecommendedDisplayFrameRate"):
            rate = ds.get(kw)
            if rate not in (None, "") and float(rate) > 0:
                return 1000.0 / float(rate)
    except (TypeError, ValueError):
        return None
    return None


class UltrasoundStudy:
    """An opened image: typed fields, calibration, and frames decoded one at a time on request."""

    def __init__(
        self,
        path: Path,
        dataset: Dataset | None,
        *,
        info: StudyInfo,
        calibration: Calibration,
        n_frames: int,
        rows: int,
        columns: int,
        frame_time_ms: float | None = None,
        transfer_syntax: str = "",
        photometric: str = "",
        raster: np.ndarray | None = None,
    ):
        self.path = path
        self.dataset = dataset
        self.info = info
        self.calibration = calibration
        self.n_frames = n_frames
        self.rows = rows
        self.columns = columns
        self.frame_time_ms = frame_time_ms
        self.transfer_syntax = transfer_syntax
        self.photometric = photometric
        self._raster = raster
        self._last: Frame | None = None

    @property
    def is_dicom(self) -> bool:
        return self.dataset is not None

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        return (
            f"UltrasoundStudy({self.path.name!r}, {self.rows}x{self.columns}x{self.n_frames}, "
            f"{self.photometric}, {self.transfer_syntax})"
        )

    def _check_index(self, index: int) -> int:
        if not -self.n_frames <= index < self.n_frames:
            raise DicomError(str(self.path), f"frame {index} out of range (0..{self.n_frames - 1})")
        return index % self.n_frames

    def decoded(self, index: int = 0) -> tuple[np.ndarray, str]:
        """Frame `index` as pydicom's decoder returns it (YBR converted to RGB), with its photometric."""
        index = self._check_index(index)
        if self.dataset is None:
            return self._raster, ("RGB" if self._raster.ndim == 3 else "MONOCHROME2")
        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(self.dataset.file_meta.TransferSyntaxUID)
            arr, meta = decoder.as_array(self.dataset, index=index)
        except DicomError:
            raise
        except Exception as exc:
            raise DicomError(
                str(self.path), f"frame {index} does not decode ({type(exc).__name__}: {exc})", TAG_PIXEL_DATA
            ) from None
        photometric = str(meta.get("photometric_interpretation", self.photometric))
        expected = (self.rows, self.columns)
        if tuple(arr.shape[:2]) != expected:
            raise DicomError(
                str(self.path), f"frame {index} decodes to {arr.shape}, not {expected}", TAG_PIXEL_DATA
            )
        return arr, photometric

    def frame(self, index: int = 0) -> Frame:
        """Decode frame `index` only and return its display frame."""
        index = self._check_index(index)
        if self._last is not None and self._last.index == index:
            return self._last
        arr, photometric = self.decoded(index)
        if self.dataset is None:
            gray, color = (luma(arr), arr) if arr.ndim == 3 else (arr, None)
        else:
            try:
                gray, color = display_frames(arr, photometric, self.dataset)
            except Exception as exc:
                raise DicomError(
                    str(self.path),
                    f"frame {index} cannot be displayed ({type(exc).__name__}: {exc})",
                    _tag("PhotometricInterpretation"),
                ) from None
        frame = Frame(index=index, gray=gray, color=color, calibration=self.calibration)
        self._last = frame
        return frame

    def frames(self) -> Iterator[Frame]:
        for i in range(self.n_frames):
            yield self.frame(i)

    def summary(self) -> dict:
        mm = self.calibration.mm_per_pixel
        return {
            "file": str(self.path),
            "transfer_syntax": self.transfer_syntax,
            "transfer_syntax_name": UID(self.transfer_syntax).name if self.transfer_syntax else "",
            "photometric": self.photometric,
            "rows": self.rows,
            "columns": self.columns,
            "frames": self.n_frames,
            "frame_time_ms": self.frame_time_ms,
            "mm_per_pixel": list(mm) if mm else None,
            "regions": self.calibration.to_dicts(),
            "manufacturer": self.info.equipment.Manufacturer,
            "model": self.info.equipment.ManufacturerModelName,
            "laterality": self.info.laterality,
        }


def _open_raster(path: Path, calibration: Calibration | None) -> UltrasoundStudy:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.width > MAX_COLUMNS or im.height > MAX_ROWS:
                raise DicomError(str(path), f"image {im.width}x{im.height} exceeds the size limit")
            im.load()
            if im.mode in ("L", "1", "I;16", "I", "F"):
                arr = np.asarray(im.convert("L"))
            else:
                arr = np.asarray(im.convert("RGB"))
                if np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2]):
                    arr = np.ascontiguousarray(arr[..., 0])
    except DicomError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DicomError(str(path), f"not a readable image ({type(exc).__name__}: {exc})") from None
    return UltrasoundStudy(
        path,
        None,
        info=StudyInfo.empty(),
        calibration=calibration or Calibration(),
        n_frames=1,
        rows=arr.shape[0],
        columns=arr.shape[1],
        photometric="RGB" if arr.ndim == 3 else "MONOCHROME2",
        raster=arr,
    )


def open_study(path: str | os.PathLike, *, calibration: Calibration | None = None) -> UltrasoundStudy:
    """Open a DICOM file (header now, pixels lazily) or a PNG/JPEG (with an optional given calibration).

    Raises DicomError(file, reason, tag) for anything unreadable; never modifies the input.
    """
    path = Path(path)
    if is_raster_image(path):
        if not path.is_file():
            raise DicomError(str(path), "no such file")
        return _open_raster(path, calibration)
    ds = read_dataset(path)
    values = check_image(ds, str(path))
    try:
        info = StudyInfo.from_dataset(ds)
        cal = calibration or Calibration.from_dataset(ds)
    except Exception as exc:
        raise DicomError(
            str(path), f"unreadable ultrasound regions ({type(exc).__name__}: {exc})", "(0018,6011)"
        ) from None
    return UltrasoundStudy(
        path,
        ds,
        info=info,
        calibration=cal,
        n_frames=values["frames"],
        rows=values["rows"],
        columns=values["columns"],
        frame_time_ms=_frame_time_ms(ds),
        transfer_syntax=values["transfer_syntax"],
        photometric=values["photometric"],
    )
