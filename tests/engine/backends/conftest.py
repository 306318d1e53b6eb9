"""One tiny seeded generator, saved with save_pretrained and exported once through the CLI."""

from __future__ import annotations

import pytest

from engine.cli.main import main
from engine.generator.pipeline import BusTumorPipeline
from tests.engine.generator.tiny import tiny_model


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """(model folder, exported ONNX folder) of a tiny seeded model (real MiniLM text encoder)."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("backends")
    model_dir = BusTumorPipeline(tiny_model(), info={"name": "tiny"}).save_pretrained(root / "model")
    assert main(["export-onnx", "--model", str(model_dir), "--out", str(root / "onnx")]) == 0
    return model_dir, root / "onnx"
