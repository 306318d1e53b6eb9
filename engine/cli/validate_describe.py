"""bus-engine validate-describe: attribute measurement against BrEaST's radiologists, by grouped CV."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "validate-describe"
HELP = (
    "cross-validate attribute measurement on BrEaST (patient-grouped): balanced accuracy and confusion "
    "matrices as Markdown, CSV and PNG; optionally refit and write the shipped model"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="folder for describe_validation.{md,csv,png}")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="first split seed")
    p.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="repeat the K-fold split with seeds seed..seed+N-1; figures are the mean and range (default 5)",
    )
    p.add_argument("--limit", type=int, default=None, help="use only the first N lesions (quick checks)")
    p.add_argument(
        "--write-model", type=Path, default=None, help="fit on all lesions and write the model JSON"
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import InputError
    from engine.language.validation import breast_samples, cross_validate, fit_final, write_report
    from engine.settings import get_settings

    if args.folds < 2:
        raise InputError(f"--folds {args.folds}: at least 2 folds are needed")
    if args.repeats < 1:
        raise InputError(f"--repeats {args.repeats}: at least 1 repeat is needed")
    breast_dir = get_settings().data_root / "bus" / "BrEaST-Lesions_USG"
    samples = breast_samples(breast_dir, args.limit)
    results = cross_validate(samples, args.folds, args.seed, args.repeats)
    for path in write_report(results, args.out):
        print(f"wrote {path}")
    for r in results:
        target = (
            f"target {r.target:.2f} {'met' if r.balanced_accuracy >= r.target else 'NOT met'}"
            if r.target
            else ""
        )
        print(
            f"{r.task:24s} balanced accuracy {r.balanced_accuracy:.3f} "
            f"(range {min(r.per_repeat):.3f}-{max(r.per_repeat):.3f})  chance {r.chance:.3f}  n={r.n}  {target}"
        )
    if args.write_model:
        model = fit_final(samples, args.seed, {"data": "BrEaST-Lesions_USG", "seed": args.seed})
        model.save(args.write_model)
        print(f"wrote {args.write_model}")
    return 0
