"""LoRA on the denoiser's UNet through peft (diffusers' PEFT integration): add, read out, merge.

Training adds one adapter to `model.denoiser.unet` and trains only its low-rank matrices. Loading
adds each saved adapter under its own name, weights them by their strengths (diffusers'
`set_adapters`), fuses them into the base weights and removes the LoRA layers again, so a pipeline
with adapters runs (and exports to ONNX) exactly like a plain model of the same size.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from engine.adapt.files import TARGET_MODULES, WEIGHTS_NAME, AdapterConfig, load_adapter
from engine.errors import ModelError

TRAINING_NAME = "site"


def lora_config(rank: int, alpha: float | None = None, target_modules=TARGET_MODULES):
    from peft import LoraConfig

    if rank < 1:
        raise ModelError(f"LoRA rank {rank} must be 1 or more")
    return LoraConfig(
        r=int(rank),
        lora_alpha=float(alpha if alpha is not None else rank),
        target_modules=list(target_modules),
        lora_dropout=0.0,
        init_lora_weights=True,  # B = 0: a fresh adapter leaves the model unchanged
    )


def add_trainable_adapter(
    model, rank: int, alpha: float | None = None, target_modules=TARGET_MODULES
) -> list[torch.nn.Parameter]:
    """Freeze `model` (a GeneratorModel), add a LoRA adapter to its UNet; returns its parameters."""
    model.requires_grad_(False)
    unet = model.denoiser.unet
    unet.add_adapter(lora_config(rank, alpha, target_modules), adapter_name=TRAINING_NAME)
    params = []
    for name, p in unet.named_parameters():
        trainable = "lora_" in name
        p.requires_grad_(trainable)
        if trainable:
            params.append(p)
    if not params:
        raise ModelError("the denoiser has none of the LoRA target layers; is this a BUS Studio model?")
    return params


@contextmanager
def base_only(model):
    """Run `model` as the frozen base inside the block: the training adapter switched off."""
    unet = model.denoiser.unet
    unet.disable_adapters()
    try:
        yield model
    finally:
        unet.enable_adapters()


def adapter_state(model) -> dict[str, torch.Tensor]:
    """The trained adapter's tensors, keyed without the adapter name (peft's saved form)."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(model.denoiser.unet, adapter_name=TRAINING_NAME)


def set_adapter_state(model, state: dict[str, torch.Tensor]) -> None:
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(model.denoiser.unet, state, adapter_name=TRAINING_NAME)
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise ModelError(f"adapter tensors do not fit the model (e.g. {unexpected[0]})")


def merge_adapters(model, adapters, base_sha256: str) -> list[dict]:
    """Fuse adapters [(folder, strength), ...] into `model`'s UNet weights, in place.

    Every adapter must have been trained against weights with `base_sha256`. Returns one record per
    adapter (folder, strength, rank, its own sha256) for the pipeline's info.
    """
    from peft import set_peft_model_state_dict

    from engine.backends.onnx_backend import weights_digest

    adapters = [(Path(p), float(s)) for p, s in adapters]
    if not adapters:
        return []
    unet = model.denoiser.unet
    names, strengths, records = [], [], []
    for i, (folder, strength) in enumerate(adapters):
        config, state = load_adapter(folder, base_sha256)
        name = f"adapter{i}"
        unet.add_adapter(lora_config(config.rank, config.alpha, config.target_modules), adapter_name=name)
        result = set_peft_model_state_dict(unet, state, adapter_name=name)
        if getattr(result, "unexpected_keys", []):
            raise ModelError(
                f"{folder}: adapter tensors do not fit this model (e.g. {result.unexpected_keys[0]})"
            )
        names.append(name)
        strengths.append(strength)
        records.append(_record(folder, strength, config, weights_digest(folder / WEIGHTS_NAME)))
    unet.set_adapters(names, weights=strengths)
    with torch.no_grad():
        unet.fuse_lora(lora_scale=1.0, adapter_names=names)
    unet.unload_lora()  # the fused weights stay; the LoRA layers go
    return records


def _record(folder: Path, strength: float, config: AdapterConfig, sha: str) -> dict:
    return {
        "path": str(folder),
        "strength": strength,
        "rank": config.rank,
        "adapter_sha256": sha,
        "base_sha256": config.base_sha256,
    }


def trainable_count(params) -> int:
    return int(sum(p.numel() for p in params))
