import numpy as np
import torch

from engine.adapt.files import WEIGHTS_NAME
from engine.adapt.lora import lora_config
from engine.generator.pipeline import BusTumorPipeline
from tests.engine.generator.tiny import HashTextEncoder, ellipse, tissue


def _inputs(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = model.denoiser.config.size
    seq = torch.randn(2, model.conditioner.sequence_length, 384, generator=g)
    return (
        torch.randn(2, 1, s, s, generator=g),
        torch.rand(2, 4, s, s, generator=g),
        torch.tensor([50, 700]),
        seq,
    )


def _load(base, adapters=()):
    return BusTumorPipeline.from_pretrained(base, text_encoder=HashTextEncoder(), adapters=adapters)


@torch.no_grad()
def test_fused_adapter_equals_the_unfused_lora_layers_at_each_strength(site):
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    base, _, adapter = site
    x = _inputs(_load(base).model)
    live = _load(base).model  # the LoRA layers kept, as peft runs them while training
    live.denoiser.unet.add_adapter(lora_config(4), adapter_name="a")
    set_peft_model_state_dict(live.denoiser.unet, load_file(str(adapter / WEIGHTS_NAME)), adapter_name="a")
    plain = _load(base).model(*x)
    for strength in (0.5, 1.0):
        live.denoiser.unet.set_adapters(["a"], weights=[strength])
        fused = _load(base, [(adapter, strength)]).model(*x)
        assert torch.allclose(fused, live(*x), atol=1e-4)
        assert (fused - plain).abs().max() > 1e-3  # the adapter does change the denoiser


@torch.no_grad()
def test_strength_zero_is_the_base_and_two_halves_make_one_whole(site):
    base, _, adapter = site
    x = _inputs(_load(base).model, seed=1)
    plain = _load(base).model(*x)
    assert torch.allclose(_load(base, [(adapter, 0.0)]).model(*x), plain, atol=1e-6)
    whole = _load(base, [(adapter, 1.0)]).model(*x)
    halves = _load(base, [(adapter, 0.5), (adapter, 0.5)]).model(*x)
    assert torch.allclose(halves, whole, atol=1e-4)


def test_adapted_pipeline_generates_differently_and_records_its_adapters(site):
    torch.set_num_threads(1)
    base, _, adapter = site
    frame, mask = tissue(seed=7), ellipse()
    plain = _load(base)(frame, mask, None, seed=0, steps=3, strength=1.0)
    pipe = _load(base)
    record = pipe.load_adapter(adapter, 0.8)
    adapted = pipe(frame, mask, None, seed=0, steps=3, strength=1.0)
    assert not np.array_equal(plain.pixels, adapted.pixels)
    assert record["strength"] == 0.8 and record["rank"] == 4
    assert adapted.record["model"]["adapters"] == [record]
    # Fused weights: the module structure (and so export and speed) is the base model's.
    assert sorted(pipe.model.state_dict()) == sorted(_load(base).model.state_dict())


def test_heldout_loss_is_fixed_and_moves_with_the_adapter(site):
    from types import SimpleNamespace

    from engine.adapt.figures import heldout_loss
    from engine.language import LesionDescription

    base, _, adapter = site
    desc = LesionDescription(shape="oval", echo_pattern="hypoechoic")
    lesions = [
        SimpleNamespace(
            sample_id=f"x/{i}", image=tissue(seed=20 + i), mask=ellipse(cy=60 + 4 * i), description=desc,
            description_source="radiologists",
        )
        for i in range(3)
    ]  # fmt: skip
    plain = heldout_loss(_load(base), lesions, seed=0)
    assert plain == heldout_loss(_load(base), lesions, seed=0) and plain > 0
    assert heldout_loss(_load(base, [(adapter, 1.0)]), lesions, seed=0) != plain
