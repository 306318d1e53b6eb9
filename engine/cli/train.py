"""bus-engine train: train the tumor generator (BUSI + BrEaST lesion windows) and save its EMA model."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "train"
HELP = "train the tumor generator on BUSI + BrEaST and save the EMA model (resumable; DDP under torchrun)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None, help="data root holding bus/ (default: BUS_DATA_ROOT)")
    p.add_argument("--out", type=Path, required=True, help="run folder: split, log, checkpoint, model/")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--export",
        action="store_true",
        help="do not train: save the EMA weights of OUT/checkpoint.pt as OUT/model (for a stopped run)",
    )
    p.add_argument("--cache", type=Path, default=None, help="preprocessed windows (.npz, built when absent)")
    p.add_argument("--datasets", default="busi,breast", help="comma-separated: busi, breast")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--minutes", type=float, default=None, help="stop and save after this wall time")
    p.add_argument("--batch", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ema-decay", type=float, default=0.999, help="EMA decay (0.995 suits short runs)")
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument(
        "--split",
        type=Path,
        default=None,
        help="reuse a saved split.json (e.g. resources/models/default/split.json); without it the split "
        "is made from a hash of each patient group, the same for the same data",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument("--widths", default="32,64,96", help="UNet block widths, e.g. 32,64,96")
    p.add_argument("--size", type=int, default=64, help="model grid side in pixels (window resampled to it)")
    p.add_argument(
        "--patch",
        type=int,
        default=2,
        help="pixel-unshuffle factor: the UNet runs on a (size/patch)^2 grid (64/2 and 128/4 cost the same)",
    )
    p.add_argument(
        "--train-datasets",
        default=None,
        help="fit on these datasets' part of the split only (comma-separated, e.g. busi)",
    )
    p.add_argument("--gain-jitter", type=float, default=0.2, help="random gain 1 +- this on half the windows")


def run(args: argparse.Namespace) -> int:
    from engine.errors import InputError
    from engine.generator.train import TrainConfig, train
    from engine.generator.unet import DenoiserConfig
    from engine.settings import get_settings

    if args.export:
        from engine.generator.train import export_checkpoint

        print(f"model: {export_checkpoint(args.out)}")
        return 0
    try:
        widths = tuple(int(w) for w in args.widths.split(","))
    except ValueError as exc:
        raise InputError(f"--widths {args.widths!r} must be integers separated by commas") from exc
    if args.size % args.patch or (args.size // args.patch) % 2 ** (len(widths) - 1):
        raise InputError(
            f"--size {args.size} must be a multiple of --patch {args.patch}, and size/patch a "
            f"multiple of {2 ** (len(widths) - 1)} for {len(widths)} UNet levels"
        )
    cfg = TrainConfig(
        out=args.out,
        data_root=args.data or get_settings().data_root,
        cache=args.cache,
        datasets=tuple(d.strip() for d in args.datasets.split(",") if d.strip()),
        steps=args.steps,
        minutes=args.minutes,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        ema_decay=args.ema_decay,
        save_every=args.save_every,
        val_every=args.val_every,
        log_every=args.log_every,
        resume=args.resume,
        threads=args.threads,
        split=args.split,
        train_datasets=(
            tuple(d.strip() for d in args.train_datasets.split(",") if d.strip())
            if args.train_datasets
            else None
        ),
        gain_jitter=args.gain_jitter,
        denoiser=DenoiserConfig(
            size=args.size,
            patch=args.patch,
            block_out_channels=widths,
            norm_num_groups=min(16, min(widths)),
        ),
    )
    summary = train(cfg, log=lambda msg: print(msg, flush=True))
    if summary:
        print(
            f"model: {args.out / 'model'}  steps: {summary['steps']}  val loss (EMA): {summary['final_val_loss_ema']}"
        )
    return 0
