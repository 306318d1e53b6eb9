"""bus-engine describe: measure a lesion's BI-RADS attributes from an image and its mask."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "describe"
HELP = "measure shape, orientation, margin, echo pattern, posterior features and size from IMAGE and MASK"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", type=Path, help="grayscale or colour image (PNG, JPEG, ...)")
    p.add_argument("mask", type=Path, help="lesion mask of the same size (non-zero = lesion)")
    p.add_argument("--mm-per-pixel", type=float, default=None, help="pixel size; sizes in mm need it")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from engine.datasets.images import read_gray, read_mask
    from engine.errors import InputError
    from engine.language.measure import measure
    from engine.language.sentence import canonical_sentence

    image = read_gray(args.image)
    mask = read_mask(args.mask)
    if mask.shape != image.shape:
        raise InputError(
            f"{args.mask}: mask size {mask.shape[::-1]} differs from the image {image.shape[::-1]}"
        )
    desc, confidences = measure(image, mask, args.mm_per_pixel)
    if args.json:
        out = {
            "description": desc.to_dict(),
            "sentence": canonical_sentence(desc),
            "confidences": confidences,
        }
        print(json.dumps(out, indent=2))
        return 0
    print(canonical_sentence(desc))
    for name, value in sorted(confidences.items()):
        print(f"  confidence {name:22s} {value:.2f}")
    return 0
