"""Shared fixtures: the real data root (skip where absent, fail in CI), offscreen Qt, temp outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt must never need a display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (in CI the real data must be present)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_root() -> Path:
    from engine.settings import get_settings

    root = get_settings().data_root
    if not root.is_dir():
        _missing(f"data root {root} not found; set BUS_DATA_ROOT to the folder holding bus/ and dicom/")
    return root


@pytest.fixture(scope="session")
def dicom_dir(data_root: Path) -> Path:
    path = data_root / "dicom"
    if not path.is_dir():
        _missing(f"{path} not found (real ultrasound DICOM files)")
    return path


@pytest.fixture(scope="session")
def busi_dir(data_root: Path) -> Path:
    path = data_root / "bus" / "BUSI"
    if not path.is_dir():
        _missing(f"{path} not found (BUSI dataset)")
    return path


@pytest.fixture(scope="session")
def breast_dir(data_root: Path) -> Path:
    path = data_root / "bus" / "BrEaST-Lesions_USG"
    if not path.is_dir():
        _missing(f"{path} not found (BrEaST-Lesions_USG dataset)")
    return path
