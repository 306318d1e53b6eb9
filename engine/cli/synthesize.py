"""bus-engine synthesize: the main job (study + description -> synthetic tumor study)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.generator_options import add_native_detail_option
from engine.generator import defaults
from engine.settings import BACKENDS, sample_study_path

NAME = "synthesize"
HELP = "synthesize a tumor into a study from a clinical description (default: the bundled sample study)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--input",
        type=Path,
        default=None,
        help="DICOM study or PNG/JPEG image (default: the bundled sample study)",
    )
    p.add_argument("--frame", type=int, default=0, help="frame of a multi-frame study")
    p.add_argument(
        "--all-frames",
        action="store_true",
        help="a multi-frame study: place the tumor on --frame, carry its contour through the loop and "
        "synthesize it on every frame with the same seed (a synthetic image, SEG and SR per frame)",
    )
    p.add_argument(
        "--loop-mode",
        choices=("warped", "per-frame"),
        default="warped",
        help="with --all-frames: 'warped' draws the tumor once in --frame's geometry and warps it with "
        "the tissue (consistent); 'per-frame' draws each frame on its own with its propagated mask",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--mask", type=Path, help="binary PNG mask at the frame's size")
    src.add_argument("--contour", type=Path, help="contour JSON made by the app or `bus-engine masks`")
    src.add_argument(
        "--auto-mask", action="store_true", help="generate the mask from the description (default)"
    )
    p.add_argument(
        "--text", required=True, help='clinical description, e.g. "irregular hypoechoic mass, 12 mm"'
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=defaults.STEPS)
    p.add_argument("--guidance", type=float, default=defaults.GUIDANCE)
    p.add_argument(
        "--strength",
        type=float,
        default=defaults.STRENGTH,
        help="SDEdit strength when starting from the physics draft",
    )
    p.add_argument("--variants", type=int, default=1)
    p.add_argument("--method", choices=("diffusion", "physics"), default="diffusion")
    p.add_argument(
        "--sampler",
        choices=("dpm++", "unipc", "ddim", "euler"),
        default=None,
        help="diffusion sampler (default: the model's, DPM-Solver++)",
    )
    add_native_detail_option(p)
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="default: the BUS_BACKEND setting; onnx-cpu/onnx-cuda run the graphs of `bus-engine export-onnx` "
        "(pass that folder as --model) with onnxruntime and numpy only, no torch needed",
    )
    p.add_argument(
        "--model", type=Path, default=None, help="model directory (default: the BUS_MODEL_DIR setting)"
    )
    p.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="PATH[:STRENGTH]",
        help="a LoRA adapter made by `bus-engine adapt` for this model, fused at STRENGTH (default 1.0); "
        "repeat for several (torch backends; for ONNX export the graphs with the adapter merged)",
    )
    p.add_argument(
        "--keep-identifiers",
        action="store_true",
        help="do not de-identify the written study (for local use only)",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")


def run(args: argparse.Namespace) -> int:
    from engine import workflow
    from engine.errors import InputError
    from engine.settings import get_settings

    settings = get_settings()
    extra = {"sampler": args.sampler} if args.sampler else {}
    if args.no_native_detail:
        extra["native_detail"] = False
    if args.adapter:
        from engine.adapt import parse_adapter_spec

        extra["adapters"] = [parse_adapter_spec(spec) for spec in args.adapter]
    source = args.input or sample_study_path()
    if not source.exists():
        raise InputError(f"input {source} does not exist")
    job = workflow.SynthesisJob(
        input=source,
        text=args.text,
        out_dir=args.out,
        frame=args.frame,
        mask=args.mask,
        contour=args.contour,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        strength=args.strength,
        variants=args.variants,
        method=args.method,
        backend=args.backend or settings.backend,
        model_dir=args.model or settings.model_dir,
        deidentify=not args.keep_identifiers,
        extra=extra,
    )
    if args.all_frames:
        from engine.annotation.cine_job import run_loop_job

        result = run_loop_job(job, args.loop_mode)
    else:
        result = workflow.run(job)
    print(result)
    return 0
