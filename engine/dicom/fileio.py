"""Atomic DICOM output (the writer itself is engine.fileio's, shared by every room)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.fileio import atomic_write, atomic_write_bytes

__all__ = ["atomic_write", "atomic_write_bytes", "write_dataset"]


def write_dataset(path: str | os.PathLike, ds) -> Path:
    """pydicom.dcmwrite with the file format enforced (preamble and meta), atomically."""
    import pydicom

    return atomic_write(path, lambda p: pydicom.dcmwrite(p, ds, enforce_file_format=True))
