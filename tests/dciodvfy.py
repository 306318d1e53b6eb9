"""Thin test wrapper over engine.dicom.validate.dciodvfy: skip where dciodvfy is absent (fail in CI).

The accepted findings and their reasons live in engine/dicom/validate.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.dicom.validate import ACCEPTED_ERRORS, ACCEPTED_WARNINGS, dciodvfy_path
from engine.dicom.validate import dciodvfy as _dciodvfy

__all__ = ["ACCEPTED_ERRORS", "ACCEPTED_WARNINGS", "dciodvfy"]


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    if not dciodvfy_path():
        reason = "dciodvfy (Debian package dicom3tools) is not installed; packaging/setup.sh installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return _dciodvfy(path)
