"""bus-engine reader-study: make a blinded visual Turing test, and summarize readers' answers."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "reader-study"
HELP = "make a blinded real-vs-synthetic reader study, or summarize readers' answer CSVs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    make = sub.add_parser("make", help="draw a balanced, seeded, blinded set of real and synthetic images")
    make.add_argument(
        "--real", required=True, help="dataset of real images: a folder, or busi, breast, busbra, udiat"
    )
    make.add_argument(
        "--synthetic",
        required=True,
        help="dataset of synthetic images, e.g. the synthetic/ folder an evaluation wrote",
    )
    make.add_argument("--per-class", type=int, default=50, help="images of each kind (default 50)")
    make.add_argument(
        "--mode",
        choices=("window", "full"),
        default="window",
        help="window: a square around the lesion; full: the whole frame",
    )
    make.add_argument("--size", type=int, default=256, help="side of every shown image in pixels")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--out", type=Path, required=True, help="new study folder")
    summ = sub.add_parser("summarize", help="accuracy, sensitivity, specificity, kappa, plot")
    summ.add_argument("csv", nargs="+", type=Path, help="response CSVs (STUDY/responses/READER.csv)")
    summ.add_argument(
        "--key", type=Path, default=None, help="answer key (default: STUDY-key.json beside the study folder)"
    )
    summ.add_argument(
        "--out", type=Path, default=None, help="write summary.md, summary.json, summary.png here"
    )


def run(args: argparse.Namespace) -> int:
    from engine.evaluation import reader_study

    if args.action == "make":
        from engine.evaluation.runner import resolve_dataset

        real = resolve_dataset(args.real).lesion_cases()
        synthetic = resolve_dataset(args.synthetic).lesion_cases()
        out = reader_study.make_study(
            real, synthetic, args.out, args.per_class, args.seed, args.mode, args.size
        )
        print(
            f"{out}: {2 * args.per_class} items for the readers; answer key (keep it from them): "
            f"{reader_study.key_path_for(out)}"
        )
        return 0
    summary = reader_study.summarize(args.csv, args.key)
    print(reader_study.summary_markdown(summary))
    if args.out:
        for path in reader_study.write_summary(summary, args.out):
            print(path)
    return 0
