"""bus-engine datasets inspect PATH: what a dataset holds and what its adapter skipped, and why."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

NAME = "datasets"
HELP = "inspect a public or local dataset (BUSI, BrEaST, BUS-BRA, UDIAT or a generic folder)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    inspect = sub.add_parser(
        "inspect", help="count images, lesions, classes, patients; list what was skipped"
    )
    inspect.add_argument("path", type=Path)
    inspect.add_argument(
        "--format",
        choices=("busi", "breast", "busbra", "udiat", "folder"),
        default=None,
        help="dataset format (default: detected from the layout)",
    )
    inspect.add_argument("--json", action="store_true")


def summarize(index) -> dict:
    return {
        "format": index.name,
        "root": str(index.root),
        "images": len(index.cases),
        "lesions": sum(len(c.mask_paths) for c in index.cases),
        "classes": dict(sorted(Counter(c.label for c in index.cases).items())),
        "patients": len({c.patient_id for c in index.cases}),
        "with_pixel_size": sum(c.mm_per_pixel is not None for c in index.cases),
        "with_radiologist_labels": sum(c.description is not None for c in index.cases),
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in index.skipped],
    }


def run(args: argparse.Namespace) -> int:
    from engine.datasets import load_dataset

    summary = summarize(load_dataset(args.path, args.format))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for key in (
        "format",
        "root",
        "images",
        "lesions",
        "classes",
        "patients",
        "with_pixel_size",
        "with_radiologist_labels",
    ):
        print(f"{key:24s} {summary[key]}")
    print(f"{'skipped':24s} {len(summary['skipped'])}")
    for s in summary["skipped"]:
        print(f"  {s['path']}: {s['reason']}")
    return 0
