"""Plan, shard and run the synthesis of K new lesions into every image of a dataset.

One work item is (source image, k). Its seed comes from the run seed, the source's case id and k
only, so the output does not depend on the number of workers or on where a run was interrupted.
An item is finished when its record (records/NAME.json) exists: images and masks are written
before it, every file atomically, so a killed run resumes by skipping finished items.

The building blocks are the synthetic set's (engine.evaluation.synthetic: description sampling per
label, canvas reading, the generator loader) and the main job's placement (engine.generator.job).
Differences from the synthetic set: the source frame is fixed (every image of the dataset is
augmented, lesion or not) and a new lesion keeps clear of the source's own lesions.

Output folder (a folder dataset that engine.datasets.load_folder reads):
  images/NAME.png, masks/NAME_0.png (the synthetic lesion), masks/NAME_1.png ... (the source's
  lesions), labels.csv, records/NAME.json, manifest.csv, manifest.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue as queue_module
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.datasets.base import Case
from engine.errors import BusError, InputError

# Per placement try the drawn size shrinks x0.8 (the synthetic set's rule); a frame that cannot hold
# even the smallest one is recorded as skipped, with the reason.
PLACEMENT_TRIES = 9
# Pixels kept free around the source's own lesions (their posterior features and margins).
KEEP_CLEAR_PX = 15


@dataclass(frozen=True)
class AugmentConfig:
    dataset: Path
    out_dir: Path
    n_per_image: int = 1
    workers: int = 1
    method: str = "diffusion"
    model_dir: Path | None = None
    seed: int = 0
    fmt: str | None = None  # dataset format; None: detected from the layout
    max_side: int = 0  # 0: the source's own size; else frames are reduced to at most this side
    limit: int | None = None  # only the first N source images (a trial run)
    diffusion_options: dict = field(default_factory=dict)  # steps, guidance, strength, sampler
    gpus: tuple[str, ...] = ()  # worker w runs on gpus[w % len(gpus)] (CUDA_VISIBLE_DEVICES)


@dataclass(frozen=True)
class WorkItem:
    name: str
    case: Case
    k: int
    seed: int
    label: str  # the synthetic lesion's: benign or malignant


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "image"


def plan_items(cases: list[Case], n_per_image: int, seed: int = 0) -> list[WorkItem]:
    """Every (source, k) of the run, in dataset order. Labels alternate over k starting from a
    per-source parity, so the synthetic lesions are half benign, half malignant."""
    if n_per_image < 1:
        raise InputError(f"--n-per-image {n_per_image} must be at least 1")
    slugs = [_slug(f"{c.dataset}_{c.case_id}") for c in cases]
    clash = {s for s in slugs if slugs.count(s) > 1}
    items = []
    for case, slug in zip(cases, slugs, strict=True):
        key = zlib.crc32(f"{case.dataset}/{case.case_id}".encode())
        if slug in clash:  # two case ids that differ only in characters a file name cannot hold
            slug = f"{slug}_{key:08x}"
        for k in range(n_per_image):
            item_seed = (int(seed) * 1_000_003 + key * 1009 + k) % 2**31
            label = ("benign", "malignant")[(key + k) % 2]
            items.append(WorkItem(f"{slug}_k{k:02d}", case, k, item_seed, label))
    return items


def record_path(out_dir: Path, item: WorkItem) -> Path:
    return Path(out_dir) / "records" / f"{item.name}.json"


def model_id(method: str, model_dir: Path | None) -> str:
    """What drew the lesions, for the manifest: the model folder and its weights' digest."""
    if method == "physics":
        return "physics draft (no model)"
    from engine.settings import get_settings

    model_dir = Path(model_dir or get_settings().model_dir)
    weights = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.onnx"))
    digest = hashlib.sha256()
    for w in weights:
        with open(w, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
    return f"{model_dir.resolve()} (sha256 {digest.hexdigest()[:12]})" if weights else str(model_dir)


def _atomic_bytes(path: Path, data: bytes) -> None:
    from engine.fileio import atomic_write_bytes

    atomic_write_bytes(path, data)


def _png(array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise InputError("could not encode a PNG")
    return buf.tobytes()


def _source_masks(case: Case, shape: tuple[int, int]) -> list[np.ndarray]:
    from engine.datasets.images import read_mask

    out = []
    for p in case.mask_paths:
        m = read_mask(p).astype(np.uint8)
        if m.shape != shape:  # the frame was reduced (--max-side)
            m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        out.append(m.astype(bool))
    return out


def synthesize_item(item: WorkItem, draw, priors, max_side: int, model: str) -> dict:
    """Draw one synthetic lesion into the item's source frame and write its files; returns its record."""
    from engine.evaluation.synthetic import _canvas, sample_description
    from engine.generator import job
    from engine.generator.captions import caption
    from engine.language.description import LesionDescription

    frame, mm = _canvas(item.case, max_side or 10**9, job.ASSUMED_MM_PER_PIXEL)
    sources = _source_masks(item.case, frame.shape)
    keep_out = np.zeros(frame.shape, np.uint8)
    for m in sources:
        keep_out |= m.astype(np.uint8)
    if keep_out.any():
        size = 2 * KEEP_CLEAR_PX + 1
        keep_out = cv2.dilate(keep_out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    rng = np.random.default_rng(item.seed)
    request = sample_description(item.label, priors, rng)
    drawn_mm = float(np.exp(rng.normal(priors.size_mm["log_mean"], priors.size_mm["log_sd"])))
    placed = None
    for attempt in range(PLACEMENT_TRIES):
        size_mm = min(drawn_mm * 0.8**attempt, 0.6 * frame.shape[1] * mm)  # at most 60 % of the width
        sized = LesionDescription.from_dict({**request.to_dict(), "size_mm": size_mm})
        try:
            gm, placement = job.place_mask(sized, item.seed + 104_729 * attempt, mm, frame, None)
        except InputError:
            continue
        if not (gm.mask & keep_out.astype(bool)).any():
            placed = gm, {**placement, "size_tries": attempt + 1}
            break
    base = {
        "name": item.name,
        "source_image": str(item.case.image_path),
        "source_dataset": item.case.dataset,
        "source_case": item.case.case_id,
        "patient_id": item.case.patient_id,
        "source_label": item.case.label,
        "source_lesions": len(sources),
        "k": item.k,
        "seed": item.seed,
        "model": model,
    }
    if placed is None:
        return {
            **base,
            "status": "skipped",
            "reason": f"no place for a {item.label} lesion clear of the source's lesions "
            f"after {PLACEMENT_TRIES} tries (sizes down to {drawn_mm * 0.8 ** (PLACEMENT_TRIES - 1):.1f} mm)",
        }
    gm, placement = placed
    pixels, generator_record = draw(frame, gm.mask, gm.description, item.seed, gm.soft)
    image_label = "malignant" if "malignant" in (item.label, item.case.label) else "benign"
    return {
        **base,
        "status": "ok",
        "image": f"images/{item.name}.png",
        "mask": f"masks/{item.name}_0.png",
        "source_masks": [f"masks/{item.name}_{j + 1}.png" for j in range(len(sources))],
        "label": item.label,
        "image_label": image_label,
        "description": gm.description.to_dict(),
        "text": caption(gm.description),
        "mm_per_pixel": mm,
        "frame_shape": list(frame.shape),
        "placement": placement,
        "generator": generator_record,
        "_pixels": np.asarray(pixels, np.uint8),
        "_masks": [gm.mask, *sources],
    }


def write_item(out_dir: Path, item: WorkItem, record: dict) -> dict:
    """Images and masks first, the record last: the record marks the item finished."""
    pixels = record.pop("_pixels", None)
    masks = record.pop("_masks", [])
    if pixels is not None:
        _atomic_bytes(out_dir / record["image"], _png(pixels))
        for j, m in enumerate(masks):
            _atomic_bytes(out_dir / "masks" / f"{item.name}_{j}.png", _png(m.astype(np.uint8) * 255))
    text = json.dumps(record, indent=1, sort_keys=True, default=str) + "\n"
    _atomic_bytes(record_path(out_dir, item), text.encode())
    return record


def _limit_threads(workers: int, method: str) -> None:
    """Each of W workers gets its share of the cores (torch and OpenCV default to all of them)."""
    threads = max(1, (os.cpu_count() or 1) // max(workers, 1))
    cv2.setNumThreads(threads)
    if method != "diffusion":
        return  # the physics draft needs no torch: do not pay for importing it
    try:
        import torch
    except ImportError:  # the physics draft and the onnx backends run without torch
        return
    torch.set_num_threads(threads)


def _run_shard(cfg: AugmentConfig, items: list[WorkItem], report) -> None:
    """Synthesize a list of items in this process; report(name) after each one."""
    from engine.evaluation.synthetic import _load_generator
    from engine.masks.priors import load_priors

    draw = _load_generator(cfg.method, cfg.model_dir, cfg.diffusion_options or None)
    priors = load_priors()
    model = model_id(cfg.method, cfg.model_dir)
    for item in items:
        if record_path(cfg.out_dir, item).is_file():
            continue
        write_item(cfg.out_dir, item, synthesize_item(item, draw, priors, cfg.max_side, model))
        report(item.name)


def _worker(index: int, cfg: AugmentConfig, items: list[WorkItem], messages) -> None:
    if cfg.gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = cfg.gpus[index % len(cfg.gpus)]
    _limit_threads(cfg.workers, cfg.method)
    try:
        _run_shard(cfg, items, lambda name: messages.put(("done", index, name)))
    except BaseException as exc:  # the parent reports it and stops the other workers
        messages.put(("error", index, f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None
    messages.put(("finished", index, ""))


class AugmentError(BusError):
    """A worker of `bus-engine augment` stopped with an error."""


def load_cases(cfg: AugmentConfig) -> list[Case]:
    from engine.datasets import load_dataset

    index = load_dataset(cfg.dataset, cfg.fmt)
    cases = index.cases[: cfg.limit] if cfg.limit else index.cases
    if not cases:
        raise InputError(f"dataset {cfg.dataset} has no usable images to augment")
    return cases


def run_augment(cfg: AugmentConfig, progress=None) -> dict:
    """Run (or resume) the batch; returns {'planned', 'resumed', 'written', 'skipped', 'manifest'}.
    progress: an object whose advance(1, worker) is called once per finished item
    (engine.augment.progress.Progress)."""
    from engine.augment.manifest import write_manifest

    if cfg.workers < 1:
        raise InputError(f"--workers {cfg.workers} must be at least 1")
    cases = load_cases(cfg)
    items = plan_items(cases, cfg.n_per_image, cfg.seed)
    todo = [it for it in items if not record_path(cfg.out_dir, it).is_file()]
    resumed = len(items) - len(todo)
    if progress is not None:
        progress.total, progress.done, progress.already = len(items), resumed, resumed
    Path(cfg.out_dir).mkdir(parents=True, exist_ok=True)
    tick = progress.advance if progress is not None else (lambda n=1, worker=0: None)
    if todo and cfg.workers == 1 and not cfg.gpus:
        _run_shard(cfg, todo, lambda name: tick())
    elif todo:
        _run_parallel(cfg, todo, tick)
    manifest = write_manifest(cfg.out_dir, items)
    return {"planned": len(items), "resumed": resumed, **manifest}


def _run_parallel(cfg: AugmentConfig, todo: list[WorkItem], tick) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix; spawn is what Windows has
    messages = ctx.Queue()
    workers = min(cfg.workers, len(todo))
    procs = [
        ctx.Process(target=_worker, args=(w, cfg, todo[w::workers], messages), daemon=True)
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    finished: set[int] = set()
    try:
        while len(finished) < workers:
            try:
                kind, index, text = messages.get(timeout=1.0)
            except queue_module.Empty:
                dead = [w for w, p in enumerate(procs) if w not in finished and p.exitcode not in (None, 0)]
                if dead:
                    raise AugmentError(
                        f"augment worker {dead[0]} died (exit code {procs[dead[0]].exitcode}); "
                        "run the same command again to resume"
                    ) from None
                continue
            if kind == "done":
                tick(1, index)
            elif kind == "finished":
                finished.add(index)
            else:
                raise AugmentError(f"augment worker {index}: {text}; run the same command again to resume")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
