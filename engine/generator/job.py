"""The main job's synthesis walk: study -> frame -> description -> mask -> synthesis -> files.

Each step calls its own room (engine.dicom, engine.language, engine.masks, the pipeline here); a
room that does not exist stops the job with MissingPartError naming it before anything is written.
Outputs in the job's folder: per variant the synthetic DICOM image, SEG and SR, a PNG preview of
the whole frame and a side-by-side close-up (original | synthetic | outline), and `record.json`
with every parameter. Each file is written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import InputError, MissingPartError
from engine.fileio import atomic_write_bytes
from engine.generator import defaults
from engine.parts import require

ISSUE = "The text- and mask-guided diffusion generator"
# Used for PNG/JPEG inputs without a scale (typical of the public BUS datasets: 0.06-0.12 mm/px).
ASSUMED_MM_PER_PIXEL = 0.09


@dataclass
class JobResult:
    out_dir: Path
    dicom: list[dict] = field(default_factory=list)  # per variant: image, segmentation, report paths
    previews: list[Path] = field(default_factory=list)
    record_path: Path | None = None
    record: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"wrote {len(self.previews)} variant(s) to {self.out_dir}"]
        for i, d in enumerate(self.dicom):
            lines.append(
                f"  variant {i}: {Path(d['image']).name}, {Path(d['segmentation']).name}, {Path(d['report']).name}"
            )
        lines.append(f"  record: {self.record_path}")
        return "\n".join(lines)


def png_bytes(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def mm_per_pixel_of(calibration) -> tuple[float, str]:
    scale = calibration.mm_per_pixel if calibration is not None else None
    if scale:
        return float((scale[0] + scale[1]) / 2.0), "calibration"
    return ASSUMED_MM_PER_PIXEL, f"assumed {ASSUMED_MM_PER_PIXEL} mm/px (the input has no calibration)"


def sr_content(text: str, description) -> dict:
    """The SR's content for a request: its text, coded BI-RADS attributes and measurements (highdicom)."""
    from engine.language.codes import description_to_coded_pairs, description_to_measurements, to_highdicom

    return {
        "text": text,
        "qualitative_evaluations": [
            (to_highdicom(c), to_highdicom(v)) for c, v in description_to_coded_pairs(description)
        ],
        "measurements": [
            (to_highdicom(c), v, to_highdicom(u)) for c, v, u in description_to_measurements(description)
        ],
    }


def tissue_region(gray: np.ndarray, calibration) -> np.ndarray:
    """Where a lesion may go: the calibrated 2D region (else the whole frame), minus the skin line
    (top 15 % of it) and dark pixels outside the sector (columns/rows that are almost black)."""
    region = None
    if calibration is not None:
        region = calibration.region_mask(gray.shape, calibrated_only=True)
        if not region.any():
            region = None
    if region is None:
        region = np.ones(gray.shape, bool)
    ys, xs = np.nonzero(region)
    y0, y1 = ys.min(), ys.max()
    region[: int(y0 + 0.15 * (y1 - y0 + 1))] = False
    from scipy import ndimage

    lit = ndimage.uniform_filter(gray.astype(np.float32), 15) > 12
    return region & lit


def place_mask(description, seed: int, mm_per_pixel: float, gray: np.ndarray, calibration, tries: int = 30):
    """A generated mask (engine.masks) whose lesion and its posterior window lie inside the tissue region."""
    masks = require(
        "engine.masks",
        "the semantic-curvature mask generator (engine.masks)",
        "Semantic-curvature mask generator",
    )
    generator = getattr(masks, "generator", None) or require(
        "engine.masks.generator",
        "the mask generator (engine.masks.generator)",
        "Semantic-curvature mask generator",
    )
    allowed = tissue_region(gray, calibration)
    ys, xs = np.nonzero(allowed)
    if ys.size == 0:
        raise InputError("the frame has no tissue region to place a lesion in")
    rng = np.random.default_rng(seed)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    for attempt in range(tries):
        # Upper-middle depth of the tissue region: where breast masses usually sit, with room below.
        center = (
            float(rng.uniform(x0 + 0.3 * (x1 - x0), x0 + 0.7 * (x1 - x0))),
            float(rng.uniform(y0 + 0.15 * (y1 - y0), y0 + 0.5 * (y1 - y0))),
        )
        gm = generator.generate_mask(description, seed + 7919 * attempt, mm_per_pixel, gray.shape, center)
        if gm.mask.any() and allowed[gm.mask].all():
            return gm, {"center": [round(center[0], 1), round(center[1], 1)], "attempt": attempt}
    raise InputError(
        f"no placement of a {description.size_mm or 'prior-sized'} mm lesion fits inside the tissue region "
        f"after {tries} tries; give a smaller size or a --mask"
    )


def read_user_mask(path: Path, shape) -> np.ndarray:
    from engine.datasets.images import read_mask

    mask = read_mask(path)
    if mask.shape != shape:
        raise InputError(f"--mask {path}: size {mask.shape[::-1]} differs from the frame {shape[::-1]}")
    if not mask.any():
        raise InputError(f"--mask {path} is empty")
    return mask


def read_contour(path: Path, shape) -> np.ndarray:
    spline = require(
        "engine.contour.spline", "the contour editor's curve (engine.contour)", "Contour editing"
    )
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InputError(f"--contour {path}: cannot read: {exc}") from exc
    mask = spline.Contour.from_json(text).raster(shape)
    if not mask.any():
        raise InputError(f"--contour {path} encloses no pixel of the frame")
    return mask


