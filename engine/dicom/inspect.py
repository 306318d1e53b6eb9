"""What `bus-engine inspect` reports for a file or a folder, as plain dicts (JSON-ready)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import DicomError

DICOM_SUFFIXES = {".dcm", ".dicom", ".dic", ""}


def _looks_like_dicom(path: Path) -> bool:
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with path.open("rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def list_files(folder: Path) -> list[Path]:
    """DICOM candidates in a folder tree: .dcm/.dicom/no suffix, or anything with the DICM preamble."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            p = Path(root) / name
            if not name.startswith(".") and _looks_like_dicom(p):
                out.append(p)
    return out


def inspect_file(path: str | os.PathLike, *, decode: bool = True) -> dict:
    """One file's summary; `ok` False with `error` (one line) when it is unusable.

    decode=True decodes the first frame (and the last of a loop) to say whether pixels decode;
    decode=False checks headers, sizes and codec availability only (pixel data stays on disk).
    """
    from engine.dicom.reader import open_study

    path = Path(path)
    try:
        study = open_study(path)
        row = {"ok": True, **study.summary()}
        if decode:
            study.frame(0)
            if study.n_frames > 1:
                study.frame(study.n_frames - 1)
            row["decodes"] = True
        else:
            row["decodes"] = None  # not checked: codec present and sizes consistent
        return row
    except DicomError as exc:
        return {"ok": False, "file": str(path), "error": str(exc), "tag": exc.tag, "reason": exc.reason}


def inspect_path(path: str | os.PathLike, *, decode: bool | None = None) -> list[dict]:
    """A file (decoded by default) or a folder (headers only by default, so 1,000 files scan fast)."""
    path = Path(path)
    if path.is_dir():
        return [inspect_file(p, decode=bool(decode)) for p in list_files(path)]
    return [inspect_file(path, decode=True if decode is None else decode)]


def format_row(row: dict) -> str:
    if not row["ok"]:
        return f"{row['file']}: error: {row['error'].removeprefix(row['file'] + ': ').removeprefix(row['file'] + ' ')}"
    regions = "; ".join(
        f"{r['spatial_format']} {r['units'][0]}/{r['units'][1]}"
        + (f" {r['mm_per_pixel'][0]:.4f}x{r['mm_per_pixel'][1]:.4f} mm/px" if r["mm_per_pixel"] else "")
        for r in row["regions"]
    )
    decodes = {True: "yes", None: "not checked"}[row["decodes"]]
    return (
        f"{row['file']}: {row['transfer_syntax_name']} {row['photometric']} "
        f"{row['rows']}x{row['columns']}x{row['frames']} regions [{regions or 'none'}] "
        f"{row['manufacturer'] or '?'} decodes: {decodes}"
    )
