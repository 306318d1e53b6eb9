import numpy as np
import pytest

from engine.backends import load_pipeline
from engine.backends.onnx_backend import OnnxBackend
from engine.backends.onnx_pipeline import OnnxPipeline
from engine.errors import ModelError
from engine.generator.loop import SamplingPipeline
from engine.generator.pipeline import BusTumorPipeline
from engine.language import LesionDescription
from tests.engine.generator.tiny import ellipse, tiny_model, tissue

DESC = LesionDescription(shape="irregular", echo_pattern="hypoechoic")


def psnr(a, b):
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def torch_pipe(exported):
    return load_pipeline(exported[0], "torch-cpu")


def test_load_pipeline_picks_the_backend(exported, torch_pipe):
    assert isinstance(torch_pipe, BusTumorPipeline) and torch_pipe.backend.name == "torch-cpu"
    onnx_pipe = load_pipeline(exported[1], "onnx-cpu")
    assert isinstance(onnx_pipe, OnnxPipeline) and onnx_pipe.backend.name == "onnx-cpu"
    assert load_pipeline(exported[1], "auto").backend.name == "onnx-cpu"  # only graphs in that folder
    assert load_pipeline(exported[0], "auto").backend.name == "torch-cpu"
    with pytest.raises(ModelError, match="no ONNX graphs"):
        load_pipeline(exported[0], "onnx-cpu")


@pytest.mark.parametrize("strength", [0.6, 1.0])
def test_torch_free_pipeline_gives_torchs_result_for_the_same_seed(exported, torch_pipe, strength):
    frame, mask = tissue(), ellipse()
    onnx_pipe = load_pipeline(exported[1], "onnx-cpu")
    a = torch_pipe(frame, mask, DESC, seed=3, steps=6, strength=strength, variants=2)
    b = onnx_pipe(frame, mask, DESC, seed=3, steps=6, strength=strength, variants=2)
    assert b.pixels.shape == a.pixels.shape and b.pixels.dtype == np.uint8
    assert psnr(a.pixels, b.pixels) >= 40
    assert not np.array_equal(b.pixels[0], frame)  # it synthesized something
    assert b.record["denoising_steps_run"] == a.record["denoising_steps_run"]
    assert b.record["backend"] == "onnx-cpu" and a.record["backend"] == "torch-cpu"
    c = onnx_pipe(frame, mask, DESC, seed=4, steps=6, strength=strength, variants=2)
    assert not np.array_equal(b.pixels, c.pixels)


def test_same_pipeline_code_with_an_onnx_backend(exported, torch_pipe):
    """One sampling loop: both pipelines call it, and the torch pipeline runs it on onnxruntime too."""
    assert OnnxPipeline.__call__ is BusTumorPipeline.__call__ is SamplingPipeline.__call__
    frame, mask = tissue(), ellipse()
    via_onnx = BusTumorPipeline(torch_pipe.model, torch_pipe.schedule, backend=OnnxBackend(exported[1]))
    a = torch_pipe(frame, mask, DESC, seed=1, steps=5, sampler="ddim")
    b = via_onnx(frame, mask, DESC, seed=1, steps=5, sampler="ddim")
    assert psnr(a.pixels, b.pixels) >= 40 and b.record["backend"] == "onnx-cpu"
    assert b.record["providers"] == ["CPUExecutionProvider"] and "torch" in a.record


def test_torch_samplers_run_on_onnx_where_torch_is_installed(exported, torch_pipe):
    frame, mask = tissue(), ellipse()
    a = torch_pipe(frame, mask, DESC, seed=2, steps=4, strength=1.0, sampler="unipc")
    b = load_pipeline(exported[1], "onnx-cpu")(
        frame, mask, DESC, seed=2, steps=4, strength=1.0, sampler="unipc"
    )
    assert b.record["sampler"] == "unipc" and psnr(a.pixels, b.pixels) >= 40


def test_auto_prefers_onnx_on_cpu_only_for_graphs_of_the_same_weights(exported, tmp_path):
    """Graphs in the model's onnx/ subfolder: auto runs them on a CPU, unless the weights changed."""
    model = tmp_path / "model"
    model.mkdir()
    for name in ("model.safetensors", "pipeline.json"):
        (model / name).write_bytes((exported[0] / name).read_bytes())
    (model / "onnx").mkdir()
    for item in exported[1].iterdir():
        (model / "onnx" / item.name).symlink_to(item)
    if torch_cuda():
        pytest.skip("auto takes torch-cuda on this machine")
    assert load_pipeline(model, "auto").backend.name == "onnx-cpu"
    BusTumorPipeline(tiny_model(seed=1)).save_pretrained(model)  # retrained: the graphs are stale
    assert load_pipeline(model, "auto").backend.name == "torch-cpu"
    assert load_pipeline(model, "onnx-cpu").backend.name == "onnx-cpu"  # asked for: still honoured


def torch_cuda():
    import torch

    return torch.cuda.is_available()


def test_the_app_setting_runs_the_onnx_backend(exported):
    from busstudio.models.generation import GenerationSettings, generate_variants

    settings = GenerationSettings(
        method="diffusion", variants=2, seed=5, steps=4, backend="onnx-cpu", model_dir=str(exported[1])
    )
    variants = generate_variants(tissue(), ellipse(), DESC, settings)
    assert [v.seed for v in variants] == [5, 6]
    assert all(v.record["backend"] == "onnx-cpu" for v in variants)
    assert not np.array_equal(variants[0].pixels, variants[1].pixels)
