"""Site adaptation: few-shot LoRA fine-tuning of the generator on a site's own images.

    bus-engine adapt --model resources/models/default --data my_studies/ --out out/site [--resume]
    pipe = BusTumorPipeline.from_pretrained(model_dir, adapters=[("out/site", 1.0)])
    bus-engine synthesize --adapter out/site:0.8 ...
    bus-engine export-onnx --adapter out/site --out out/onnx-site

files: the adapter folder (safetensors + config bound to the base model's sha256), listing
lora:  peft on the denoiser's UNet: add for training, fuse at load with a strength each
data:  lesion windows (images with masks) and context windows (images without) from local data
train: the resumable training loop (progress with ETA, CSV log, checkpoint)
"""

from __future__ import annotations

from pathlib import Path

from engine.adapt.files import (
    ADAPTERS_SUBFOLDER,
    AdapterConfig,
    AdapterListing,
    base_sha256,
    list_adapters,
    load_adapter,
    parse_adapter_spec,
)
from engine.errors import ModelError

# Default weight of the training penalty on changing how the description steers the lesion
# (train.guidance_drift): at 10 it is about the data loss's size at the drift an unpenalised
# adapter reaches, so attribute adherence is kept while the site's texture is learned.
PRESERVE_GUIDANCE = 10.0

__all__ = [
    "ADAPTERS_SUBFOLDER",
    "AdapterConfig",
    "AdapterListing",
    "base_sha256",
    "fuse_into_pipeline",
    "list_adapters",
    "load_adapter",
    "parse_adapter_spec",
]


def fuse_into_pipeline(pipe, adapters) -> list[dict]:
    """Fuse adapters [(folder, strength), ...] into a BusTumorPipeline loaded from a folder.

    Each adapter is checked against the sha256 of that folder's model.safetensors; the records go
    to pipe.info["adapters"] (and so into every synthesis record).
    """
    from engine.adapt.lora import merge_adapters

    model_dir = getattr(pipe, "model_dir", None)
    if model_dir is None:
        raise ModelError(
            "this pipeline was not loaded from a model folder, so its weights have no hash to check "
            "an adapter against; load it with BusTumorPipeline.from_pretrained(folder, adapters=...)"
        )
    records = merge_adapters(pipe.model, adapters, base_sha256(Path(model_dir)))
    pipe.info.setdefault("adapters", []).extend(records)
    return records
