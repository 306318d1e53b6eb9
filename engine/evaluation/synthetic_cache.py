"""The synthetic set on disk, keyed by everything that makes it, so seeds, arms and later runs reuse it.

    items, report = cached_synthetic_set(canvases, 200, seed=0, method="diffusion", root=cache_root())

The key is the SHA-256 of: the generator (method, the model folder's pipeline.json and weights, the
sampling options with the defaults filled in), the mask priors, the synthesis code (every module of
the packages it runs through), the canvases (dataset, case id, file size, in order), the canvas size
and the set's seed. The set size is not in the key: item i depends only on the seed and i
(engine.evaluation.synthetic.synthetic_items), so 200 images are the first 200 of 400, and a run
asking for more makes only the items the folder lacks. Each item is written as soon as it is made
(image, mask, then its record last, atomically), so an interrupted run resumes where it stopped.

Folder: <root>/<key>/key.json (what the key covers) and per item <name>.png, <name>_mask.png,
<name>.json.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.datasets.base import Case
from engine.errors import InputError, MissingPartError
from engine.evaluation.synthetic import (
    GENERATOR_ISSUE,
    SyntheticImage,
    encode_png,
    item_name,
    synthetic_items,
)
from engine.fileio import atomic_write_bytes

CACHE_VERSION = 1
# The packages a synthetic image is made by: a change to any of their modules makes a new key.
CODE_PACKAGES = ("generator", "masks", "contour", "language", "backends")
ENGINE = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """$XDG_CACHE_HOME/bus-studio/synthetic (default ~/.cache/bus-studio/synthetic)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bus-studio" / "synthetic"


def _sha256(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def code_fingerprint() -> str:
    files = [ENGINE / "evaluation" / "synthetic.py"]
    for package in CODE_PACKAGES:
        files += sorted((ENGINE / package).rglob("*.py"))
    return _sha256(files)


def generator_fingerprint(
    method: str, model_dir: Path | None, options: dict | None, backend: str = "torch-cpu"
) -> dict:
    """What the key needs to know of the generator: the model's files for diffusion, the sampling
    options with the defaults filled in (so 'default' and the same values spelt out agree), and the
    backend (a GPU in half precision draws other pixels than the CPU from the same seed)."""
    if method == "physics":
        return {"method": "physics"}
    from engine.generator import defaults
    from engine.settings import get_settings

    model_dir = Path(model_dir or get_settings().model_dir)
    config = model_dir / "pipeline.json"
    if not config.is_file():
        raise MissingPartError(f"the trained tumor generator model ({model_dir})", GENERATOR_ISSUE)
    weights = model_dir / json.loads(config.read_text(encoding="utf-8")).get("weights", "model.safetensors")
    if not weights.is_file():
        raise MissingPartError(f"the tumor generator's weights ({weights})", GENERATOR_ISSUE)
    resolved = {
        "steps": defaults.STEPS,
        "guidance": defaults.GUIDANCE,
        "strength": defaults.STRENGTH,
        "sampler": None,  # None: the one named in pipeline.json, which the model hash covers
        **(options or {}),
    }
    return {
        "method": "diffusion",
        "model_sha256": _sha256([config, weights]),
        "options": resolved,
        "backend": backend,
    }


def cache_key(
    canvases: list[Case],
    seed: int,
    method: str,
    model_dir: Path | None,
    canvas_px: int,
    diffusion_options: dict | None = None,
    backend: str = "torch-cpu",
) -> tuple[str, dict]:
    """(hex key, the dictionary it hashes)."""
    from engine.masks.priors import PRIORS_PATH

    canvas_list = [
        [c.dataset, c.case_id, Path(c.image_path).stat().st_size] for c in canvases if not c.has_lesion
    ]
    content = {
        "version": CACHE_VERSION,
        "generator": generator_fingerprint(method, model_dir, diffusion_options, backend),
        "priors_sha256": _sha256([Path(PRIORS_PATH)]) if Path(PRIORS_PATH).is_file() else None,
        "code_sha256": code_fingerprint(),
        "canvases_sha256": hashlib.sha256(json.dumps(canvas_list).encode()).hexdigest(),
        "canvases": len(canvas_list),
        "canvas_px": int(canvas_px),
        "seed": int(seed),
    }
    key = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:24]
    return key, content


def save_item(folder: Path, item: SyntheticImage) -> None:
    atomic_write_bytes(folder / f"{item.name}.png", encode_png(item.image))
    atomic_write_bytes(folder / f"{item.name}_mask.png", encode_png(item.mask.astype(np.uint8) * 255))
    # the record last: its presence says the item is complete
    meta = {"label": item.label, "canvas": item.canvas, "record": item.record}
    atomic_write_bytes(folder / f"{item.name}.json", json.dumps(meta, sort_keys=True).encode())


def load_item(folder: Path, name: str) -> SyntheticImage | None:
    """The stored item, or None when it is absent or incomplete (it is then made again)."""
    meta_path = folder / f"{name}.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    image = cv2.imread(str(folder / f"{name}.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(folder / f"{name}_mask.png"), cv2.IMREAD_UNCHANGED)
    if image is None or mask is None or image.shape != mask.shape:
        return None
    return SyntheticImage(name, image, mask > 0, meta["label"], meta["canvas"], meta["record"])


@dataclass(frozen=True)
class CacheReport:
    key: str
    folder: str
    reused: int
    made: int

    def to_dict(self) -> dict:
        return {"key": self.key, "folder": self.folder, "reused": self.reused, "made": self.made}


def cached_synthetic_set(
    canvases: list[Case],
    n: int,
    seed: int = 0,
    method: str = "diffusion",
    model_dir: Path | None = None,
    canvas_px: int = 256,
    progress=None,
    diffusion_options: dict | None = None,
    backend: str = "torch-cpu",
    root: Path | None = None,
) -> tuple[list[SyntheticImage], CacheReport]:
    """The same n images as build_synthetic_set, read from the cache where present; the missing
    ones are made and stored one by one."""
    if n < 1:
        raise InputError(f"the synthetic set needs at least 1 image, got {n}")
    key, content = cache_key(canvases, seed, method, model_dir, canvas_px, diffusion_options, backend)
    folder = Path(root or cache_root()) / key
    key_file = folder / "key.json"
    if not key_file.is_file():
        atomic_write_bytes(key_file, (json.dumps(content, indent=1, sort_keys=True) + "\n").encode())
    items: dict[int, SyntheticImage] = {}
    for i in range(n):
        item = load_item(folder, item_name(i))
        if item is not None:
            items[i] = item
    missing = [i for i in range(n) if i not in items]
    made = synthetic_items(canvases, missing, seed, method, model_dir, canvas_px, progress, diffusion_options)
    for i, item in zip(missing, made, strict=True):
        save_item(folder, item)
        items[i] = item
    report = CacheReport(key, str(folder), n - len(missing), len(missing))
    return [items[i] for i in range(n)], report
