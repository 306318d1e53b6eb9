"""bus-engine generator-figures: the tumor generator's five figures on its model's held-out lesions."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.generator_options import add_sampling_options, realism_classifier

NAME = "generator-figures"
HELP = (
    "measure a generator model on its held-out lesions: realism AUC, mask and attribute adherence, "
    "FID/KID, speed, each beside the physics draft; write figures.md, figures.json and PNG plots"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", type=Path, default=None, help="model folder with split.json (default: BUS_MODEL_DIR)"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="folder for figures.md, figures.json and the plots"
    )
    p.add_argument("--limit", type=int, default=None, help="only the first N held-out lesions (quick run)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine)")
    p.add_argument(
        "--split", choices=["validation+test", "test"], default="validation+test",
        help="held-out lesions: the test split alone is small (default: validation + test)",
    )  # fmt: skip
    add_sampling_options(p)
    p.add_argument(
        "--describe-model", choices=["refit", "bundled"], default="refit",
        help="attribute measurement for figure 3: refit without the held-out patients (out-of-sample, "
        "about a minute) or the bundled model (fitted on all of BrEaST)",
    )  # fmt: skip
    p.add_argument("--epochs", type=int, default=None, help="realism classifier epochs (default: 20)")
    p.add_argument("--speed-lesions", type=int, default=5, help="lesions timed in the full and preview modes")
    p.add_argument(
        "--inception",
        type=Path,
        default=None,
        help="Inception v3 weights: a torchvision inception_v3 state dict (torch.save); standard FID too",
    )
    p.add_argument(
        "--segmenter", type=Path, default=None, help="segmenter folder (default: MODEL/segmenter or bundled)"
    )
    p.add_argument("--data", type=Path, default=None, help="data root holding bus/ (default: BUS_DATA_ROOT)")


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from engine.errors import InputError
    from engine.generator.figure_report import write_report
    from engine.generator.figures import FigureSettings, run_figures
    from engine.settings import get_settings

    if args.limit is not None and args.limit < 4:
        raise InputError(f"--limit {args.limit}: the figures need at least 4 lesions")
    if args.threads < 1:
        raise InputError(f"--threads {args.threads} must be at least 1")
    settings = get_settings()
    figure_settings = FigureSettings(
        model_dir=args.model or settings.model_dir,
        data_root=args.data or settings.data_root,
        splits=("test",) if args.split == "test" else ("validation", "test"),
        limit=args.limit,
        seed=args.seed,
        threads=args.threads,
        steps=args.steps,
        guidance=args.guidance,
        strength=args.strength,
        native_detail=not args.no_native_detail,
        classifier=realism_classifier(args.epochs),
        describe_model=args.describe_model,
        inception=args.inception,
        segmenter_dir=args.segmenter,
        speed_lesions=max(args.speed_lesions, 1),
    )
    results = run_figures(figure_settings, log=print)
    command = "bus-engine " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    for path in write_report(results, args.out, command):
        print(f"wrote {path}")
    return 0
