"""The Settings dialog lists the model folder's LoRA adapters (headless)."""

import shutil

import numpy as np

from busstudio.app_settings import AppSettings
from busstudio.settings_dialog import SettingsDialog


def _adapter(folder, sha: str) -> None:
    import torch

    from engine.adapt.files import AdapterConfig, save_adapter

    cfg = AdapterConfig(rank=4, alpha=4.0, base_sha256=sha, training={"images": 30, "steps": 200})
    save_adapter(folder, {"x.lora_A.weight": torch.zeros(4, 8)}, cfg)


def _settings(model_dir) -> AppSettings:
    return AppSettings(model_dir=model_dir, backend="auto", data_root=model_dir, uid_root="1.2.3.")


def test_dialog_lists_the_models_adapters_and_follows_the_folder(qtbot, tmp_path):
    from engine.adapt import base_sha256

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(np.arange(64, dtype=np.uint8).tobytes())
    _adapter(model / "adapters" / "site-30", base_sha256(model))
    _adapter(model / "adapters" / "elsewhere", "0" * 64)
    dialog = SettingsDialog(_settings(model))
    qtbot.addWidget(dialog)
    rows = [dialog.adapters.item(i).text() for i in range(dialog.adapters.count())]
    assert len(rows) == 2
    assert rows[0].startswith("elsewhere") and "another base model" in rows[0]
    assert rows[1].startswith("site-30") and "fits this model" in rows[1] and "30 images" in rows[1]
    # Another model folder: its own (here no) adapters.
    empty = tmp_path / "empty"
    shutil.copytree(model, empty, ignore=shutil.ignore_patterns("adapters"))
    dialog.model_dir.setText(str(empty))
    assert dialog.adapters.count() == 1 and "bus-engine adapt" in dialog.adapters.item(0).text()
