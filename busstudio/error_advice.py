"""Turn an exception into what the user reads: a title, the reason, and what to do (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import BusError, DataError, DicomError, InputError, MissingPartError, ModelError


@dataclass(frozen=True)
class Advice:
    title: str
    reason: str
    what_to_do: str
    expected: bool  # a BusError or a known condition, as opposed to a bug


_CODEC_WORDS = ("decoder", "codec", "pylibjpeg", "transfer syntax", "plugin", "decompress")


def advise(exc: BaseException) -> Advice:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, MissingPartError):
        return Advice(
            "Not built yet",
            reason,
            "This part of BUS Studio is still being built; everything else keeps working. "
            "Update the application when that part is released.",
            True,
        )
    if isinstance(exc, DicomError):
        if any(w in reason.lower() for w in _CODEC_WORDS):
            todo = (
                "The image is compressed with a codec that is not installed. Install the pylibjpeg "
                "plugins (pylibjpeg-libjpeg, pylibjpeg-openjpeg, pylibjpeg-rle) or convert the file "
                "to uncompressed DICOM."
            )
        else:
            todo = "Check that the file is a complete DICOM image (not a DICOMDIR or a report) and try another file."
        return Advice("Cannot read the DICOM file", reason, todo, True)
    if isinstance(exc, ModelError):
        return Advice(
            "Model unavailable",
            reason,
            "Open Settings and choose the folder holding the model (config JSON beside safetensors), "
            "or use the physics draft method, which needs no model.",
            True,
        )
    if isinstance(exc, DataError):
        return Advice(
            "Data problem", reason, "Check the data root in Settings and the file named above.", True
        )
    if isinstance(exc, InputError):
        return Advice("Cannot use this input", reason, "Correct the value named above and try again.", True)
    if isinstance(exc, BusError):
        return Advice("BUS Studio", reason, "Correct the problem named above and try again.", True)
    if isinstance(exc, MemoryError):
        return Advice(
            "Out of memory",
            "The computer ran out of memory during this operation.",
            "Close other programs, generate fewer variants or fewer steps, or use a smaller image.",
            True,
        )
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return Advice("File problem", reason, "Check the path and that you may read (or write) it.", True)
    return Advice(
        "Unexpected error",
        f"{type(exc).__name__}: {reason}",
        "Your work is still open; save the session. The details are in the log file; please report them.",
        False,
    )
