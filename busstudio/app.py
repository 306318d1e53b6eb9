"""`busstudio`: start the desktop app."""

from __future__ import annotations

import argparse
import sys

from engine import __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="busstudio", description="BUS Studio: breast ultrasound annotation and tumor synthesis"
    )
    p.add_argument("--version", action="version", version=f"busstudio {__version__}")
    p.add_argument("path", nargs="?", help="DICOM file, folder or PNG/JPEG to open")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the main window at 1280x800, save, exit")
    p.add_argument("--frame", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine.errors import BusError
    from engine.parts import require

    try:
        window = require(
            "busstudio.main_window",
            "the desktop app's main window (busstudio.main_window)",
            "BUS Studio, the desktop app",
        )
    except BusError as exc:
        print(f"busstudio: error: {exc}", file=sys.stderr)
        return 1
    return window.run(args)


if __name__ == "__main__":
    sys.exit(main())
