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


def _drift(base, adapter, data):
    """guidance_drift of a trained adapter on a fixed batch of the site's lesion windows."""
    from engine.adapt.data import AdaptData, read_local_images
    from engine.adapt.files import base_sha256, load_adapter
    from engine.adapt.lora import add_trainable_adapter, set_adapter_state
    from engine.adapt.train import guidance_drift
    from engine.generator.pipeline import BusTumorPipeline
    from engine.generator.schedulers import make_training_scheduler

    pipe = BusTumorPipeline.from_pretrained(base, text_encoder=HashTextEncoder())
    model = pipe.model.float()
    config, state = load_adapter(adapter, base_sha256(base))
    add_trainable_adapter(model, config.rank, config.alpha, config.target_modules)
    set_adapter_state(model, state)
    encoder = HashTextEncoder()
    batch = AdaptData(
        read_local_images(data), model.denoiser.config.size, encoder, model.conditioner.text_tokens
    ).lesion_batch()
    n = batch["lesion_rows"]
    gen = torch.Generator().manual_seed(0)
    t = torch.linspace(100, 900, n).long()
    noisy = make_training_scheduler().add_noise(batch["x"], torch.randn(batch["x"].shape, generator=gen), t)
    with torch.no_grad():
        described = model.conditioner(batch["tokens"], batch["attributes"], batch["token_mask"])
        pred = model(noisy, batch["conditions"], t, described)
        return float(
            guidance_drift(
                model,
                noisy,
                batch["conditions"],
                t,
                described,
                pred,
                model.conditioner.null(n),
                batch["weight"],
            )
        )


def test_guidance_penalty_keeps_the_descriptions_pull(site, tmp_path):
    """Trained without the penalty, the adapter changes how the description steers the output (the
    drift is measured against the base with the adapter switched off); with it, much less."""
    base, data, _ = site
    drifts = {}
    for weight in (0.0, 100.0):
        out = tmp_path / f"pg{weight:g}"
        cfg = AdaptConfig(
            model=base,
            data=data,
            out=out,
            steps=8,
            batch=4,
            rank=4,
            lr=2e-2,
            warmup=1,
            preserve_guidance=weight,
        )
        adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)
        drifts[weight] = _drift(base, out, data)
    assert drifts[0.0] > 0
    assert drifts[100.0] < 0.5 * drifts[0.0], drifts


def test_full_fine_tune_saves_a_model_of_its_own(site, tmp_path):
    from safetensors.torch import load_file

    from engine.adapt.files import base_sha256
    from engine.generator.pipeline import BusTumorPipeline

    base, data, _ = site
    out = tmp_path / "full"
    cfg = AdaptConfig(
        model=base, data=data, out=out, targets="full", steps=3, batch=2, lr=1e-3, preserve_guidance=1.0
    )
    summary = adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)
    pipe = BusTumorPipeline.from_pretrained(out, text_encoder=HashTextEncoder())
    assert pipe.info["fine_tuned_from"]["weights_sha256"] == base_sha256(base)
    before, after = load_file(str(base / "model.safetensors")), load_file(str(out / "model.safetensors"))
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(k.startswith("denoiser.") for k in changed)  # the conditioner stays frozen
    assert summary["trainable_parameters"] == sum(p.numel() for p in pipe.model.denoiser.parameters())
    assert not (out / WEIGHTS_NAME).exists()  # a model, not an adapter


def test_unknown_targets_are_refused(site, tmp_path):
    base, data, _ = site
    with pytest.raises(InputError, match="targets 'most'"):
        adapt(
            AdaptConfig(model=base, data=data, out=tmp_path / "x", targets="most", steps=1),
            text_encoder=HashTextEncoder(),
        )


def test_resumed_full_fine_tune_gives_the_uninterrupted_model(site, tmp_path):
    from safetensors.torch import load_file

    base, data, _ = site

    def run(out, steps, resume=False):
        cfg = AdaptConfig(model=base, data=data, out=out, targets="full", steps=steps, batch=2, save_every=2)
        cfg.resume = resume
        adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)

    run(tmp_path / "straight", 4)
    run(tmp_path / "resumed", 2)
    run(tmp_path / "resumed", 4, resume=True)
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
