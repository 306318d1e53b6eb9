import csv

import pytest
import torch

from engine.adapt.files import WEIGHTS_NAME
from engine.adapt.train import AdaptConfig, adapt, progress_line
from engine.errors import InputError
from tests.engine.generator.tiny import HashTextEncoder

from .conftest import write_site


def _tensors(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / WEIGHTS_NAME))


def test_log_and_progress_with_eta(site):
    _, _, adapter = site
    rows = list(csv.DictReader((adapter / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert all(float(r["loss"]) > 0 for r in rows)
    assert "ETA 00:00:05" in progress_line(5, 10, 0.5, 1.0)
    assert "step 5/10" in progress_line(5, 10, 0.5, 1.0)


def test_resumed_run_gives_the_uninterrupted_adapter(site, tmp_path):
    base, data, adapter = site
    cfg = AdaptConfig(model=base, data=data, out=tmp_path / "r", steps=3, batch=4, rank=4, log_every=2)
    adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)
    cfg.steps, cfg.resume = 6, True
    messages = []
    adapt(cfg, text_encoder=HashTextEncoder(), log=messages.append)
    assert any("resumed" in m and "step 3" in m for m in messages)
    resumed, straight = _tensors(tmp_path / "r"), _tensors(adapter)
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)


def test_resume_refuses_other_data(site, tmp_path):
    base, data, adapter = site
    other = write_site(tmp_path / "other", seed=10)
    cfg = AdaptConfig(model=base, data=other, out=tmp_path / "r", steps=4, batch=2, rank=4, resume=True)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "checkpoint.pt").write_bytes((adapter / "checkpoint.pt").read_bytes())
    with pytest.raises(InputError, match="another data"):
        adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)


def test_studies_without_masks_train_the_context_objective(site, tmp_path):
    from engine.settings import sample_study_path

    base, _, _ = site
    cfg = AdaptConfig(model=base, data=sample_study_path(), out=tmp_path / "d", steps=2, batch=2, rank=2)
    summary = adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)
    assert summary["training"]["lesion_windows"] == 0 and summary["training"]["images_without_mask"] == 1
    assert (tmp_path / "d" / WEIGHTS_NAME).is_file()


def test_the_base_model_folder_is_never_the_output(site):
    base, data, _ = site
    with pytest.raises(InputError, match="folder of its own"):
        adapt(AdaptConfig(model=base, data=data, out=base, steps=1), text_encoder=HashTextEncoder())
