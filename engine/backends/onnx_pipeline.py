"""Generation from an exported model with onnxruntime and numpy only (no torch, no diffusers).

`OnnxPipeline` loads the exported graphs and runs the one sampling loop of engine.generator.loop
(the same code as BusTumorPipeline; only the denoiser and encoder calls are onnxruntime's), so the
same seed gives the same result as the torch backends.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.backends.onnx_backend import CONFIG_NAME, OnnxBackend, onnx_folder
from engine.errors import ModelError
from engine.generator.loop import SamplingPipeline, SynthesisResult
from engine.generator.schedulers import DEFAULT_SAMPLER

__all__ = ["OnnxPipeline", "SynthesisResult"]


class OnnxPipeline(SamplingPipeline):
    def __init__(self, backend: OnnxBackend, config: dict):
        components = config["components"]
        super().__init__(
            backend,
            components["schedule"],
            components.get("sampler", DEFAULT_SAMPLER),
            config.get("info"),
            components["denoiser"]["config"]["size"],
        )

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        backend: str = "onnx-cpu",
        threads: int | None = None,
        optimization: str = "all",
    ):
        folder = onnx_folder(directory)
        if folder is None:
            raise ModelError(
                f"{directory}: no exported ONNX model (pipeline.json, denoiser.onnx, encoder.onnx, "
                "tokenizer.json); make one with `bus-engine export-onnx --model DIR --out DIR`"
            )
        try:
            config = json.loads((folder / CONFIG_NAME).read_text())
            config["components"]["schedule"], config["components"]["denoiser"]["config"]["size"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelError(f"{folder / CONFIG_NAME}: not a valid exported pipeline config: {exc}") from exc
        return cls(OnnxBackend(folder, backend, threads, optimization), config)
