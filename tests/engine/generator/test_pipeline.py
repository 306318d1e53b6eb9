import json

import numpy as np
import pytest
import torch

from engine.errors import InputError, ModelError
from engine.generator.pipeline import BusTumorPipeline, physics_only
from engine.generator.schedulers import SAMPLERS
from engine.language import LesionDescription

from .tiny import HashTextEncoder, ellipse, tiny_model, tissue

DESC = LesionDescription(shape="irregular", echo_pattern="hypoechoic", posterior_features="shadowing")


@pytest.fixture(scope="module")
def pipe():
    torch.set_num_threads(1)
    return BusTumorPipeline(tiny_model(), text_encoder=HashTextEncoder())


def _outside(frame, window):
    keep = np.ones(frame.shape, bool)
    keep[window["y0"] : window["y1"], window["x0"] : window["x1"]] = False
    return keep


def test_same_seed_same_output_and_variants_differ(pipe):
    frame, mask = tissue(), ellipse()
    a = pipe(frame, mask, DESC, seed=3, steps=4, variants=2)
    b = pipe(frame, mask, DESC, seed=3, steps=4, variants=2)
    c = pipe(frame, mask, DESC, seed=4, steps=4, variants=2)
    assert a.pixels.shape == (2, *frame.shape) and a.pixels.dtype == np.uint8
    assert np.array_equal(a.pixels, b.pixels)
    assert not np.array_equal(a.pixels, c.pixels)
    assert not np.array_equal(a.pixels[0], a.pixels[1])
    assert a.record["variant_seeds"] == [3, 4]


def test_only_the_window_changes_and_the_lesion_does(pipe):
    frame, mask = tissue(), ellipse()
    r = pipe(frame, mask, DESC, seed=0, steps=3, strength=1.0)
    out = r.pixels[0]
    keep = _outside(frame, r.record["window"])
    assert np.array_equal(out[keep], frame[keep])
    assert np.abs(out[mask].astype(int) - frame[mask].astype(int)).mean() > 5
    assert np.array_equal(r.mask, mask)


def test_record_holds_every_parameter(pipe):
    r = pipe(tissue(), ellipse(), DESC, seed=5, steps=10, guidance=2.5, strength=0.5, sampler="ddim")
    rec = r.record
    assert rec["steps"] == 10 and rec["denoising_steps_run"] == 5
    assert rec["guidance"] == 2.5 and rec["strength"] == 0.5 and rec["sampler"] == "ddim"
    assert rec["description"]["posterior_features"] == "shadowing"
    assert "shadowing" in rec["text"]
    json.dumps(rec)  # serialisable as the JSON record


def test_conditions_reach_the_output(pipe):
    frame, mask = tissue(), ellipse()
    base = pipe(frame, mask, DESC, seed=1, steps=3, guidance=3.0, strength=1.0).pixels
    other_text = pipe(
        frame, mask, DESC, seed=1, steps=3, guidance=3.0, strength=1.0, text="anechoic cyst"
    ).pixels
    no_guidance = pipe(frame, mask, DESC, seed=1, steps=3, guidance=1.0, strength=1.0).pixels
    assert not np.array_equal(base, other_text)
    assert not np.array_equal(base, no_guidance)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_runs(pipe, sampler):
    r = pipe(tissue(), ellipse(), DESC, seed=0, steps=4, strength=0.75, sampler=sampler)
    assert r.record["sampler"] == sampler and r.record["denoising_steps_run"] == 3
    assert np.isfinite(r.pixels.astype(float)).all()


def test_save_and_load_round_trip(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "m", dtype=torch.float32)
    cfg = json.loads((tmp_path / "m" / "pipeline.json").read_text())
    assert set(cfg["components"]) >= {"denoiser", "conditioner", "text_encoder", "schedule", "sampler"}
    loaded = BusTumorPipeline.from_pretrained(tmp_path / "m", text_encoder=HashTextEncoder())
    frame, mask = tissue(), ellipse()
    a = pipe(frame, mask, DESC, seed=2, steps=3)
    b = loaded(frame, mask, DESC, seed=2, steps=3)
    assert np.array_equal(a.pixels, b.pixels)
    # The default fp16 file is half the size and loads to the same architecture.
    pipe.save_pretrained(tmp_path / "h")
    assert (tmp_path / "h" / "model.safetensors").stat().st_size < 0.6 * (
        tmp_path / "m" / "model.safetensors"
    ).stat().st_size
    BusTumorPipeline.from_pretrained(tmp_path / "h", text_encoder=HashTextEncoder())


def test_broken_model_folders_are_model_errors(tmp_path, pipe):
    with pytest.raises(ModelError, match="pipeline.json"):
        BusTumorPipeline.from_pretrained(tmp_path)
    pipe.save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="missing"):
        BusTumorPipeline.from_pretrained(tmp_path / "m")


def test_bad_requests_are_input_errors(pipe):
    frame, mask = tissue(), ellipse()
    with pytest.raises(InputError, match="strength"):
        pipe(frame, mask, DESC, strength=1.5)
    with pytest.raises(InputError, match="differs"):
        pipe(frame, mask[:-2], DESC)
    with pytest.raises(InputError, match="sampler"):
        pipe(frame, mask, DESC, sampler="nope")
    with pytest.raises(InputError, match="empty"):
        pipe(frame, np.zeros_like(mask), DESC)


def test_physics_method_needs_no_model():
    frame, mask = tissue(), ellipse()
    r = physics_only(frame, mask, DESC, seed=2, variants=2)
    assert r.pixels.shape == (2, *frame.shape) and r.record["method"] == "physics"
    assert r.pixels[0][mask].mean() < 0.7 * frame[mask].mean()


def test_the_numpy_default_sampler_walks_as_diffusers_dpm_solver(pipe):
    """dpm++ runs in numpy on every backend; diffusers' own scheduler in the same loop gives the same pixels."""
    from engine.generator.loop import synthesize
    from engine.generator.schedulers import DiffusersSampler, make_loop_sampler, make_sampler

    assert type(make_loop_sampler("dpm++")).__name__ == "DPMSolverPP"
    frame, mask = tissue(), ellipse()
    ours = pipe(frame, mask, DESC, seed=6, steps=8, variants=2)
    theirs = synthesize(
        pipe.backend, DiffusersSampler(make_sampler("dpm++", pipe.schedule)), frame, mask, DESC,
        seed=6, steps=8, variants=2,
    )  # fmt: skip
    diff = np.abs(ours.pixels.astype(int) - theirs.pixels.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert not np.array_equal(ours.pixels[0], frame)
