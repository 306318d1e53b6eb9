"""bus-engine annotate: click-to-segment one frame, or carry a contour through a cine loop."""

from __future__ import annotations

import argparse

NAME = "annotate"
HELP = (
    "assisted annotation: 'segment' a lesion from a click or box, 'propagate' a contour through a cine loop"
)


def _prompt_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--click", type=float, nargs=2, metavar=("X", "Y"), help="a click on the lesion (pixels)"
    )
    where.add_argument(
        "--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), help="a box around the lesion"
    )
    p.add_argument("--frame", type=int, default=0, help="frame index, from 0 (default 0)")
    p.add_argument(
        "--classical",
        action="store_true",
        help="use the classical method (GrabCut) even when a segmenter exists",
    )
    p.add_argument(
        "--model",
        help="click segmenter folder (default: BUS_MODEL_DIR/segmenter or resources/models/segmenter)",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    seg = sub.add_parser("segment", help="one click or box -> an editable contour (JSON)")
    seg.add_argument("file", help="a DICOM, PNG or JPEG file")
    _prompt_arguments(seg)
    seg.add_argument("--out", help="write the contour JSON here (default: print it)")
    seg.add_argument("--png", help="also write the frame with the contour drawn on it")
    prop = sub.add_parser(
        "propagate", help="segment (or read) a contour on one frame and carry it through the loop"
    )
    prop.add_argument("file", help="a multi-frame DICOM file")
    _prompt_arguments(prop)
    prop.add_argument("--steps", type=int, help="at most this many frames each way (default: the whole loop)")
    prop.add_argument(
        "--snap",
        type=float,
        default=0.0,
        help="snap tolerance in pixels after each flow step (default 0: off)",
    )
    prop.add_argument(
        "--out", required=True, help="write the track JSON (one contour and method per frame) here"
    )


def _frame_gray(study, index: int):
    from engine.errors import InputError

    if not 0 <= index < study.n_frames:
        raise InputError(f"frame {index} is outside 0..{study.n_frames - 1}")
    return study.frame(index).gray


def _segment(args, gray):
    from pathlib import Path

    from engine.annotation.click_segment import segment
    from engine.annotation.segmenter import load_segmenter, try_load_segmenter

    if args.classical:
        segmenter = None
    elif args.model:
        segmenter = load_segmenter(Path(args.model))
    else:
        segmenter = try_load_segmenter()
    result = segment(gray, click=args.click, box=args.box, segmenter=segmenter)
    note = (
        "" if segmenter is not None or args.classical else " (no click segmenter found: classical fallback)"
    )
    print(f"{result.method}{note}: {len(result.contour)} points, {result.seconds * 1000:.0f} ms")
    return result


def _write_json(path: str, doc: dict) -> None:
    import json

    from engine.fileio import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode())


def run(args: argparse.Namespace) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="pydicom")
    from engine.dicom import open_study

    study = open_study(args.file)
    gray = _frame_gray(study, args.frame)
    result = _segment(args, gray)
    if args.action == "segment":
        doc = {"frame": args.frame, "method": result.method, "contour": result.contour.to_dict()}
        if args.out:
            _write_json(args.out, doc)
            print(f"wrote {args.out}")
        else:
            import json

            print(json.dumps(doc))
        if args.png:
            _write_overlay(args.png, gray, result.contour)
            print(f"wrote {args.png}")
        return 0
    from engine.annotation.propagate import Track, timed_propagate

    track = Track(study.n_frames)
    track.set_manual(args.frame, result.contour)
    track.entries[args.frame].method = result.method

    def frame_at(i):
        return study.frame(i).gray

    forward, t_fwd = timed_propagate(track, frame_at, args.frame, 1, args.steps, args.snap)
    backward, t_bwd = timed_propagate(track, frame_at, args.frame, -1, args.steps, args.snap)
    n = len(forward) + len(backward)
    per = (t_fwd * len(forward) + t_bwd * len(backward)) / max(n, 1)
    _write_json(args.out, track.to_dict())
    print(f"propagated to {n} frames ({per * 1000:.1f} ms per frame); wrote {args.out}")
    return 0


def _write_overlay(path: str, gray, contour) -> None:
    import cv2
    import numpy as np

    from engine.errors import InputError
    from engine.fileio import atomic_write_bytes

    image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    poly = np.round(contour.dense(1.0)).astype(np.int32)
    cv2.polylines(image, [poly], True, (0, 220, 255), 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise InputError(f"could not encode {path} as PNG")
    atomic_write_bytes(path, buf.tobytes())
