"""bus-engine export-onnx: export a tumor generator model to ONNX for the onnx-cpu / onnx-cuda backends."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "export-onnx"
HELP = "export the generator's denoiser and text/attribute encoder to ONNX (checked), beside a copy of its config"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", type=Path, default=None, help="model folder (default: the BUS_MODEL_DIR setting)"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="folder for the ONNX graphs (not the model folder)"
    )
    p.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="PATH[:STRENGTH]",
        help="a LoRA adapter made by `bus-engine adapt` for this model, merged into the exported "
        "denoiser at STRENGTH (default 1.0); repeat for several",
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import ModelError
    from engine.settings import get_settings

    model_dir = args.model or get_settings().model_dir
    if not (model_dir / "pipeline.json").is_file():
        raise ModelError(f"{model_dir}: no pipeline.json; this is not a tumor generator model folder")
    from engine.adapt import parse_adapter_spec
    from engine.backends.export import export_onnx

    adapters = [parse_adapter_spec(spec) for spec in args.adapter]
    entry = export_onnx(model_dir, args.out, adapters=adapters)
    for key in ("denoiser", "encoder", "tokenizer"):
        path = args.out / entry[key]
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    print(
        f"opset {entry['opset']}, dynamic batch, checked with onnx.checker; "
        f"exported in {entry['export_seconds']['total']} s with {entry['exporter']}"
    )
    for record in entry.get("adapters", []):
        print(f"merged adapter {record['path']} at strength {record['strength']}")
    print(f"use it: bus-engine synthesize --backend onnx-cpu --model {args.out} ...")
    return 0
