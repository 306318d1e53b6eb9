"""Interchangeable backends for the generator's two model calls: torch (CPU fp32, CUDA fp16/bf16) or
exported ONNX graphs in onnxruntime (CPU, CUDA, TensorRT when present).

Every backend has the same two calls; the pipeline's sampling code never changes:

    backend.denoise(noisy, conditions, timestep, sequence) -> prediction      # [B,1,S,S]
    backend.encode(text, description, batch) -> (sequence, null_sequence)     # [B,L,W] each

    pipe = load_pipeline("resources/models/default", "auto")   # or torch-cpu, torch-cuda, onnx-cpu, onnx-cuda
    result = pipe(frame, mask, description, seed=0, steps=20)

This package imports neither torch nor onnxruntime at import time: the onnx backends run in an
install without torch (engine.backends.onnx_pipeline). The sampling loop is engine.generator.loop's,
one for all backends.
"""

from __future__ import annotations

from pathlib import Path

from engine.backends.select import BACKEND_NAMES, BackendChoice, select_backend
from engine.errors import ModelError

__all__ = ["BACKEND_NAMES", "BackendChoice", "load_pipeline", "select_backend"]


def load_pipeline(
    model_dir: str | Path,
    backend: str = "auto",
    threads: int | None = None,
    cuda_dtype: str = "fp16",
    adapters=(),
):
    """A ready pipeline for `model_dir` on `backend` ("auto" or one of BACKEND_NAMES).

    torch backends: engine.generator.pipeline.BusTumorPipeline on the folder's safetensors weights.
    onnx backends: engine.backends.onnx_pipeline.OnnxPipeline on the exported graphs (the folder
    itself or its `onnx/` subfolder), numpy and onnxruntime only. Both run the same sampling loop
    (engine.generator.loop).
    The chosen backend is `pipe.backend`; `pipe.backend.note` is one line when it had to fall back.
    `adapters`: [(folder, strength), ...] LoRA adapters (engine.adapt) fused into the torch weights;
    exported graphs hold fixed weights, so with adapters only the torch backends apply.
    """
    from engine.backends.onnx_backend import onnx_folder, onnx_matches_weights

    has_weights = (Path(model_dir) / "model.safetensors").is_file()
    folder = onnx_folder(model_dir)
    if not has_weights and folder is None:
        raise ModelError(
            f"{model_dir}: no tumor generator model here (neither pipeline.json with model.safetensors "
            "nor exported ONNX graphs); choose a model folder, e.g. resources/models/default"
        )
    # "auto" takes graphs beside torch weights only when they were exported from those weights
    has_onnx = folder is not None and (backend != "auto" or onnx_matches_weights(folder, model_dir))
    if adapters:
        if backend.startswith("onnx"):
            raise ModelError(
                f"backend {backend}: adapters are fused into the torch weights; export graphs with the "
                "adapter merged (`bus-engine export-onnx --adapter PATH --out DIR`) and run those instead"
            )
        has_onnx = False
    choice = select_backend(backend, has_onnx=has_onnx, has_weights=has_weights)
    if choice.name.startswith("onnx"):
        from engine.backends.onnx_pipeline import OnnxPipeline

        return OnnxPipeline.from_pretrained(model_dir, choice.name, threads)
    from engine.backends.torch_backend import TorchBackend
    from engine.generator.pipeline import BusTumorPipeline

    pipe = BusTumorPipeline.from_pretrained(model_dir, adapters=adapters)
    if choice.name == "torch-cuda":
        pipe._backend = TorchBackend(pipe.model, "cuda", cuda_dtype, pipe.text_encoder)
    return pipe
