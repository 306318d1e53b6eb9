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


def _data_folder(data_root: Path, relative: str, what: str) -> Path:
    path = data_root / relative
    if not path.is_dir():
        _missing(f"{path} not found ({what})")
    return path


@pytest.fixture(scope="session")
def dicom_dir(data_root: Path) -> Path:
    return _data_folder(data_root, "dicom", "real ultrasound DICOM files")


@pytest.fixture(scope="session")
def busi_dir(data_root: Path) -> Path:
    return _data_folder(data_root, "bus/BUSI", "BUSI dataset")


@pytest.fixture(scope="session")
def breast_dir(data_root: Path) -> Path:
    return _data_folder(data_root, "bus/BrEaST-Lesions_USG", "BrEaST-Lesions_USG dataset")
