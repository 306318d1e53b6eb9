"""bus-engine adapt-figures: domain shift measured, a BUSI-only model adapted on 10/30/100 BrEaST images."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.adapt import PRESERVE_GUIDANCE
from engine.cli.generator_options import add_sampling_options, realism_classifier

NAME = "adapt-figures"
HELP = (
    "adapt a BUSI-only generator on nested subsets of BrEaST training images and measure realism AUC, "
    "FID/KID and mask/attribute adherence on held-out BrEaST lesions before and after (table + plots)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", type=Path, required=True, help="the BUSI-only model folder")
    p.add_argument(
        "--reference", type=Path, default=None, help="the model trained on BrEaST's training split"
    )
    p.add_argument(
        "--joint",
        type=Path,
        default=None,
        help="optional extra row: a model trained on BUSI + BrEaST's training split",
    )
    p.add_argument(
        "--out", type=Path, required=True, help="folder for adapters, table.md, figures.json, plots"
    )
    p.add_argument(
        "--split",
        type=Path,
        default=None,
        help="the split both models were trained on (default: resources/models/default/split.json)",
    )
    p.add_argument("--sizes", default="10,30,100", help="BrEaST training images per adapter")
    p.add_argument("--steps", type=int, default=300, help="adapter training steps (the same for every size)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--targets", choices=("all", "no-cross-attention"), default="all")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--preserve-guidance",
        type=float,
        default=PRESERVE_GUIDANCE,
        help="the adapters' guidance-drift penalty (bus-engine adapt --preserve-guidance)",
    )
    p.add_argument(
        "--full-steps",
        type=int,
        default=600,
        help="steps of the full fine-tune of the base on all BrEaST training images (0: none)",
    )
    p.add_argument("--full-lr", type=float, default=1e-4)
    p.add_argument(
        "--held-out", choices=["validation+test", "test"], default="validation+test",
        help="held-out BrEaST lesions (the test part alone has about 24)",
    )  # fmt: skip
    p.add_argument("--limit", type=int, default=None, help="only the first N held-out lesions (quick run)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    add_sampling_options(p, steps_flag="--sample-steps")
    p.add_argument("--epochs", type=int, default=None, help="realism classifier epochs (default: 20)")
    p.add_argument("--describe-model", choices=["refit", "bundled"], default="refit")
    p.add_argument("--data", type=Path, default=None, help="data root holding bus/ (default: BUS_DATA_ROOT)")


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from engine.adapt.figures import AdaptFigureSettings, run_adapt_figures, write_report
    from engine.errors import InputError
    from engine.settings import RESOURCES, get_settings

    try:
        sizes = tuple(sorted(int(n) for n in args.sizes.split(",") if n.strip()))
    except ValueError as exc:
        raise InputError(f"--sizes {args.sizes!r} must be integers separated by commas") from exc
    if not sizes or min(sizes) < 1:
        raise InputError(f"--sizes {args.sizes!r}: at least one subset of 1 or more images")
    settings = AdaptFigureSettings(
        base=args.base,
        reference=args.reference,
        joint=args.joint,
        data_root=args.data or get_settings().data_root,
        out=args.out,
        split=args.split or RESOURCES / "models" / "default" / "split.json",
        sizes=sizes,
        steps=args.steps,
        batch=args.batch,
        rank=args.rank,
        targets=args.targets,
        lr=args.lr,
        preserve_guidance=args.preserve_guidance,
        full_steps=args.full_steps,
        full_lr=args.full_lr,
        eval_splits=("test",) if args.held_out == "test" else ("validation", "test"),
        limit=args.limit,
        seed=args.seed,
        threads=args.threads,
        sample_steps=args.sample_steps,
        guidance=args.guidance,
        strength=args.strength,
        native_detail=not args.no_native_detail,
        classifier=realism_classifier(args.epochs),
        describe_model=args.describe_model,
    )
    results = run_adapt_figures(settings, log=lambda *a, **k: print(*a, flush=True))
    command = "bus-engine " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    for path in write_report(results, args.out, command):
        print(f"wrote {path}")
    return 0
