"""The one sampling loop of the tumor generator, for every backend, in numpy (no torch import).

    result = synthesize(backend, sampler, frame, mask, description, seed=0, steps=20)

`backend` makes the two model calls (engine.backends: torch-cpu, torch-cuda, onnx-cpu, onnx-cuda),
numpy in, numpy out:

    backend.denoise(noisy, conditions, timestep, sequence) -> prediction      # [B,1,S,S] float32
    backend.encode(text, description, batch) -> (sequence, null_sequence)     # [B,L,W] float32 each

`sampler` walks the noise schedule (engine.generator.schedulers.make_loop_sampler: the numpy
DPM-Solver++ by default, diffusers' others through an adapter when torch is installed).
Everything else is here and only here: request checks, the context window and its conditions, the
physics draft, the SDEdit start at `strength` (1.0: pure noise), classifier-free guidance with the
conditional and unconditional rows in one batch, the native outline and speckle under the model's
output (engine.generator.detail), the feathered paste-back and the record.
The noise is torch's CPU `randn` for the seed, drawn in numpy, so a seed means the same on every
backend and in an install without torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from engine.backends.sampling import torch_randn
from engine.errors import InputError
from engine.generator import defaults, detail
from engine.generator.captions import caption
from engine.generator.conditions import prepare
from engine.generator.physics import physics_draft
from engine.generator.schedulers import DEFAULT_SAMPLER, make_loop_sampler
from engine.generator.window import MODEL_SIZE, blend, crop_gray, to_native
from engine.language.description import LesionDescription


@dataclass
class SynthesisResult:
    pixels: np.ndarray  # [N, H, W], the frame's dtype: one synthesized frame per variant
    mask: np.ndarray  # [H, W] bool, the requested lesion mask
    record: dict  # every parameter that produced the pixels
    drafts: np.ndarray | None = None  # [N, H, W] the physics drafts the sampler started from
    extra: dict = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def denoise(self, noisy, conditions, timestep, sequence) -> np.ndarray: ...

    def encode(self, text: str, description, batch: int) -> tuple[np.ndarray, np.ndarray]: ...


class Sampler(Protocol):
    order: int
    init_noise_sigma: float
    timesteps: np.ndarray

    def set_timesteps(self, steps: int) -> None: ...

    def set_begin_index(self, begin: int) -> None: ...

    def add_noise(self, original: np.ndarray, noise: np.ndarray, timestep) -> np.ndarray: ...

    def scale_model_input(self, sample: np.ndarray, timestep) -> np.ndarray: ...

    def step(self, model_output: np.ndarray, timestep, sample: np.ndarray) -> np.ndarray: ...


def check_request(image: np.ndarray, mask: np.ndarray, steps: int, strength: float, variants: int) -> None:
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


def synthesize(
    backend: Backend,
    sampler: Sampler,
    image: np.ndarray,
    mask: np.ndarray,
    description: LesionDescription | None = None,
    seed: int = 0,
    steps: int = defaults.STEPS,
    guidance: float = defaults.GUIDANCE,
    strength: float = defaults.STRENGTH,
    variants: int = 1,
    text: str | None = None,
    soft_mask: np.ndarray | None = None,
    record: dict | None = None,
    size: int = MODEL_SIZE,
    native_detail: bool = defaults.NATIVE_DETAIL,
) -> SynthesisResult:
    """`variants` lesions (seeds seed, seed+1, ...) drawn into `image` inside `mask`; `record` holds
    the caller's own entries for the result's record (sampler name, schedule, model, backend);
    `size` is the model's grid side (the window is resampled to it); `native_detail` puts the
    native outline and speckle under the model's output (engine.generator.detail)."""
    started = time.perf_counter()
    check_request(image, mask, steps, strength, variants)
    description = description or LesionDescription()
    mask = mask.astype(bool)
    text = caption(description) if text is None else text
    lw = prepare(image, mask, soft_mask, size)
    drafts = [
        physics_draft(image, mask, description, seed + i, soft_mask, lw.window)[0] for i in range(variants)
    ]
    draft_windows = np.stack([crop_gray(d, lw.window) for d in drafts])[:, None].astype(np.float32)
    conditions = np.broadcast_to(lw.conditions[None], (variants, *lw.conditions.shape))

    sampler.set_timesteps(steps)
    noise = torch_randn(draft_windows.shape, seed)
    timesteps = sampler.timesteps
    if strength >= 1.0:
        latents = noise * np.float32(sampler.init_noise_sigma)
    elif strength <= 0.0:
        timesteps = timesteps[:0]
        latents = draft_windows.copy()
    else:
        # SDEdit: start part-way down the schedule from the noised physics draft
        start = min(int(round(steps * (1.0 - strength))), steps - 1) * sampler.order
        timesteps = timesteps[start:]
        sampler.set_begin_index(start)
        latents = sampler.add_noise(draft_windows, noise, timesteps[0])
    cond, uncond = backend.encode(text, description, variants)
    guided = guidance != 1.0
    sequence = np.concatenate([cond, uncond]) if guided else cond
    both_conditions = np.concatenate([conditions, conditions]) if guided else conditions
    for t in timesteps:
        x = sampler.scale_model_input(latents, t)
        x = np.concatenate([x, x]) if guided else x
        out = backend.denoise(x, both_conditions, np.full(x.shape[0], t), sequence)
        if guided:
            c, u = np.split(out, 2)
            out = u + np.float32(guidance) * (c - u)
        latents = sampler.step(out, t, latents)
    windows = np.clip(latents, -1, 1)[:, 0]
    natives = [to_native(w, lw.window) for w in windows]
    if native_detail:
        gray, lesion = image[lw.window.slices], mask[lw.window.slices]
        soft = soft_mask[lw.window.slices] if soft_mask is not None else None
        natives = [
            detail.native_detail(gray, lesion, n, lw.window, description, seed + i, soft)
            for i, n in enumerate(natives)
        ]
    pixels = np.stack([blend(image, lw.window, n, lw.weight) for n in natives])
    about = getattr(backend, "about", dict)()  # the backend's own versions and settings
    full_record = {
        "method": "diffusion",
        "seed": int(seed),
        "variant_seeds": [int(seed) + i for i in range(variants)],
        "steps": int(steps),
        "denoising_steps_run": len(timesteps),
        "guidance": float(guidance),
        "strength": float(strength),
        "native_detail": bool(native_detail),
        "variants": int(variants),
        **(record or {}),
        "text": text,
        "description": description.to_dict(),
        "window": lw.window.to_dict(),
        "soft_mask": soft_mask is not None,
        "backend": backend.name,
        **about,
    }
    full_record["seconds"] = round(time.perf_counter() - started, 3)
    return SynthesisResult(pixels, mask, full_record, np.stack(drafts))


