"""`bus-engine synthesize --all-frames`: the main job through a whole cine loop.

The tumor's mask is placed on one frame (generated from the description, or a --mask / --contour),
fitted with a contour, carried to every other frame by propagation, and drawn into each frame with
the same seed and description (engine.annotation.cine_synthesis). Outputs: per frame a synthetic
DICOM image with its SEG (that frame's mask) and SR, the track (contour and method per frame), a
preview of the anchor frame, a strip of close-ups through the loop, and `record.json` with the
frame-to-frame consistency of the tumor.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import InputError, MissingPartError
from engine.fileio import atomic_write_bytes

ISSUE = "The text- and mask-guided diffusion generator"
STRIP_FRAMES = 6  # frames shown side by side in strip.png
STRIP_TILE_PX = 200  # height of each close-up in it


@dataclass
class LoopJobResult:
    out_dir: Path
    dicom: list[dict] = field(default_factory=list)  # per frame: frame, image, segmentation, report
    record_path: Path | None = None
    record: dict = field(default_factory=dict)

    def __str__(self) -> str:
        r = self.record
        c = r["consistency"]
        return "\n".join(
            [
                f"wrote a {r['frames']}-frame synthetic loop to {self.out_dir} ({r['mode']} mode, seed {r['seed']}, "
                f"{r['synthesis']['seconds_per_frame'] * 1000:.0f} ms per frame)",
                f"  per frame: {Path(self.dicom[0]['image']).name} .. {Path(self.dicom[-1]['image']).name} "
                "with their _seg and _sr; track.json, strip.png",
                f"  lesion interior change between consecutive frames: {c['synthetic']:.2f} grey levels "
                f"(the loop's own tissue there: {c['original']:.2f})",
                f"  record: {self.record_path}",
            ]
        )


def _anchor_contour(job, study, gray, frame, mm):
    """The tumor's contour on the anchor frame, the description with its free choices filled in,
    where the mask came from, and the placement."""
    from engine.contour.fit import fit_contour
    from engine.contour.spline import Contour
    from engine.generator import job as main_job
    from engine.language.parser import parse_text

    parsed = parse_text(job.text)
    description, placement = parsed.description, {}
    if job.contour is not None:
        main_job.read_contour(job.contour, gray.shape)  # the same checks as a single frame
        contour, source = Contour.from_json(Path(job.contour).read_text()), f"contour file {job.contour}"
    elif job.mask is not None:
        mask = main_job.read_user_mask(job.mask, gray.shape)
        contour, source = fit_contour(mask).contour, f"mask file {job.mask}"
    else:
        gm, placement = main_job.place_mask(description, job.seed, mm, gray, frame.calibration)
        contour, source = fit_contour(gm.mask).contour, "generated from the description (engine.masks)"
        description = gm.description
    return parsed, description, contour, source, placement


def _synth(job, description):
    from engine.annotation.cine_synthesis import diffusion_synth, physics_synth

    if job.method == "physics":
        return physics_synth(description), "physics draft (no model)"
    from engine.backends import load_pipeline
    from engine.backends.onnx_backend import CONFIG_NAME
    from engine.settings import get_settings

    model_dir = Path(job.model_dir or get_settings().model_dir)
    if not (model_dir / CONFIG_NAME).is_file():
        raise MissingPartError(f"the trained tumor generator model ({model_dir})", ISSUE)
    adapters = job.extra.get("adapters")
    pipe = load_pipeline(model_dir, job.backend, **({"adapters": adapters} if adapters else {}))
    sampling = {"steps": job.steps, "guidance": job.guidance, "strength": job.strength}
    if job.extra.get("sampler"):
        sampling["sampler"] = job.extra["sampler"]
    return diffusion_synth(
        pipe, description, job.text, **sampling
    ), f"BUS Studio tumor generator ({model_dir.name})"


def track_consistency(frames, pixels, track, anchor) -> dict:
    """Interior change between consecutive frames, both loops pulled into the anchor's geometry by
    the track's own warps (so it compares the tumor with the tissue it sits in, not with the truth)."""
    from engine.annotation.cine_synthesis import ContourWarp, interior_change
    from engine.generator.window import choose_window

    anchor_contour = track.entries[anchor].contour
    mask = anchor_contour.raster(frames[0].shape)
    w = choose_window(mask)
    box = (w.x0, w.y0, w.x1, w.y1)
    inside = mask[w.y0 : w.y1, w.x0 : w.x1]
    pulled = {"synthetic": [], "original": []}
    for i in sorted(track.entries):
        warp = ContourWarp.fit(anchor_contour, track.entries[i].contour)
        pulled["synthetic"].append(warp.pull(pixels[i], box))
        pulled["original"].append(warp.pull(frames[i], box))
    return {k: round(float(interior_change(v, inside).mean()), 3) for k, v in pulled.items()}


