import logging

import numpy as np
import pytest

from engine.backends import select
from engine.backends.select import cuda_fallback_note, onnx_providers_for, select_backend
from engine.errors import ModelError

CUDA = ["CUDAExecutionProvider", "CPUExecutionProvider"]
CPU = ["CPUExecutionProvider"]


def _machine(monkeypatch, torch=True, torch_cuda=False, providers=CPU):
    monkeypatch.setattr(select, "torch_available", lambda: torch)
    monkeypatch.setattr(select, "torch_cuda_available", lambda: torch and torch_cuda)
    monkeypatch.setattr(select, "onnxruntime_providers", lambda: list(providers))


@pytest.mark.parametrize(
    "torch, torch_cuda, providers, has_onnx, expected",
    [
        (True, True, CUDA, True, "torch-cuda"),
        (True, False, CUDA, True, "onnx-cuda"),
        (True, False, CUDA, False, "torch-cpu"),
        (True, False, CPU, True, "onnx-cpu"),  # same pixels as torch-cpu, faster on a CPU
        (True, False, CPU, False, "torch-cpu"),
        (False, False, CPU, True, "onnx-cpu"),
        (False, False, CUDA, True, "onnx-cuda"),
    ],
)
def test_auto(monkeypatch, torch, torch_cuda, providers, has_onnx, expected):
    _machine(monkeypatch, torch, torch_cuda, providers)
    choice = select_backend("auto", has_onnx=has_onnx)
    assert choice.name == expected and choice.requested == "auto"


def test_auto_on_an_exported_folder_without_torch_weights(monkeypatch):
    _machine(monkeypatch, torch=True, torch_cuda=True, providers=CPU)
    assert select_backend("auto", has_onnx=True, has_weights=False).name == "onnx-cpu"


def test_auto_with_nothing_usable(monkeypatch):
    _machine(monkeypatch, torch=False, providers=CPU)
    with pytest.raises(ModelError, match="export-onnx"):
        select_backend("auto", has_onnx=False)


@pytest.mark.parametrize(
    "request_, machine, message",
    [
        ("torch-cuda", dict(torch=True, torch_cuda=False), "no usable CUDA"),
        ("torch-cpu", dict(torch=False), "torch is not installed"),
        ("onnx-cuda", dict(providers=CPU), "no CUDA provider"),
        ("onnx-cpu", dict(providers=[]), "onnxruntime is not installed"),
        ("gpu", dict(), "not one of"),
    ],
)
def test_explicit_requests_that_cannot_run(monkeypatch, request_, machine, message):
    _machine(monkeypatch, **machine)
    with pytest.raises(ModelError, match=message):
        select_backend(request_)


def test_onnx_request_without_graphs_names_the_export_command(monkeypatch):
    _machine(monkeypatch)
    with pytest.raises(ModelError, match="bus-engine export-onnx"):
        select_backend("onnx-cpu", has_onnx=False)


def test_explicit_requests_that_can_run(monkeypatch):
    _machine(monkeypatch, torch=True, torch_cuda=True, providers=CUDA)
    for name in select.BACKEND_NAMES:
        assert select_backend(name).name == name


def test_providers_best_first():
    available = ["CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"]
    assert onnx_providers_for("onnx-cuda", available) == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert onnx_providers_for("onnx-cuda", CUDA) == CUDA
    assert onnx_providers_for("onnx-cpu", available) == CPU


def test_fallback_note_only_for_a_cuda_request_that_ended_on_cpu():
    note = cuda_fallback_note("onnx-cuda", CPU)
    assert note and "\n" not in note and "fell back to the CPU" in note
    assert cuda_fallback_note("onnx-cuda", CUDA) is None
    assert cuda_fallback_note("onnx-cpu", CPU) is None


def test_onnxruntime_gpu_silent_fallback_is_detected(monkeypatch, exported, caplog):
    """Simulate onnxruntime-gpu without a usable CUDA: CUDA is offered, the session runs on CPU only."""
    import onnxruntime

    from engine.backends.onnx_backend import OnnxBackend

    real_session = onnxruntime.InferenceSession
    asked = []

    def gpu_build_without_cuda(path, options=None, providers=None):
        asked.append(list(providers))
        return real_session(path, options, providers=CPU)  # what onnxruntime-gpu does quietly

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: list(CUDA))
    monkeypatch.setattr(onnxruntime, "InferenceSession", gpu_build_without_cuda)
    with caplog.at_level(logging.WARNING, logger="engine.backends"):
        backend = OnnxBackend(exported[1], "onnx-cuda")
    assert asked[0] == CUDA
    assert backend.device == "cpu" and backend.note == cuda_fallback_note("onnx-cuda", CPU)
    assert [r.getMessage() for r in caplog.records] == [backend.note]
    # it still works, on the CPU
    cond, null = backend.encode("round mass", None, 1)
    out = backend.denoise(
        np.zeros((1, 1, 64, 64), np.float32), np.zeros((1, 4, 64, 64), np.float32), [10], cond
    )
    assert out.shape == (1, 1, 64, 64) and np.isfinite(out).all()
