"""Fixtures of the DICOM room: the real files, their expected scales, and input hashing."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest

# mm per pixel (x, y) of the main calibrated 2D region, from ../shared/data/dicom/README.md (cm * 10).
EXPECTED_MM = {
    "us_explicit-le_palette_regions_cx50.dcm": (0.26229, 0.26229),
    "us_rle_palette_2frame_regions_cx50.dcm": (0.26229, 0.26229),
    "us_implicit-le_palette_regions_clearvue650.dcm": (0.1651, 0.1651),
    "us_implicit-le_palette16_regions_aloka.dcm": (0.38265, 0.38265),
    "us_jpeg-lossless-sv1_mono2_regions_epiq7c.dcm": (0.25477, 0.25477),
    "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm": (0.5105, 0.5105),
    "us_jpeg-baseline_ybr422_cine_regions_voluson-s.dcm": (0.25939, 0.25939),
    "us_jpeg-baseline_ybr422_cine_doppler-regions_hp.dcm": (0.28571, 0.22857),
    "us_explicit-le_ybr422_regions_esaote.dcm": (0.0616, 0.0616),
    "us_rle_ybr-full_regions_sequoia.dcm": (0.095368, 0.095368),
    "us_rle_ybr-full_regions_mindray-dc30.dcm": (0.14512, 0.14512),
    "us_j2k-lossy_ybr-ict_regions_logiqe.dcm": (0.047294, 0.047294),
}
ALL_FILES = sorted(
    [
        *EXPECTED_MM,
        "us_explicit-le_rgb_logiq700.dcm",
        "us_explicit-le_ybr-full_hdi5000.dcm",
        "us_j2k-lossless_ybr-rct_logiq700.dcm",
        "us_j2k-lossy_ybr-ict_logiq700.dcm",
        "us_jpeg-baseline_ybr422_hdi5000.dcm",
        "us_jpeg-ls-lossless_palette_cine_echo.dcm",
        "us_rle_palette_cine_echo.dcm",
        "us_rle_rgb_logiq700.dcm",
    ]
)
assert len(ALL_FILES) == 20


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _quiet_pydicom():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="pydicom")
        yield


@pytest.fixture(scope="session")
def real_files(dicom_dir: Path) -> list[Path]:
    present = sorted(p.name for p in dicom_dir.glob("*.dcm"))
    assert present == ALL_FILES, f"{dicom_dir} does not hold the 20 files its README lists"
    return [dicom_dir / name for name in ALL_FILES]


@pytest.fixture(scope="session")
def input_hashes(real_files):
    """Hashes of every real file before the DICOM tests; checked unchanged at the end."""
    before = {p: sha256(p) for p in real_files}
    yield before
    after = {p: sha256(p) for p in real_files}
    assert after == before, "an input file was modified"