def _strip(frames, pixels, masks) -> np.ndarray:
    """Original (top) and synthetic (bottom) close-ups of a few frames spread over the loop."""
    import cv2

    ys, xs = np.nonzero(masks.any(axis=0))
    h, w = frames.shape[1:]
    pad = max(int(np.ptp(ys)), int(np.ptp(xs)))
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad, h)
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad, w)
    picks = np.unique(np.linspace(0, len(frames) - 1, STRIP_FRAMES).round().astype(int))
    rows = [np.hstack([a[k][y0:y1, x0:x1] for k in picks]) for a in (frames, pixels)]
    strip = np.vstack(rows)
    scale = min(STRIP_TILE_PX / (y1 - y0), 1600 / strip.shape[1])  # small lesions are enlarged
    return cv2.resize(
        strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    )


def run_loop_job(job, mode: str = "warped") -> LoopJobResult:
    """Walk the main job through every frame of a workflow.SynthesisJob's multi-frame input."""
    from engine.annotation.cine_synthesis import synthesize_loop
    from engine.annotation.propagate import Track, propagate
    from engine.dicom import open_study
    from engine.dicom.writer import write_synthetic_study
    from engine.generator.job import mm_per_pixel_of, png_bytes, sr_content

    started = time.perf_counter()
    if job.method not in ("diffusion", "physics"):
        raise InputError(f"--method {job.method!r} is not diffusion or physics")
    if job.variants != 1:
        raise InputError(
            "--all-frames makes one tumor through the loop; give --variants 1 (or run again with another --seed)"
        )
    study = open_study(job.input)
    if study.n_frames < 2:
        raise InputError(f"--all-frames needs a multi-frame study; {job.input} has {study.n_frames} frame")
    if not 0 <= job.frame < study.n_frames:
        raise InputError(f"--frame {job.frame} is outside 0..{study.n_frames - 1}")
    frame = study.frame(job.frame)
    mm, mm_source = mm_per_pixel_of(frame.calibration)
    frames = np.stack([study.frame(i).gray for i in range(study.n_frames)])
    parsed, description, contour, mask_source, placement = _anchor_contour(
        job, study, frames[job.frame], frame, mm
    )

    track = Track(study.n_frames)
    track.set_manual(job.frame, contour)
    t0 = time.perf_counter()
    propagate(track, frames.__getitem__, job.frame, 1)
    propagate(track, frames.__getitem__, job.frame, -1)
    propagation_s = time.perf_counter() - t0

    synth, model_name = _synth(job, description)
    loop = synthesize_loop(frames.__getitem__, track, job.frame, synth, job.seed, mode)

    sr_description = sr_content(job.text, description)
    derivation = {
        "model": model_name,
        "method": job.method,
        "seed": job.seed,
        "loop_mode": mode,
        **(
            {"steps": job.steps, "guidance": job.guidance, "strength": job.strength}
            if job.method == "diffusion"
            else {}
        ),
    }
    out = LoopJobResult(Path(job.out_dir))
    # One single-frame study (image, SEG, SR) per frame: a multi-frame SEG with a different mask on
    # each frame needs a Frame of Reference, which ultrasound images lack (highdicom refuses it).
    for i in range(study.n_frames):
        paths = write_synthetic_study(
            study, [loop.pixels[i]], loop.masks[i], sr_description, {**derivation, "frame": i}, out.out_dir,
            deidentify=job.deidentify, stem=f"synthetic_frame{i:03d}",
        )  # fmt: skip
        out.dicom.append(
            {
                "frame": i,
                "image": str(paths.image),
                "segmentation": str(paths.segmentation),
                "report": str(paths.report),
            }
        )
    atomic_write_bytes(out.out_dir / "track.json", (json.dumps(track.to_dict(), indent=2) + "\n").encode())
    shown = loop.pixels
    if job.deidentify:
        # previews must not show what the DICOM writer blanked (burned-in names, dates)
        from engine.dicom.deid import clean_pixel_data

        cleaned = clean_pixel_data(list(loop.pixels), frame.calibration)
        shown = np.stack(cleaned) if cleaned is not None else loop.pixels
    atomic_write_bytes(out.out_dir / f"preview_{job.frame}.png", png_bytes(shown[job.frame]))
    atomic_write_bytes(out.out_dir / "strip.png", png_bytes(_strip(frames, loop.pixels, loop.masks)))
    out.record = {
        "input": str(job.input),
        "frames": int(study.n_frames),
        "anchor_frame": job.frame,
        "frame_shape": list(frames.shape[1:]),
        "mm_per_pixel": mm,
        "mm_per_pixel_source": mm_source,
        "text": job.text,
        "parsed": parsed.to_dict(),
        "description": description.to_dict(),
        "mask_source": mask_source,
        "placement": placement,
        "method": job.method,
        "mode": mode,
        "seed": job.seed,
        "backend": job.backend,
        "model_dir": str(job.model_dir) if job.model_dir else None,
        "deidentify": job.deidentify,
        "propagation": {
            "methods": sorted({e.method for e in track.entries.values()}),
            "seconds_per_frame": round(propagation_s / max(study.n_frames - 1, 1), 4),
        },
        "synthesis": loop.record,
        "consistency": track_consistency(frames, loop.pixels, track, job.frame),
        "outputs": out.dicom,
        "seconds": round(time.perf_counter() - started, 3),
    }
    out.record_path = atomic_write_bytes(
        out.out_dir / "record.json", (json.dumps(out.record, indent=2, default=str) + "\n").encode()
    )
    return out
