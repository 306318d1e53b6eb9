"""Which backend runs the denoiser and encoder: resolve "auto", check the request, detect fallbacks.

`onnxruntime-gpu` on a machine without a usable CUDA does not fail: it logs an error and quietly
runs on the CPU. `cuda_fallback_note` turns that into one clear line for the user.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from engine.errors import ModelError

BACKEND_NAMES = ("torch-cpu", "torch-cuda", "onnx-cpu", "onnx-cuda")
ONNX_CUDA_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


@dataclass(frozen=True)
class BackendChoice:
    name: str  # one of BACKEND_NAMES
    requested: str  # what the user asked for ("auto" included)
    reason: str  # why this one, in a few words


def torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import blocker (or a broken install) counts as no torch
        return False


def torch_cuda_available() -> bool:
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def onnxruntime_providers() -> list[str]:
    try:
        if importlib.util.find_spec("onnxruntime") is None:
            return []
    except ImportError:
        return []
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def select_backend(requested: str = "auto", has_onnx: bool = True, has_weights: bool = True) -> BackendChoice:
    """Resolve `requested` (a backend name or "auto") to a backend this machine can run.

    auto: torch-cuda where torch sees a GPU, else onnx-cuda where onnxruntime offers CUDA and the
    model has ONNX graphs, else onnx-cpu where it has them (the same pixels as torch-cpu and faster
    on a CPU: see the README's backends section), else torch-cpu. `has_onnx`: the folder has graphs
    exported from its own weights; `has_weights`: it has the torch weights.
    """
    if requested not in ("auto", *BACKEND_NAMES):
        raise ModelError(f"backend {requested!r} is not one of auto, {', '.join(BACKEND_NAMES)}")
    providers = onnxruntime_providers()
    if requested == "auto":
        if has_weights and torch_cuda_available():
            return BackendChoice("torch-cuda", requested, "torch sees a CUDA GPU")
        if has_onnx and any(p in providers for p in ONNX_CUDA_PROVIDERS):
            return BackendChoice("onnx-cuda", requested, "onnxruntime offers CUDA")
        if has_onnx and providers:
            return BackendChoice("onnx-cpu", requested, "no GPU; onnxruntime on the exported graphs")
        if has_weights and torch_available():
            return BackendChoice("torch-cpu", requested, "no GPU; torch is installed")
        raise ModelError(
            "no backend can run this model: install torch, or onnxruntime and export the model "
            "with `bus-engine export-onnx`"
        )
    if requested.startswith("torch"):
        if not torch_available():
            raise ModelError(f"backend {requested}: torch is not installed here; use --backend onnx-cpu")
        if requested == "torch-cuda" and not torch_cuda_available():
            import torch

            raise ModelError(
                f"backend torch-cuda: this torch ({torch.__version__}) sees no usable CUDA GPU; "
                "use --backend torch-cpu or onnx-cpu"
            )
        return BackendChoice(requested, requested, "requested")
    if not providers:
        raise ModelError(f"backend {requested}: onnxruntime is not installed here")
    if not has_onnx:
        raise ModelError(
            f"backend {requested}: the model folder has no ONNX graphs; make them with "
            "`bus-engine export-onnx --model DIR --out DIR` and pass the exported folder"
        )
    if requested == "onnx-cuda" and not any(p in providers for p in ONNX_CUDA_PROVIDERS):
        raise ModelError(
            "backend onnx-cuda: this onnxruntime has no CUDA provider (install onnxruntime-gpu); "
            "use --backend onnx-cpu"
        )
    return BackendChoice(requested, requested, "requested")


def onnx_providers_for(name: str, available: list[str] | None = None) -> list[str]:
    """Execution providers to ask for, best first (TensorRT before CUDA when present)."""
    available = onnxruntime_providers() if available is None else available
    wanted = (
        [*ONNX_CUDA_PROVIDERS, "CPUExecutionProvider"] if name == "onnx-cuda" else ["CPUExecutionProvider"]
    )
    return [p for p in wanted if p in available]


def cuda_fallback_note(name: str, session_providers: list[str]) -> str | None:
    """One line when onnx-cuda was asked for but the session silently runs on the CPU only."""
    if name != "onnx-cuda" or any(p in session_providers for p in ONNX_CUDA_PROVIDERS):
        return None
    return (
        "onnx-cuda: onnxruntime-gpu could not use CUDA here (driver, CUDA or cuDNN libraries missing "
        "or mismatched) and fell back to the CPU; generation runs on the CPU"
    )
