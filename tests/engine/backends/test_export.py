import json

import numpy as np
import onnx
import pytest
import torch

from engine.backends.export import OPSET, export_onnx
from engine.backends.onnx_backend import OnnxBackend, weights_digest
from engine.backends.torch_backend import TorchBackend
from engine.errors import ModelError
from engine.generator.pipeline import BusTumorPipeline
from engine.language import LesionDescription


def test_export_writes_checked_graphs_with_dynamic_batch_beside_the_config(exported):
    model_dir, out = exported
    for name, inputs in (
        ("denoiser.onnx", ["noisy", "conditions", "timestep", "sequence"]),
        ("encoder.onnx", ["input_ids", "attention_mask", "attributes", "margin_subtypes"]),
    ):
        graph = onnx.load(str(out / name))
        onnx.checker.check_model(graph)
        assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) >= OPSET >= 17
        assert [i.name for i in graph.graph.input] == inputs
        for value in [*graph.graph.input, *graph.graph.output]:
            assert value.type.tensor_type.shape.dim[0].dim_param == "batch", (name, value.name)
    config = json.loads((out / "pipeline.json").read_text())
    original = json.loads((model_dir / "pipeline.json").read_text())
    assert config["components"] == original["components"]
    assert config["onnx"]["opset"] == OPSET and config["onnx"]["denoiser"] == "denoiser.onnx"
    assert config["onnx"]["weights_sha256"] == weights_digest(model_dir / "model.safetensors")
    assert (out / "tokenizer.json").is_file()
    assert not list(out.glob("*.tmp"))


def test_export_refuses_the_model_folder_itself(exported):
    with pytest.raises(ModelError, match="folder of its own"):
        export_onnx(exported[0], exported[0])


def test_export_command_names_a_missing_model(tmp_path, capsys):
    from engine.cli.main import main

    assert main(["export-onnx", "--model", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert "no pipeline.json" in capsys.readouterr().err


@pytest.fixture(scope="module")
def backends(exported):
    pipe = BusTumorPipeline.from_pretrained(exported[0])
    return TorchBackend(pipe.model, text_encoder=pipe.text_encoder), OnnxBackend(exported[1], threads=1)


@pytest.mark.parametrize("batch", [1, 3])
def test_one_denoiser_step_matches_torch(backends, batch):
    torch_backend, onnx_backend = backends
    g = torch.Generator().manual_seed(batch)
    noisy = torch.randn(batch, 1, 64, 64, generator=g).numpy()
    conditions = torch.rand(batch, 4, 64, 64, generator=g).numpy()
    timestep = np.full(batch, 321)
    sequence = torch.randn(batch, 14, 384, generator=g).numpy()
    # the same numpy call on both backends (the one sampling loop calls them so)
    expected = torch_backend.denoise(noisy, conditions, timestep, sequence)
    got = onnx_backend.denoise(noisy, conditions, timestep, sequence)
    assert got.shape == expected.shape == (batch, 1, 64, 64)
    assert np.abs(got - expected).max() <= 1e-3
    assert np.abs(expected).max() > 0.05  # the comparison is not between two zeros


def test_encoder_matches_torch_text_and_attributes(backends):
    torch_backend, onnx_backend = backends
    for text, description in (
        ("irregular hypoechoic mass with spiculated margin", LesionDescription(shape="irregular")),
        ("", None),
    ):
        cond_t, null_t = torch_backend.encode(text, description, 2)
        cond_o, null_o = onnx_backend.encode(text, description, 2)
        assert cond_o.shape == tuple(cond_t.shape) == (2, 14, 384)
        assert np.abs(cond_o - cond_t).max() <= 1e-3
        assert np.abs(null_o - null_t).max() <= 1e-6
    a = onnx_backend.encode("oval mass", LesionDescription(shape="oval"), 1)[0]
    b = onnx_backend.encode("oval mass", LesionDescription(shape="irregular"), 1)[0]
    assert np.abs(a - b).max() > 1e-3  # the attributes reach the sequence
