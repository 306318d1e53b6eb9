"""bus-engine export-frame: write one display frame of a study as PNG."""

from __future__ import annotations

import argparse

NAME = "export-frame"
HELP = "write the display frame N of a DICOM (or PNG/JPEG) study as PNG (8-bit gray, or --color)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a DICOM, PNG or JPEG file")
    p.add_argument("--frame", type=int, default=0, help="frame index, from 0 (default 0)")
    p.add_argument("--out", required=True, help="output PNG path")
    p.add_argument("--color", action="store_true", help="write the colour frame when the study has one")


def run(args: argparse.Namespace) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="pydicom")  # odd values are reported, not warned about
    import cv2

    from engine.dicom import open_study
    from engine.dicom.fileio import atomic_write_bytes
    from engine.errors import InputError

    study = open_study(args.file)
    frame = study.frame(args.frame)
    image = frame.gray
    if args.color and frame.color is not None:
        image = cv2.cvtColor(frame.color, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise InputError(f"could not encode frame {args.frame} as PNG")
    atomic_write_bytes(args.out, buf.tobytes())
    print(f"{args.out}: frame {frame.index} of {study.n_frames}, {image.shape[1]}x{image.shape[0]}")
    return 0
