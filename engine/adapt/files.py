"""The adapter folder: LoRA weights (safetensors) and a config naming the base model they belong to.

    ADAPTER/adapter_model.safetensors   the low-rank matrices only (fp16 like the base weights; about
                                        0.5 MB at rank 8 for the default model)
    ADAPTER/adapter_config.json         rank, alpha, target modules, the base model's folder and the
                                        sha256 of its model.safetensors, and how it was trained

An adapter only makes sense on the exact weights it was trained against, so loading checks the hash
and refuses any other base with one error naming both hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InputError, ModelError
from engine.fileio import atomic_write_bytes

FORMAT = "bus-lora-adapter"
VERSION = 1
WEIGHTS_NAME = "adapter_model.safetensors"
CONFIG_NAME = "adapter_config.json"
ADAPTERS_SUBFOLDER = "adapters"  # MODEL/adapters/NAME: where the app looks for a model's adapters
# The denoiser's attention projections, ResNet convolutions and the transformers' in/out projections.
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0", "conv1", "conv2", "proj_in", "proj_out")
# The same without the cross-attention (attn2: where the description enters): texture only.
SELF_ATTENTION_TARGETS = (
    tuple(f"attn1.{m}" for m in ("to_q", "to_k", "to_v", "to_out.0")) + TARGET_MODULES[4:]
)
TARGET_SETS = {"all": TARGET_MODULES, "no-cross-attention": SELF_ATTENTION_TARGETS}


@dataclass
class AdapterConfig:
    rank: int
    alpha: float
    target_modules: tuple[str, ...] = TARGET_MODULES
    base_model: str = ""  # the base model folder, as given at training time (a hint for people)
    base_sha256: str = ""  # sha256 of the base model.safetensors: the binding check
    trainable_parameters: int = 0
    training: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "weights": WEIGHTS_NAME,
            "lora": {"rank": self.rank, "alpha": self.alpha, "target_modules": list(self.target_modules)},
            "base": {"model_dir": self.base_model, "weights_sha256": self.base_sha256},
            "trainable_parameters": self.trainable_parameters,
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, d: dict, where: str) -> AdapterConfig:
        if d.get("format") != FORMAT:
            raise ModelError(
                f"{where}: format {d.get('format')!r} is not {FORMAT!r}; not a BUS Studio adapter"
            )
        try:
            lora, base = d["lora"], d["base"]
            return cls(
                rank=int(lora["rank"]),
                alpha=float(lora["alpha"]),
                target_modules=tuple(lora["target_modules"]),
                base_model=str(base.get("model_dir", "")),
                base_sha256=str(base["weights_sha256"]),
                trainable_parameters=int(d.get("trainable_parameters", 0)),
                training=dict(d.get("training", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: incomplete adapter config ({type(exc).__name__}: {exc})") from exc


def base_sha256(model_dir: str | Path) -> str:
    """sha256 of a model folder's model.safetensors (the weights an adapter is bound to)."""
    from engine.backends.onnx_backend import WEIGHTS_FILE, weights_digest

    weights = Path(model_dir) / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(f"{model_dir}: no {WEIGHTS_FILE}; adapters need the base model's torch weights")
    return weights_digest(weights)


def save_adapter(folder: str | Path, state: dict, config: AdapterConfig) -> Path:
    """Write the LoRA tensors and the config, each atomically; returns the folder."""
    import torch
    from safetensors.torch import save

    folder = Path(folder)
    # fp16 like the base model's weights: half the size; the rounding is far smaller than the deltas
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in state.items()}
    atomic_write_bytes(folder / WEIGHTS_NAME, save(tensors, metadata={"format": FORMAT}))
    text = json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(folder / CONFIG_NAME, text.encode())
    return folder


def read_config(folder: str | Path) -> AdapterConfig:
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ModelError(
            f"{folder}: no {CONFIG_NAME}; this is not an adapter folder (made by `bus-engine adapt`)"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from exc
    return AdapterConfig.from_dict(data, str(path))


def load_adapter(folder: str | Path, expected_base_sha256: str | None = None) -> tuple[AdapterConfig, dict]:
    """(config, LoRA tensors) of an adapter folder; refuses one made for other base weights."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = read_config(folder)
    check_base(config, expected_base_sha256, folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise ModelError(f"{folder}: the adapter weights {WEIGHTS_NAME} are missing")
    return config, {k: v.float() for k, v in load_file(str(weights)).items()}


def check_base(config: AdapterConfig, expected_base_sha256: str | None, folder: str | Path) -> None:
    if expected_base_sha256 is not None and config.base_sha256 != expected_base_sha256:
        raise ModelError(
            f"adapter {folder} was trained for a different base model: it needs weights with sha256 "
            f"{config.base_sha256} (trained on {config.base_model or 'an unnamed folder'}), but this "
            f"model's weights have sha256 {expected_base_sha256}"
        )


def parse_adapter_spec(spec: str) -> tuple[Path, float]:
    """'PATH' or 'PATH:STRENGTH' (strength 1.0 when absent) -> (path, strength)."""
    path, strength = spec, 1.0
    head, sep, tail = spec.rpartition(":")
    if sep and head:
        try:
            path, strength = head, float(tail)
        except ValueError:
            path = spec  # a colon inside the path, no strength
    if not 0.0 <= strength <= 2.0:
        raise InputError(f"adapter strength {strength} in {spec!r} must be between 0 and 2")
    return Path(path), strength


@dataclass(frozen=True)
class AdapterListing:
    """One adapter found for a model: what the app's model settings show."""

    path: Path
    name: str
    rank: int
    images: int | None
    steps: int | None
    matches: bool  # trained against this model's weights
    size_bytes: int
    problem: str = ""  # why it cannot be read, when it cannot

    def line(self) -> str:
        if self.problem:
            return f"{self.name}: unreadable ({self.problem})"
        trained = []
        if self.images is not None:
            trained.append(f"{self.images} images")
        if self.steps is not None:
            trained.append(f"{self.steps} steps")
        state = "fits this model" if self.matches else "for another base model (cannot be used here)"
        detail = ", ".join([f"rank {self.rank}", *trained, f"{self.size_bytes / 1e6:.1f} MB"])
        return f"{self.name}: {detail}; {state}"


def list_adapters(model_dir: str | Path) -> list[AdapterListing]:
    """The adapters in MODEL/adapters/*/, sorted by name, each checked against the model's weights."""
    folder = Path(model_dir) / ADAPTERS_SUBFOLDER
    if not folder.is_dir():
        return []
    try:
        sha = base_sha256(model_dir)
    except ModelError:
        sha = None
    out = []
    for sub in sorted(p for p in folder.iterdir() if (p / CONFIG_NAME).is_file()):
        weights = sub / WEIGHTS_NAME
        size = weights.stat().st_size if weights.is_file() else 0
        try:
            cfg = read_config(sub)
        except ModelError as exc:
            out.append(AdapterListing(sub, sub.name, 0, None, None, False, size, str(exc)))
            continue
        t = cfg.training
        out.append(
            AdapterListing(
                sub, sub.name, cfg.rank, t.get("images"), t.get("steps"), cfg.base_sha256 == sha, size
            )
        )
    return out
