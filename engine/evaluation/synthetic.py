"""The synthetic set: generated lesion masks, filled in by the tumor generator, in real tissue.

For each synthetic image: a label (benign or malignant, alternating so the set is balanced), a
clinical description sampled for that label (shape and margin frequencies from the mask
generator's priors, restricted by the BI-RADS rule below), a mask from the mask generator, placed
in a lesion-free real frame (a canvas: BUSI's normal images are natural ones), and the tumor drawn
in by the generator's public API: the diffusion pipeline (`BusTumorPipeline.from_pretrained`) or
the physics draft (`--generator physics`). Nothing is ever faked: when the chosen generator is not
there the builder raises MissingPartError naming it.

The label-to-attribute rule (ACR BI-RADS Atlas, 5th ed.: features that lower or raise suspicion):
a benign lesion is oval or round with a circumscribed margin and parallel orientation (BI-RADS 3
features); a malignant one has at least one suspicious feature: an irregular shape, or a
non-circumscribed margin (class from the priors' frequencies for its shape), and is not parallel
with probability NOT_PARALLEL_MALIGNANT. Echo pattern and posterior features are drawn from the
small tables below (benign: anechoic/hypoechoic/isoechoic with enhancement or none; malignant:
hypoechoic/heterogeneous with shadowing or none).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.datasets.base import Case
from engine.datasets.images import read_gray
from engine.errors import InputError, MissingPartError
from engine.fileio import atomic_write_bytes
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import (
    EchoPattern,
    MarginSubtype,
    Orientation,
    Pathology,
    PosteriorFeatures,
    Shape,
)

GENERATORS = ("diffusion", "physics")
GENERATOR_ISSUE = "The text- and mask-guided diffusion generator"
PLACEMENT_TRIES = 9
NOT_PARALLEL_MALIGNANT = 0.5
ECHO = {
    "benign": {
        EchoPattern.HYPOECHOIC: 0.5,
        EchoPattern.ANECHOIC: 0.2,
        EchoPattern.ISOECHOIC: 0.2,
        EchoPattern.COMPLEX_CYSTIC_SOLID: 0.1,
    },
    "malignant": {
        EchoPattern.HYPOECHOIC: 0.6,
        EchoPattern.HETEROGENEOUS: 0.3,
        EchoPattern.COMPLEX_CYSTIC_SOLID: 0.1,
    },
}
POSTERIOR = {
    "benign": {PosteriorFeatures.NONE: 0.5, PosteriorFeatures.ENHANCEMENT: 0.5},
    "malignant": {
        PosteriorFeatures.SHADOWING: 0.5,
        PosteriorFeatures.NONE: 0.35,
        PosteriorFeatures.COMBINED: 0.15,
    },
}


def _pick(rng: np.random.Generator, table: dict):
    keys = list(table)
    p = np.asarray([float(table[k]) for k in keys])
    return keys[rng.choice(len(keys), p=p / p.sum())]


def sample_description(label: str, priors, rng: np.random.Generator) -> LesionDescription:
    """A description for a lesion of `label` ('benign' or 'malignant'); size is left to the priors."""
    if label == "benign":
        shape = Shape(_pick(rng, {k: priors.shape_frequency[k] for k in ("oval", "round")}))
        return LesionDescription(
            shape=shape,
            orientation=Orientation.PARALLEL,
            margin=Margin(True),
            echo_pattern=_pick(rng, ECHO["benign"]),
            posterior_features=_pick(rng, POSTERIOR["benign"]),
            pathology=Pathology.BENIGN,
        )
    if label != "malignant":
        raise InputError(f"a synthetic lesion is benign or malignant, not {label!r}")
    shape = Shape(_pick(rng, priors.shape_frequency))
    margins = dict(priors.margin_frequency[shape.value])
    if shape is not Shape.IRREGULAR or rng.random() < 0.5:
        margins.pop("circumscribed", None)  # an oval or round malignant mass needs a suspicious margin
    cls = _pick(rng, margins)
    margin = Margin(True) if cls == "circumscribed" else Margin(False, frozenset({MarginSubtype(cls)}))
    orientation = Orientation.NOT_PARALLEL if rng.random() < NOT_PARALLEL_MALIGNANT else Orientation.PARALLEL
    return LesionDescription(
        shape=shape,
        orientation=orientation,
        margin=margin,
        echo_pattern=_pick(rng, ECHO["malignant"]),
        posterior_features=_pick(rng, POSTERIOR["malignant"]),
        pathology=Pathology.MALIGNANT,
    )


@dataclass
class SyntheticImage:
    name: str
    image: np.ndarray  # uint8 [H, W]
    mask: np.ndarray  # bool [H, W]
    label: str
    canvas: str  # the real frame it was drawn into (its case id)
    record: dict  # description, seeds, generator record


def _load_generator(
    method: str, model_dir: Path | None, options: dict | None = None, backend: str = "torch-cpu"
):
    """A callable (frame, mask, description, seed, soft) -> (pixels uint8, record); `backend` runs
    the diffusion model (torch-cpu, or torch-cuda on a GPU; engine.backends)."""
    if method == "physics":
        from engine.parts import require

        physics = require(
            "engine.generator.physics", "the physics draft (engine.generator.physics)", GENERATOR_ISSUE
        )

        def draw(frame, mask, description, seed, soft):
            out, window = physics.physics_draft(frame, mask, description, seed, soft)
            return out, {"method": "physics", "seed": int(seed), "window": window.to_dict()}

        return draw
    if method != "diffusion":
        raise InputError(f"generator {method!r} is not one of {', '.join(GENERATORS)}")
    from engine.parts import require
    from engine.settings import get_settings

    pipeline_module = require(
        "engine.generator.pipeline", "the diffusion pipeline (engine.generator.pipeline)", GENERATOR_ISSUE
    )
    model_dir = Path(model_dir or get_settings().model_dir)
    if not (model_dir / pipeline_module.CONFIG_NAME).is_file():
        raise MissingPartError(f"the trained tumor generator model ({model_dir})", GENERATOR_ISSUE)
    from engine.backends import load_pipeline

    pipe = load_pipeline(model_dir, backend)

    def draw(frame, mask, description, seed, soft):
        result = pipe(frame, mask, description, seed=int(seed), soft_mask=soft, **(options or {}))
        return result.pixels[0], result.record

    return draw


def _canvas(case: Case, canvas_px: int, assumed_mm: float) -> tuple[np.ndarray, float]:
    """The canvas frame at most `canvas_px` on its longer side, and its pixel size in mm (BUSI gives
    none: the generator's assumption for uncalibrated frames is used)."""
    gray = read_gray(case.image_path)
    mm = case.mm_per_pixel or assumed_mm
    scale = min(1.0, canvas_px / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(
            gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
        mm /= scale
    return gray, mm


def synthetic_items(
    canvases: list[Case],
    indices,
    seed: int = 0,
    method: str = "diffusion",
    model_dir: Path | None = None,
    canvas_px: int = 256,
    progress=None,
    diffusion_options: dict | None = None,
    backend: str = "torch-cpu",
):
    """Yield the synthetic images numbered `indices` of the set made with these settings.

    Item i depends only on (seed, i, canvases, settings): label (alternating, so any prefix is
    balanced), description, size and placement come from its own seed, and its canvas from a seeded
    rotation. So a set of n images is the first n of a longer one, and a cache can fill in the items
    it lacks (engine.evaluation.synthetic_cache)."""
    canvases = [c for c in canvases if not c.has_lesion]
    if not canvases:
        raise InputError("no lesion-free canvas frames (e.g. BUSI normal/) to draw synthetic tumors into")
    indices = list(indices)
    if not indices:
        return
    draw = _load_generator(method, model_dir, diffusion_options, backend)
    from engine.parts import require

    # the same placement as the main job: inside the lit tissue, below the skin line
    job = require(
        "engine.generator.job", "the main job's lesion placement (engine.generator.job)", GENERATOR_ISSUE
    )
    from engine.masks.priors import load_priors

    priors = load_priors()
    order = np.random.default_rng(seed).permutation(len(canvases))
    for i in progress(indices) if progress else indices:
        label = ("benign", "malignant")[i % 2]
        item_seed = int(seed) * 1_000_003 + i
        item_rng = np.random.default_rng(item_seed)
        request = sample_description(label, priors, item_rng)
        drawn_mm = float(np.exp(item_rng.normal(priors.size_mm["log_mean"], priors.size_mm["log_sd"])))
        # A frame with little lit tissue may not hold the drawn size: shrink it (x0.8 per try), and
        # after three misses move on to the next canvas in the rotation.
        for attempt in range(PLACEMENT_TRIES):
            case = canvases[order[(i + attempt // 3) % len(canvases)]]
            frame, mm = _canvas(case, canvas_px, job.ASSUMED_MM_PER_PIXEL)
            size = min(
                drawn_mm * 0.8 ** (attempt % 3), 0.6 * frame.shape[1] * mm
            )  # at most 60 % of the width
            sized = LesionDescription.from_dict({**request.to_dict(), "size_mm": size})
            try:
                gm, placement = job.place_mask(sized, item_seed, mm, frame, None)
                break
            except InputError:
                if attempt == PLACEMENT_TRIES - 1:
                    raise
        placement = {**placement, "size_tries": attempt + 1}
        pixels, record = draw(frame, gm.mask, gm.description, item_seed, gm.soft)
        record = {**record, "placement": placement}
        yield SyntheticImage(
            item_name(i),
            np.asarray(pixels, np.uint8),
            gm.mask,
            label,
            case.case_id,
            {
                "description": gm.description.to_dict(),
                "mm_per_pixel": mm,
                "seed": item_seed,
                "canvas": f"{case.dataset}/{case.case_id}",
                "generator": record,
            },
        )


def item_name(i: int) -> str:
    return f"synthetic_{i:05d}"


def build_synthetic_set(
    canvases: list[Case],
    n: int,
    seed: int = 0,
    method: str = "diffusion",
    model_dir: Path | None = None,
    canvas_px: int = 256,
    progress=None,
    diffusion_options: dict | None = None,
    backend: str = "torch-cpu",
) -> list[SyntheticImage]:
    """n synthetic images, half benign and half malignant, canvases used in a seeded rotation.
    diffusion_options go to the pipeline call (steps, guidance, strength, sampler); default: its own."""
    if n < 1:
        raise InputError(f"the synthetic set needs at least 1 image, got {n}")
    return list(
        synthetic_items(canvases, range(n), seed, method, model_dir, canvas_px, progress, diffusion_options)
    )


def encode_png(array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise InputError("could not encode a PNG")
    return buf.tobytes()


def write_synthetic_set(items: list[SyntheticImage], folder: Path) -> Path:
    """Write the set as a generic folder dataset (images/, masks/, labels.csv) readable by
    engine.datasets.load_folder, plus records.jsonl with how each image was made."""
    folder = Path(folder)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["image", "label", "patient_id", "mm_per_pixel"])
    records = []
    for it in items:
        atomic_write_bytes(folder / "images" / f"{it.name}.png", encode_png(it.image))
        atomic_write_bytes(folder / "masks" / f"{it.name}.png", encode_png(it.mask.astype(np.uint8) * 255))
        # images drawn into the same canvas count as one patient, so splits keep them together
        writer.writerow(
            [f"{it.name}.png", it.label, f"canvas:{it.canvas}", f"{it.record['mm_per_pixel']:.6g}"]
        )
        records.append(
            json.dumps({"image": f"{it.name}.png", "label": it.label, **it.record}, sort_keys=True)
        )
    atomic_write_bytes(folder / "labels.csv", rows.getvalue().encode())
    atomic_write_bytes(folder / "records.jsonl", ("\n".join(records) + "\n").encode())
    return folder