class SamplingPipeline:
    """What every pipeline shares: a backend, the model's noise schedule and default sampler, and
    the call into the one loop. Loading and saving live in the subclasses (torch weights:
    engine.generator.pipeline.BusTumorPipeline; exported graphs: engine.backends.onnx_pipeline)."""

    def __init__(
        self,
        backend: Backend | None,
        schedule: dict,
        sampler: str = DEFAULT_SAMPLER,
        info=None,
        size: int = MODEL_SIZE,
    ):
        self._backend = backend
        self.size = int(size)  # the model's grid side: windows are resampled to size x size
        self.schedule = dict(schedule)
        self.sampler = sampler
        self.info = dict(info or {})

    @property
    def backend(self) -> Backend:
        return self._backend

    def __call__(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        description: LesionDescription | None = None,
        seed: int = 0,
        steps: int = defaults.STEPS,
        guidance: float = defaults.GUIDANCE,
        strength: float = defaults.STRENGTH,
        variants: int = 1,
        text: str | None = None,
        soft_mask: np.ndarray | None = None,
        sampler: str | None = None,
        native_detail: bool = defaults.NATIVE_DETAIL,
    ) -> SynthesisResult:
        name = sampler or self.sampler
        walk = make_loop_sampler(name, self.schedule)
        return synthesize(
            self.backend, walk, image, mask, description, seed, steps, guidance, strength, variants,
            text, soft_mask, record={"sampler": name, "schedule": self.schedule, "model": self.info},
            size=self.size, native_detail=native_detail,
        )  # fmt: skip


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
