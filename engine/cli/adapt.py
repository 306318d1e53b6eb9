"""bus-engine adapt: fine-tune a LoRA adapter of the generator on a site's own images (CPU, resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.adapt import PRESERVE_GUIDANCE

NAME = "adapt"
HELP = (
    "adapt the generator to a site's scanner: LoRA fine-tuning on local DICOM studies or a dataset "
    "folder (masks optional); saves only the adapter, bound to the base model's hash"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=None, help="base model folder (default: BUS_MODEL_DIR)")
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="a dataset folder (BUSI, BrEaST, BUS-BRA, UDIAT, or images/ masks/ labels.csv), a DICOM "
        "study, or a folder of DICOM studies / images (no masks: context objective only)",
    )
    p.add_argument("--out", type=Path, required=True, help="adapter folder (also log.csv, checkpoint.pt)")
    p.add_argument("--rank", type=int, default=8, help="LoRA rank")
    p.add_argument("--alpha", type=float, default=None, help="LoRA alpha (default: the rank)")
    p.add_argument(
        "--targets",
        choices=("all", "no-cross-attention", "full"),
        default="all",
        help="layers adapted: all attention, ResNet and transformer projections, or all but the "
        "cross-attention through which the description enters; 'full' trains every denoiser weight "
        "and saves a whole model folder instead of an adapter",
    )
    p.add_argument(
        "--preserve-guidance",
        type=float,
        default=PRESERVE_GUIDANCE,
        help="weight of the penalty on changing how the description steers the lesion (0: the adapter "
        "may relearn it from the site's own descriptions; default %(default)s)",
    )
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--format",
        default=None,
        choices=("busi", "breast", "busbra", "udiat", "folder", "dicom"),
        help="data layout (default: detected; a folder no dataset adapter knows is read as studies)",
    )
    p.add_argument(
        "--subset",
        type=Path,
        default=None,
        help="a JSON list (or one id a line) of case ids 'dataset/case' or sample ids to use",
    )
    p.add_argument("--frames", type=int, default=4, help="frames taken from each multi-frame study")
    p.add_argument(
        "--context-fraction",
        type=float,
        default=0.25,
        help="share of context windows in a batch when the data has masks",
    )
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")


def read_subset(path: Path) -> tuple[str, ...]:
    import json

    from engine.errors import InputError

    if not path.is_file():
        raise InputError(f"--subset {path} does not exist")
    text = path.read_text()
    try:
        ids = json.loads(text)
    except json.JSONDecodeError:
        ids = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InputError(f"--subset {path}: expected a non-empty list of case or sample ids")
    return tuple(ids)


def run(args: argparse.Namespace) -> int:
    from engine.adapt.train import AdaptConfig, adapt
    from engine.errors import InputError
    from engine.settings import get_settings

    if not 0.0 <= args.context_fraction <= 1.0:
        raise InputError(f"--context-fraction {args.context_fraction} must be between 0 and 1")
    cfg = AdaptConfig(
        model=args.model or get_settings().model_dir,
        data=args.data,
        out=args.out,
        rank=args.rank,
        alpha=args.alpha,
        targets=args.targets,
        preserve_guidance=args.preserve_guidance,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        context_fraction=args.context_fraction,
        frames_per_study=args.frames,
        save_every=args.save_every,
        log_every=args.log_every,
        resume=args.resume,
        threads=args.threads,
        format=args.format,
        keep=read_subset(args.subset) if args.subset else None,
    )
    summary = adapt(cfg, log=lambda msg: print(msg, flush=True))
    if args.targets == "full":
        print(f"model: {args.out}; use it: bus-engine synthesize --model {args.out} ...")
        return 0
    size = (args.out / "adapter_model.safetensors").stat().st_size
    print(
        f"adapter: {args.out}  {summary['trainable_parameters']} trainable parameters, "
        f"{size / 1e6:.2f} MB; use it: bus-engine synthesize --adapter {args.out}[:STRENGTH] ..."
    )
    return 0
