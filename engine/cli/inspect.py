"""bus-engine inspect: what each DICOM file holds and whether its pixels decode."""

from __future__ import annotations

import argparse

NAME = "inspect"
HELP = (
    "report transfer syntax, photometric, size, frames, ultrasound regions (mm per pixel), "
    "manufacturer and whether pixels decode, for a DICOM file or a folder"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a DICOM file or a folder (searched recursively)")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--decode",
        dest="decode",
        action="store_true",
        default=None,
        help="decode pixels of every file (default: only for a single file)",
    )
    g.add_argument(
        "--no-decode", dest="decode", action="store_false", help="check headers only, never decode pixels"
    )


def run(args: argparse.Namespace) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="pydicom")  # odd values are reported, not warned about
    import json
    import sys

    from engine.dicom.inspect import format_row, inspect_path

    rows = inspect_path(args.path, decode=args.decode)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(format_row(row), file=sys.stdout if row["ok"] else sys.stderr)
    if not rows:
        print(f"bus-engine inspect: error: no DICOM files under {args.path}", file=sys.stderr)
        return 1
    return 0 if all(r["ok"] for r in rows) else 1
