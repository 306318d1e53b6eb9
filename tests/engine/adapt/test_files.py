import json
import shutil
from pathlib import Path

import pytest

from engine.adapt import base_sha256, list_adapters, parse_adapter_spec
from engine.adapt.files import CONFIG_NAME, WEIGHTS_NAME, read_config
from engine.errors import InputError, ModelError
from engine.generator.pipeline import BusTumorPipeline
from tests.engine.generator.tiny import HashTextEncoder

from .conftest import other_base


def test_adapter_spec_with_and_without_strength():
    assert parse_adapter_spec("out/site") == (Path("out/site"), 1.0)
    assert parse_adapter_spec("out/site:0.4") == (Path("out/site"), 0.4)
    assert parse_adapter_spec("out/a:b") == (Path("out/a:b"), 1.0)  # a colon in the path, no strength
    with pytest.raises(InputError, match="between 0 and 2"):
        parse_adapter_spec("out/site:5")


def test_saved_adapter_holds_only_the_low_rank_tensors_bound_to_the_base_hash(site):
    from safetensors.torch import load_file

    base, _, adapter = site
    cfg = read_config(adapter)
    tensors = load_file(str(adapter / WEIGHTS_NAME))
    assert tensors and all("lora_A" in k or "lora_B" in k for k in tensors)
    assert sum(t.numel() for t in tensors.values()) == cfg.trainable_parameters
    assert cfg.base_sha256 == base_sha256(base) and cfg.base_model == str(base)
    assert cfg.rank == 4 and cfg.training["images"] == 4 and cfg.training["steps"] == 6
    # Only the adapter is saved: far smaller than the base model's weights.
    assert (adapter / WEIGHTS_NAME).stat().st_size < 0.25 * (base / "model.safetensors").stat().st_size


def test_an_adapter_for_another_base_is_refused_naming_both_hashes(site, tmp_path):
    base, _, adapter = site
    other = other_base(tmp_path / "other")
    with pytest.raises(ModelError) as err:
        BusTumorPipeline.from_pretrained(other, text_encoder=HashTextEncoder(), adapters=[(adapter, 1.0)])
    message = str(err.value)
    assert base_sha256(base) in message and base_sha256(other) in message
    assert str(adapter) in message


def test_a_folder_without_adapter_config_is_named(site, tmp_path):
    base, _, _ = site
    with pytest.raises(ModelError, match="not an adapter folder"):
        BusTumorPipeline.from_pretrained(base, text_encoder=HashTextEncoder(), adapters=[(tmp_path, 1.0)])


def test_listing_marks_which_adapters_fit_the_model(site, tmp_path):
    base, _, adapter = site
    model = tmp_path / "model"
    shutil.copytree(base, model)
    shutil.copytree(adapter, model / "adapters" / "site-a")
    foreign = model / "adapters" / "foreign"
    shutil.copytree(adapter, foreign)
    cfg = json.loads((foreign / CONFIG_NAME).read_text())
    cfg["base"]["weights_sha256"] = "0" * 64
    (foreign / CONFIG_NAME).write_text(json.dumps(cfg))
    broken = model / "adapters" / "broken"
    broken.mkdir()
    (broken / CONFIG_NAME).write_text("{not json")
    rows = {a.name: a for a in list_adapters(model)}
    assert set(rows) == {"site-a", "foreign", "broken"}
    assert rows["site-a"].matches and "fits this model" in rows["site-a"].line()
    assert "rank 4" in rows["site-a"].line() and "4 images" in rows["site-a"].line()
    assert not rows["foreign"].matches and "another base model" in rows["foreign"].line()
    assert rows["broken"].problem and "unreadable" in rows["broken"].line()
    assert list_adapters(tmp_path / "nowhere") == []
