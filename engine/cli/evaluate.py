"""bus-engine evaluate: do synthetic tumors help downstream segmentation and classification?"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

NAME = "evaluate"
HELP = (
    "train a UNet and a benign/malignant CNN on real, real+synthetic and synthetic images over several "
    "seeds; test in-domain and on other datasets; write a report folder"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--train", required=True, help="training dataset: a folder, or busi, breast, busbra, udiat"
    )
    p.add_argument(
        "--test",
        nargs="*",
        default=[],
        metavar="DATASET",
        help="further test datasets (the training dataset's held-out patients are always tested)",
    )
    p.add_argument(
        "--synthetic",
        type=int,
        default=None,
        metavar="N",
        help="synthetic images for arms (b) real+synthetic and (c) synthetic (default: the protocol's, "
        "reduced 200, full 1000; 0: arm (a) only)",
    )
    p.add_argument("--seeds", type=int, default=3, help="training seeds per arm (default 3)")
    p.add_argument(
        "--protocol",
        choices=("reduced", "full"),
        default="reduced",
        help="reduced: 64 px, small models, few epochs, for 2 CPU cores; full: 256 px, for a GPU",
    )
    p.add_argument(
        "--generator",
        choices=("diffusion", "physics"),
        default="diffusion",
        help="diffusion (default): the model in --model-dir (BUS_MODEL_DIR); physics: the physics draft",
    )
    p.add_argument("--model-dir", type=Path, default=None)
    p.add_argument(
        "--synthetic-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of cached synthetic sets, keyed by generator, model, options, canvases and seed "
        "(default: $XDG_CACHE_HOME/bus-studio/synthetic)",
    )
    p.add_argument(
        "--no-synthetic-cache", action="store_true", help="make the synthetic set anew and keep no copy"
    )
    p.add_argument(
        "--canvases",
        default=None,
        help="dataset whose lesion-free (normal) frames receive synthetic tumors (default: --train)",
    )
    p.add_argument(
        "--canvas-px",
        type=int,
        default=None,
        help="canvases are scaled down to this longer side before synthesis (reduced 256, full 512); "
        "use the real frames' size (e.g. 1024) for a reader study, so resolution gives nothing away",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs")
    p.add_argument("--size", type=int, default=None, help="override the protocol's image size (px)")
    p.add_argument("--limit", type=int, default=None, help="at most N images per dataset (dry runs)")
    p.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples (default 1000)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's own; 1 is faster on a machine busy with other jobs)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where the models train and the diffusion generator runs (auto: a GPU where torch sees one)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--out", type=Path, required=True, help="report folder")


def run(args: argparse.Namespace) -> int:
    if args.threads is not None:
        import torch

        from engine.errors import InputError

        if args.threads < 1:
            raise InputError(f"--threads {args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    from engine.evaluation.protocol import EvaluationConfig
    from engine.evaluation.runner import run_evaluation
    from engine.evaluation.synthetic_cache import cache_root

    cache = None if args.no_synthetic_cache else (args.synthetic_cache or cache_root())

    cfg = EvaluationConfig.for_protocol(
        args.protocol,
        train=args.train,
        test=list(args.test),
        out=args.out,
        synthetic=args.synthetic,
        synthetic_cache=cache,
        seeds=args.seeds,
        generator=args.generator,
        model_dir=args.model_dir,
        canvases=args.canvases,
        limit=args.limit,
        epochs=args.epochs,
        canvas_px=args.canvas_px,
        size=args.size,
        bootstrap=args.bootstrap,
        device=args.device,
    )
    # flushed: a long run's log lines should reach a redirected file as they happen
    run_evaluation(cfg, log=functools.partial(print, flush=True), progress=not args.no_progress)
    print(args.out / "report.md")
    return 0
