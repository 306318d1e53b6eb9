"""Export a tumor generator model folder to ONNX: denoiser and text/attribute encoder, checked.

    export_onnx("resources/models/default", "out/onnx")
    export_onnx("resources/models/default", "out/onnx-site", adapters=[("out/site", 1.0)])  # LoRA merged

Writes `denoiser.onnx` (noisy, conditions, timestep, sequence -> prediction), `encoder.onnx`
(input_ids, attention_mask, attributes, margin_subtypes -> sequence, null_sequence: the frozen MiniLM
and the description conditioner in one graph), `tokenizer.json` (MiniLM's, for the `tokenizers`
package) and a copy of the model's `pipeline.json` with an "onnx" entry, each atomically.
The TorchScript-based exporter (torch.onnx.export(dynamo=False)) is used: the dynamo exporter needs
onnxscript (not a dependency); batch is dynamic, the window size is fixed by the model's config.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from engine.backends.onnx_backend import (
    CONFIG_NAME,
    DENOISER_FILE,
    ENCODER_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    weights_digest,
)
from engine.errors import ModelError
from engine.fileio import atomic_write, atomic_write_bytes
from engine.language.attributes import ATTRIBUTE_FIELDS

OPSET = 17


class DenoiserGraph(nn.Module):
    def __init__(self, denoiser):
        super().__init__()
        self.denoiser = denoiser

    def forward(self, noisy, conditions, timestep, sequence):
        return self.denoiser(noisy, conditions, timestep, sequence)


class EncoderGraph(nn.Module):
    """MiniLM last hidden states (zeros beyond the text, as TextEncoder) -> DescriptionConditioner."""

    def __init__(self, text_model, conditioner):
        super().__init__()
        self.text_model = text_model
        self.conditioner = conditioner

    def forward(self, input_ids, attention_mask, attributes, margin_subtypes):
        hidden = self.text_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.bool()
        hidden = hidden * mask.unsqueeze(-1)
        indices = {name: attributes[:, i] for i, name in enumerate(ATTRIBUTE_FIELDS)}
        indices["margin_subtypes"] = margin_subtypes
        cond = self.conditioner(hidden, indices, mask)
        return cond, self.conditioner.null(input_ids.shape[0])


def _export(module, args, path: Path, inputs, outputs, dynamic_axes) -> None:
    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
            torch.onnx.export(
                module, args, str(tmp), dynamo=False, opset_version=OPSET,
                input_names=inputs, output_names=outputs, dynamic_axes=dynamic_axes,
            )  # fmt: skip
        import onnx

        onnx.checker.check_model(str(tmp), full_check=True)

    atomic_write(path, write)


def export_onnx(
    model_dir: str | Path, out_dir: str | Path, text_model_dir: str | Path | None = None, adapters=()
) -> dict:
    """Export the model folder's denoiser and encoder to `out_dir`; returns the "onnx" config entry.

    `adapters`: [(folder, strength), ...] LoRA adapters (engine.adapt) fused into the denoiser before
    export; the entry then records them, and its weights_sha256 is that of the merged weights (so the
    graphs never pass for exports of the plain base model).
    """
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from engine.generator.pipeline import BusTumorPipeline
    from engine.language.encoder import text_model_dir as default_text_model_dir

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if out_dir.resolve() == model_dir.resolve():
        raise ModelError(f"{out_dir}: export into a folder of its own, not the model folder")
    pipe = BusTumorPipeline.from_pretrained(model_dir, adapters=adapters)
    model = pipe.model.float().eval()
    text_dir = Path(text_model_dir) if text_model_dir else default_text_model_dir()
    hf_logging.disable_progress_bar()
    text_model = AutoModel.from_pretrained(text_dir, local_files_only=True).float().eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg, seq_len, width = model.denoiser.config, model.conditioner.sequence_length, model.conditioner.width
    tokens = model.conditioner.text_tokens
    started = time.perf_counter()
    b, s, c = 2, cfg.size, len(cfg.condition_channels)
    with torch.no_grad():
        _export(
            DenoiserGraph(model.denoiser),
            (torch.randn(b, 1, s, s), torch.rand(b, c, s, s), torch.tensor([500.0, 20.0]), torch.randn(b, seq_len, width)),
            out_dir / DENOISER_FILE,
            ["noisy", "conditions", "timestep", "sequence"],
            ["prediction"],
            {"noisy": {0: "batch"}, "conditions": {0: "batch"}, "timestep": {0: "batch"}, "sequence": {0: "batch"}, "prediction": {0: "batch"}},
        )  # fmt: skip
        denoiser_seconds = time.perf_counter() - started
        ids = torch.randint(1000, 2000, (b, tokens))
        mask = torch.ones(b, tokens, dtype=torch.long)
        mask[1, tokens // 2 :] = 0
        _export(
            EncoderGraph(text_model, model.conditioner),
            (ids, mask, torch.zeros(b, len(ATTRIBUTE_FIELDS), dtype=torch.long), torch.zeros(b, 4, dtype=torch.long)),
            out_dir / ENCODER_FILE,
            ["input_ids", "attention_mask", "attributes", "margin_subtypes"],
            ["sequence", "null_sequence"],
            {name: {0: "batch"} for name in ("input_ids", "attention_mask", "attributes", "margin_subtypes", "sequence", "null_sequence")},
        )  # fmt: skip
    seconds = time.perf_counter() - started
    atomic_write(out_dir / TOKENIZER_FILE, lambda tmp: shutil.copyfile(text_dir / "tokenizer.json", tmp))
    entry = {
        "opset": OPSET,
        "exporter": f"torch.onnx.export(dynamo=False), torch {torch.__version__}",
        "denoiser": DENOISER_FILE,
        "encoder": ENCODER_FILE,
        "tokenizer": TOKENIZER_FILE,
        "text_model": str(text_dir.parent.name) + "/" + text_dir.name,
        "dynamic_axes": "batch (the window size is fixed by the model: " + f"{cfg.size}x{cfg.size})",
        "source": str(model_dir),
        "weights_sha256": weights_digest(model_dir / WEIGHTS_FILE),
        "export_seconds": {"denoiser": round(denoiser_seconds, 2), "total": round(seconds, 2)},
    }
    if adapters:
        entry["base_weights_sha256"] = entry["weights_sha256"]
        entry["weights_sha256"] = _merged_weights_digest(pipe)
        entry["adapters"] = pipe.info["adapters"]
    config = json.loads((model_dir / CONFIG_NAME).read_text())
    config["onnx"] = entry
    atomic_write_bytes(out_dir / CONFIG_NAME, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return entry


def _merged_weights_digest(pipe) -> str:
    """sha256 of the weights with adapters fused, serialized as save_pretrained writes them (fp16)."""
    import hashlib

    from safetensors.torch import save

    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in pipe.model.state_dict().items()}
    return hashlib.sha256(save(state, metadata={"format": "bus-tumor-pipeline"})).hexdigest()
