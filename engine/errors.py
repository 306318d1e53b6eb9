"""One exception family for the whole engine.

Every error a user can cause (bad file, unknown value, missing model, missing part) is a BusError
whose message names what went wrong and where, so the command line and the app can show it in one
line instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class BusError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass
class DicomError(BusError):
    """A DICOM file could not be read or written: which file, which tag (if known), why."""

    file: str
    reason: str
    tag: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.tag}]" if self.tag else "")
        return f"{where}: {self.reason}"


class InputError(BusError):
    """A value given by the user (argument, form field, image, mask) is unusable."""


class ModelError(BusError):
    """A model directory is missing, incomplete or incompatible."""


class DataError(BusError):
    """A dataset or the data root is missing or malformed."""


class MissingPartError(BusError):
    """A capability that the project has not built yet was asked for.

    Raised instead of faking a result: the message names the part and the issue that builds it.
    """

    def __init__(self, part: str, issue: str):
        self.part = part
        self.issue = issue
        super().__init__(f"{part} is not built yet (see the issue '{issue}'); nothing was written")
