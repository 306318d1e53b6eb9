"""synthesize --adapter and export-onnx --adapter (real MiniLM text encoder)."""

import json

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.errors import ModelError
from engine.settings import sample_study_path


def test_synthesize_with_an_adapter_records_it(site, tmp_path):
    from engine.dicom import open_study

    base, _, adapter = site
    gray = open_study(sample_study_path()).frame(0).gray
    yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]]
    mask = ((yy - 200) / 25) ** 2 + ((xx - 320) / 40) ** 2 <= 1
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "m.png")
    argv = ["synthesize", "--model", str(base), "--mask", str(tmp_path / "m.png"), "--steps", "2"]
    argv += ["--text", "oval hypoechoic mass", "--backend", "torch-cpu"]
    assert main([*argv, "--adapter", f"{adapter}:0.5", "--out", str(tmp_path / "a")]) == 0
    record = json.loads((tmp_path / "a" / "record.json").read_text())
    (used,) = record["generator"]["model"]["adapters"]
    assert used["path"] == str(adapter) and used["strength"] == 0.5


def test_onnx_backends_refuse_adapters_at_run_time(site):
    from engine.backends import load_pipeline

    base, _, adapter = site
    with pytest.raises(ModelError, match="export-onnx --adapter"):
        load_pipeline(base, "onnx-cpu", adapters=[(adapter, 1.0)])


def test_export_onnx_with_the_adapter_merged_matches_torch(site, tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort
    import torch

    from engine.adapt import base_sha256
    from engine.generator.pipeline import BusTumorPipeline

    base, _, adapter = site
    out = tmp_path / "onnx"
    assert main(["export-onnx", "--model", str(base), "--adapter", f"{adapter}:0.7", "--out", str(out)]) == 0
    entry = json.loads((out / "pipeline.json").read_text())["onnx"]
    assert entry["base_weights_sha256"] == base_sha256(base) != entry["weights_sha256"]
    assert entry["adapters"][0]["strength"] == 0.7
    model = BusTumorPipeline.from_pretrained(base, adapters=[(adapter, 0.7)]).model
    plain = BusTumorPipeline.from_pretrained(base).model
    g = torch.Generator().manual_seed(0)
    s, c = model.denoiser.config.size, len(model.denoiser.config.condition_channels)
    feeds = {
        "noisy": torch.randn(1, 1, s, s, generator=g),
        "conditions": torch.rand(1, c, s, s, generator=g),
        "timestep": torch.tensor([300.0]),
        "sequence": torch.randn(1, model.conditioner.sequence_length, 384, generator=g),
    }
    session = ort.InferenceSession(str(out / "denoiser.onnx"), providers=["CPUExecutionProvider"])
    (graph,) = session.run(None, {k: v.numpy() for k, v in feeds.items()})
    with torch.no_grad():
        merged = model.denoiser(*feeds.values()).numpy()
        unmerged = plain.denoiser(*feeds.values()).numpy()
    assert np.allclose(graph, merged, atol=1e-4)
    assert np.abs(graph - unmerged).max() > 1e-3