def _close_up(original: np.ndarray, synthetic: np.ndarray, mask: np.ndarray, window: dict) -> np.ndarray:
    import cv2

    sl = slice(window["y0"], window["y1"]), slice(window["x0"], window["x1"])
    a, b = original[sl], synthetic[sl]
    outline = cv2.cvtColor(b, cv2.COLOR_GRAY2RGB)
    edge = mask[sl] & ~cv2.erode(mask[sl].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    outline[edge] = (255, 200, 0)
    return np.hstack([cv2.cvtColor(a, cv2.COLOR_GRAY2RGB), cv2.cvtColor(b, cv2.COLOR_GRAY2RGB), outline])


def run_job(job) -> JobResult:
    """Walk the main job for a workflow.SynthesisJob; returns what was written."""
    started = time.perf_counter()
    dicom = require("engine.dicom", "DICOM reading and writing (engine.dicom)", "DICOM in and out")
    writer = require(
        "engine.dicom.writer", "the synthetic study writer (engine.dicom.writer)", "DICOM in and out"
    )
    parser = require(
        "engine.language.parser", "the clinical language parser (engine.language.parser)", "Clinical language"
    )
    if job.method not in ("diffusion", "physics"):
        raise InputError(f"--method {job.method!r} is not diffusion or physics")
    if job.variants < 1:
        raise InputError(f"--variants {job.variants} must be at least 1")
    study = dicom.open_study(job.input)
    frame = study.frame(job.frame)
    gray = frame.gray
    mm, mm_source = mm_per_pixel_of(frame.calibration)
    parsed = parser.parse_text(job.text)
    description = parsed.description
    soft = None
    placement: dict = {}
    if job.mask is not None:
        mask, mask_source = read_user_mask(job.mask, gray.shape), f"mask file {job.mask}"
    elif job.contour is not None:
        mask, mask_source = read_contour(job.contour, gray.shape), f"contour file {job.contour}"
    else:
        gm, placement = place_mask(description, job.seed, mm, gray, frame.calibration)
        mask, soft, mask_source = gm.mask, gm.soft, "generated from the description (engine.masks)"
        description = gm.description  # the request with every free choice filled in

    if job.method == "physics":
        from engine.generator.pipeline import physics_only

        result = physics_only(gray, mask, description, job.seed, job.variants, soft)
        model_name = "physics draft (no model)"
    else:
        from engine.backends import load_pipeline
        from engine.backends.onnx_backend import CONFIG_NAME
        from engine.settings import get_settings

        model_dir = Path(job.model_dir or get_settings().model_dir)
        if not (model_dir / CONFIG_NAME).is_file():
            raise MissingPartError(f"the trained tumor generator model ({model_dir})", ISSUE)
        # torch or onnxruntime; same sampling walk; LoRA adapters (engine.adapt) fused on torch weights
        pipe = load_pipeline(model_dir, job.backend, adapters=job.extra.get("adapters", ()))
        result = pipe(
            gray, mask, description, seed=job.seed, steps=job.steps, guidance=job.guidance,
            strength=job.strength, variants=job.variants, text=job.text, soft_mask=soft,
            sampler=job.extra.get("sampler"),
            native_detail=job.extra.get("native_detail", defaults.NATIVE_DETAIL),
        )  # fmt: skip
        model_name = f"BUS Studio tumor generator ({model_dir.name})"

    sr_description = sr_content(job.text, description)
    out = JobResult(Path(job.out_dir))
    for i, pixels in enumerate(result.pixels):
        seed_i = job.seed + i
        derivation = {
            "model": model_name,
            "method": job.method,
            "seed": seed_i,
            **(
                {"steps": job.steps, "guidance": job.guidance, "strength": job.strength}
                if job.method == "diffusion"
                else {}
            ),
        }
        paths = writer.write_synthetic_study(
            study, [pixels], [mask], sr_description, derivation, out.out_dir,
            deidentify=job.deidentify, stem=f"synthetic_{i}",
        )  # fmt: skip
        out.dicom.append(
            {"image": str(paths.image), "segmentation": str(paths.segmentation), "report": str(paths.report)}
        )
        shown = pixels
        if job.deidentify:
            # The preview must not show what the DICOM writer blanked (burned-in names, dates).
            from engine.dicom.deid import clean_pixel_data

            cleaned = clean_pixel_data([pixels], frame.calibration)
            shown = cleaned[0] if cleaned is not None else pixels
        out.previews.append(atomic_write_bytes(out.out_dir / f"preview_{i}.png", png_bytes(shown)))
        atomic_write_bytes(
            out.out_dir / f"closeup_{i}.png",
            png_bytes(_close_up(gray, pixels, mask, result.record["window"])),
        )
    atomic_write_bytes(out.out_dir / "mask.png", png_bytes(mask.astype(np.uint8) * 255))
    out.record = {
        "input": str(job.input),
        "frame": job.frame,
        "frame_shape": list(gray.shape),
        "mm_per_pixel": mm,
        "mm_per_pixel_source": mm_source,
        "text": job.text,
        "parsed": parsed.to_dict(),
        "description": description.to_dict(),
        "mask_source": mask_source,
        "placement": placement,
        "method": job.method,
        "backend": job.backend,
        "model_dir": str(job.model_dir) if job.model_dir else None,
        "deidentify": job.deidentify,
        "generator": result.record,
        "outputs": {"dicom": out.dicom, "previews": [str(p) for p in out.previews]},
        "seconds": round(time.perf_counter() - started, 3),
    }
    out.record_path = atomic_write_bytes(
        out.out_dir / "record.json", (json.dumps(out.record, indent=2, default=str) + "\n").encode()
    )
    return out
