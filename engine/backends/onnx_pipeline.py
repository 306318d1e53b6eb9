"""Generation from an exported model with onnxruntime and numpy only (no torch, no diffusers).

`OnnxPipeline` takes the same arguments and gives the same result as BusTumorPipeline for the same
seed: the same window, conditions, physics draft, noise (engine.backends.sampling.torch_randn), DPM-Solver++
steps, guidance and blend. Only the denoiser and encoder calls differ (onnxruntime). The sampling walk
below is the numpy twin of BusTumorPipeline.__call__, kept here because that module imports torch.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.backends.onnx_backend import CONFIG_NAME, OnnxBackend, onnx_folder
from engine.backends.sampling import DPMSolverPP
from engine.errors import InputError, ModelError
from engine.generator.captions import caption
from engine.generator.conditions import prepare
from engine.generator.physics import physics_draft
from engine.generator.window import crop_gray, paste
from engine.language.description import LesionDescription

TORCH_FREE_SAMPLERS = ("dpm++",)


@dataclass
class SynthesisResult:
    """Same fields as engine.generator.pipeline.SynthesisResult (that module imports torch)."""

    pixels: np.ndarray
    mask: np.ndarray
    record: dict
    drafts: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


class OnnxPipeline:
    def __init__(self, backend: OnnxBackend, config: dict):
        self.backend = backend
        components = config["components"]
        self.schedule = dict(components["schedule"])
        self.sampler = components.get("sampler", "dpm++")
        self.info = dict(config.get("info") or {})

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        backend: str = "onnx-cpu",
        threads: int | None = None,
        optimization: str = "all",
    ):
        folder = onnx_folder(directory)
        if folder is None:
            raise ModelError(
                f"{directory}: no exported ONNX model (pipeline.json, denoiser.onnx, encoder.onnx, "
                "tokenizer.json); make one with `bus-engine export-onnx --model DIR --out DIR`"
            )
        try:
            config = json.loads((folder / CONFIG_NAME).read_text())
            config["components"]["schedule"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelError(f"{folder / CONFIG_NAME}: not a valid exported pipeline config: {exc}") from exc
        return cls(OnnxBackend(folder, backend, threads, optimization), config)

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
        if sampler not in TORCH_FREE_SAMPLERS:
            raise InputError(
                f"sampler {sampler!r} needs torch; the ONNX backends sample with: {', '.join(TORCH_FREE_SAMPLERS)}"
            )
        description = description or LesionDescription()
        mask = mask.astype(bool)
        text = caption(description) if text is None else text
        lw = prepare(image, mask, soft_mask)
        drafts = [
            physics_draft(image, mask, description, seed + i, soft_mask, lw.window)[0]
            for i in range(variants)
        ]
        draft_windows = np.stack([crop_gray(d, lw.window) for d in drafts])[:, None].astype(np.float32)
        conditions = np.broadcast_to(lw.conditions[None], (variants, *lw.conditions.shape))

        scheduler = DPMSolverPP(self.schedule)
        scheduler.set_timesteps(steps)
        from engine.backends.sampling import torch_randn

        noise = torch_randn(draft_windows.shape, seed)
        timesteps = scheduler.timesteps
        if strength >= 1.0:
            latents = noise * np.float32(scheduler.init_noise_sigma)
        elif strength <= 0.0:
            timesteps = timesteps[:0]
            latents = draft_windows.copy()
        else:
            start = min(int(round(steps * (1.0 - strength))), steps - 1)
            timesteps = timesteps[start:]
            scheduler.set_begin_index(start)
            latents = scheduler.add_noise(draft_windows, noise)
        cond, uncond = self.backend.encode(text, description, variants)
        guided = guidance != 1.0
        sequence = np.concatenate([cond, uncond]) if guided else cond
        both_conditions = np.concatenate([conditions, conditions]) if guided else conditions
        for t in timesteps:
            x = np.concatenate([latents, latents]) if guided else latents
            out = self.backend.denoise(x, both_conditions, np.full(x.shape[0], t, np.float32), sequence)
            if guided:
                c, u = np.split(out, 2)
                out = u + np.float32(guidance) * (c - u)
            latents = scheduler.step(out, latents)
        windows = np.clip(latents, -1, 1)[:, 0]
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
            "providers": self.backend.providers,
            "backend_note": self.backend.note,
            "onnxruntime": _onnxruntime_version(),
            "python": platform.python_version(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        return SynthesisResult(pixels, mask, record, np.stack(drafts))


def _onnxruntime_version() -> str:
    import onnxruntime

    return onnxruntime.__version__
