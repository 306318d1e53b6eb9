"""Run dicom3tools' dciodvfy on a written file; return the findings that are not accepted.

Accepted findings are listed here with their reason; anything else is a defect of the writer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# dicom3tools 1.00~20220618 (Debian bookworm) predates Synthetic Data (0008,001C), added to the
# standard by CP-2040 in 2021, so it reports that standard attribute as unknown. Newer dciodvfy
# releases know it. We keep the attribute: marking synthetic images is the point of the product.
# The "not present in standard DICOM IOD" warning is the same finding (its summary line).
ACCEPTED_ERRORS = ("(0x0008,0x001c)",)
#
# Laterality (0020,0060) is Type 2C for a paired body part and "is only permitted to be empty when
# actually unknown": when neither the source nor the user says which breast, the writer leaves it
# empty, truthfully, and dciodvfy warns that emptiness is allowed only in that case (it is that case;
# inventing L or R would be false, and Image Laterality U would claim an unpaired body part).
LATERALITY_UNKNOWN = "have a value if a paired body part - attribute <Laterality>"
ACCEPTED_WARNINGS = (
    "(0x0008,0x001c)",
    "Dicom dataset contains attributes not present in standard DICOM IOD",
    LATERALITY_UNKNOWN,
)


def dciodvfy_path() -> str | None:
    return shutil.which("dciodvfy")


def dciodvfy(path: str | Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) that dciodvfy reports for `path`, less the accepted ones.

    Raises FileNotFoundError when dciodvfy (Debian package dicom3tools) is not installed.
    """
    exe = dciodvfy_path()
    if not exe:
        raise FileNotFoundError("dciodvfy (Debian package dicom3tools) is not installed")
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    lines = (out.stdout + out.stderr).splitlines()
    errors = [ln for ln in lines if ln.startswith("Error") and not any(a in ln for a in ACCEPTED_ERRORS)]
    warnings = [
        ln for ln in lines if ln.startswith("Warning") and not any(a in ln for a in ACCEPTED_WARNINGS)
    ]
    return errors, warnings
