"""Generation of tumor variants for one lesion: a plain task function the worker runs off the UI thread.

It calls the generator room (engine.generator.pipeline): `physics_only` for the physics draft and
`BusTumorPipeline` for diffusion. One variant at a time, so progress is reported and Cancel is
honoured between variants (and between steps where the pipeline offers it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from busstudio import engine_parts
from engine.errors import InputError, MissingPartError
from engine.generator import defaults

GENERATOR_ISSUE = "The text- and mask-guided diffusion generator"
BACKENDS_ISSUE = "ONNX export and interchangeable backends"
METHODS = ("physics", "diffusion")


@dataclass(frozen=True)
class GenerationSettings:
    method: str = "physics"
    variants: int = 4
    seed: int = 0
    steps: int = defaults.STEPS
    guidance: float = defaults.GUIDANCE
    strength: float = defaults.STRENGTH
    backend: str = "auto"
    model_dir: str = ""

    def validated(self) -> GenerationSettings:
        if self.method not in METHODS:
            raise InputError(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if not 1 <= self.variants <= 64:
            raise InputError(f"variants {self.variants} must be between 1 and 64")
        if self.seed < 0:
            raise InputError(f"seed {self.seed} must be 0 or more")
        if not 1 <= self.steps <= 1000:
            raise InputError(f"steps {self.steps} must be between 1 and 1000")
        if not 0.0 <= self.strength <= 1.0:
            raise InputError(f"strength {self.strength} must be between 0 and 1")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GeneratedVariant:
    pixels: np.ndarray  # uint8 HxW, the whole frame with the synthesized lesion
    seed: int
    record: dict = field(default_factory=dict)


def pipeline_module():
    module = engine_parts.require_module(
        "engine.generator.pipeline",
        "the tumor generator pipeline (engine.generator.pipeline)",
        GENERATOR_ISSUE,
    )
    return module


_pipelines: dict[tuple[str, str], object] = {}


def _diffusion_pipeline(settings: GenerationSettings):
    """The generator for the settings' model folder and backend (cached for the session's process).

    engine.backends.load_pipeline picks torch or onnxruntime for the backend name, as `bus-engine
    synthesize` does; without that room only the torch backends can run."""
    if not settings.model_dir:
        raise InputError("no model folder is set; choose one in Settings or use the physics draft")
    key = (str(Path(settings.model_dir).resolve()), settings.backend)
    if key not in _pipelines:
        try:
            backends = engine_parts.require_module(
                "engine.backends", "the generator backends (engine.backends)", GENERATOR_ISSUE
            )
            load = engine_parts.attr(backends, "load_pipeline", "loading a generator", GENERATOR_ISSUE)
        except MissingPartError:
            if settings.backend not in ("auto", "torch-cpu"):
                raise
            cls = engine_parts.attr(
                pipeline_module(), "BusTumorPipeline", "the diffusion pipeline", GENERATOR_ISSUE
            )
            _pipelines[key] = cls.from_pretrained(settings.model_dir)
        else:
            _pipelines[key] = load(settings.model_dir, settings.backend)
    return _pipelines[key]


def generate_variants(
    frame: np.ndarray,
    mask: np.ndarray,
    description,
    settings: GenerationSettings,
    progress=lambda fraction, message="": None,
    is_cancelled=lambda: False,
) -> list[GeneratedVariant]:
    """N variants with seeds seed, seed+1, ... (same seed, same pixels)."""
    settings = settings.validated()
    if frame.ndim != 2 or frame.dtype != np.uint8:
        raise InputError(f"generation needs the uint8 grayscale frame, got {frame.dtype} {frame.shape}")
    if mask.shape != frame.shape or not mask.any():
        raise InputError("the lesion's mask is empty or not the frame's size; draw a closed contour first")
    if settings.method == "physics":
        run_one = engine_parts.attr(pipeline_module(), "physics_only", "the physics draft", GENERATOR_ISSUE)

        def one(seed):
            return run_one(frame, mask, description, seed=seed, variants=1)
    else:
        pipe = _diffusion_pipeline(settings)

        def one(seed):
            return pipe(
                frame,
                mask,
                description,
                seed=seed,
                steps=settings.steps,
                guidance=settings.guidance,
                strength=settings.strength,
                variants=1,
            )

    def variant(seed):
        result = one(seed)
        record = dict(result.record)
        record.update({"method": settings.method, "seed": seed, "backend": settings.backend})
        return [GeneratedVariant(np.ascontiguousarray(result.pixels[0]).astype(np.uint8), seed, record)]

    return each_variant(settings, variant, progress, is_cancelled)


def each_variant(settings: GenerationSettings, run, progress, is_cancelled) -> list:
    """run(seed) -> list for seeds seed, seed+1, ...; Cancel takes effect between variants."""
    out = []
    for i in range(settings.variants):
        if is_cancelled():
            break
        seed = settings.seed + i
        progress(i / settings.variants, f"variant {i + 1} of {settings.variants} (seed {seed})")
        out += run(seed)
    progress(1.0, f"{len(out)} variants")
    return out
