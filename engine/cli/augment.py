"""bus-engine augment: K synthetic lesions into every image of a dataset, over W worker processes."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "augment"
HELP = "batch synthesis: K synthetic lesions per image of a dataset, sharded over workers, resumable"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset", type=Path, required=True, help="BUSI, BrEaST, BUS-BRA, UDIAT or folder dataset"
    )
    p.add_argument("--format", default=None, help="dataset format (default: detected from the layout)")
    p.add_argument("--n-per-image", type=int, default=1, help="synthetic lesions per source image (K)")
    p.add_argument("--out", type=Path, required=True, help="output folder (run again to resume)")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes (each gets its share of the cores)"
    )
    p.add_argument(
        "--gpus", default="", help="comma-separated CUDA devices; worker w uses gpus[w %% len] (e.g. 0,1)"
    )
    p.add_argument("--method", choices=("diffusion", "physics"), default="diffusion")
    p.add_argument("--model", type=Path, default=None, help="model directory (default: BUS_MODEL_DIR)")
    p.add_argument("--steps", type=int, default=None, help="diffusion steps (default: the pipeline's)")
    p.add_argument("--sampler", choices=("dpm++", "unipc", "ddim", "euler"), default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-side", type=int, default=0, help="reduce frames to at most this side (0: keep)")
    p.add_argument("--limit", type=int, default=None, help="only the first N source images")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from engine.augment import AugmentConfig, run_augment
    from engine.augment.progress import Progress

    options = {k: v for k, v in (("steps", args.steps), ("sampler", args.sampler)) if v is not None}
    cfg = AugmentConfig(
        dataset=args.dataset,
        out_dir=args.out,
        n_per_image=args.n_per_image,
        workers=args.workers,
        method=args.method,
        model_dir=args.model,
        seed=args.seed,
        fmt=args.format,
        max_side=args.max_side,
        limit=args.limit,
        diffusion_options=options,
        gpus=tuple(g for g in args.gpus.split(",") if g.strip()),
    )
    summary = run_augment(cfg, progress=None if args.quiet else Progress(0))
    print(
        f"augment: {summary['written']} image(s) in {args.out} ({summary['resumed']} from an earlier run), "
        f"{summary['skipped']} skipped; manifest {summary['manifest']}"
    )
    return 0 if summary["missing"] == 0 else 1
