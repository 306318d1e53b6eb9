"""Training data for the generator: lesion windows, captions, and the fixed patient-grouped split.

`build_cache` reads every lesion of BUSI and BrEaST once and stores model-grid windows and masks
(uint8, at the model's own grid size), caption tokens (the frozen text encoder runs once per distinct
caption) and attribute indices in one .npz, so an epoch costs no image decoding. The conditions are
a pure function of window and mask (engine.generator.conditions.condition_stack): they are made when
the cache is loaded, not stored, which keeps the file small enough to carry to a GPU machine. Captions come from the radiologists'
labels where the dataset has them (BrEaST); for BUSI only the pathology is known (the attribute
measurement of engine.language is used once it exists).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DataError
from engine.fileio import atomic_write, atomic_write_bytes
from engine.generator.captions import caption
from engine.generator.conditions import condition_stack
from engine.generator.window import MODEL_SIZE, choose_window, crop_gray, crop_mask
from engine.language.description import LesionDescription
from engine.language.lexicon import Pathology

SPLIT_FRACTIONS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))
CACHE_VERSION = 2


@dataclass(frozen=True)
class LesionSample:
    sample_id: str  # dataset/case_id/mask file stem
    group: str  # dataset/patient_id: never split across train/validation/test
    pixel_hash: str  # identical images (BUSI has duplicates) are grouped too
    description: LesionDescription
    caption: str
    caption_source: str  # "radiologists", "measured" or "pathology"


def attribute_measure():
    """engine.language's attribute measurement (image + mask -> description), when it exists."""
    try:
        module = importlib.import_module("engine.language.measure")
    except ModuleNotFoundError:
        return None
    return getattr(module, "measure", None)


def description_for(case, gray, mask, measure) -> tuple[LesionDescription, str]:
    if case.description is not None:
        return case.description, "radiologists"
    pathology = Pathology(case.label) if case.label in ("benign", "malignant") else None
    if measure is not None:
        # engine.language.measure.measure(image, mask, mm_per_pixel) -> (description, confidences)
        measured = measure(gray, mask, case.mm_per_pixel)
        measured = measured[0] if isinstance(measured, tuple) else measured
        values = {**measured.to_dict(), "pathology": pathology.value if pathology else None}
        return LesionDescription.from_dict(values), "measured"
    return LesionDescription(pathology=pathology), "pathology"


def iter_lesions(data_root: Path, datasets=("busi", "breast")):
    """(Case, mask path, gray image, mask) for every annotated lesion, one mask at a time."""
    from engine.datasets import load_breast, load_busi
    from engine.datasets.images import read_gray, read_mask

    loaders = {
        "busi": lambda: load_busi(data_root / "bus" / "BUSI"),
        "breast": lambda: load_breast(data_root / "bus" / "BrEaST-Lesions_USG"),
    }
    for name in datasets:
        if name not in loaders:
            raise DataError(f"unknown dataset {name!r}; known: {', '.join(loaders)}")
        index = loaders[name]()
        for case in index.lesion_cases():
            gray = read_gray(case.image_path)
            for mp in case.mask_paths:
                mask = read_mask(mp)
                if mask.shape != gray.shape or mask.sum() < 16:
                    continue
                yield case, mp, gray, mask


def _atomic_save_npz(path: Path, **arrays) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)


def _to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip(np.rint((np.asarray(values, np.float32) - low) * 255.0 / (high - low)), 0, 255).astype(
        np.uint8
    )


def write_cache(path: Path, windows, masks, samples: list[LesionSample], text_encoder) -> None:
    """Store windows and soft masks (uint8), caption tokens and attribute indices."""
    from engine.language.attributes import description_to_index_lists

    captions = sorted({s.caption for s in samples})
    tokens, token_mask = text_encoder.encode_with_mask(captions)
    cap_index = {c: i for i, c in enumerate(captions)}
    rows = [description_to_index_lists(s.description) for s in samples]
    keys = sorted(rows[0])
    attributes = {f"attr_{k}": np.array([r[k] for r in rows], np.int64) for k in keys}
    meta = [
        {
            "sample_id": s.sample_id,
            "group": s.group,
            "pixel_hash": s.pixel_hash,
            "description": s.description.to_dict(),
            "caption": s.caption,
            "caption_source": s.caption_source,
        }
        for s in samples
    ]
    _atomic_save_npz(
        path,
        version=np.array(CACHE_VERSION),
        windows=_to_uint8(windows, -1.0, 1.0),
        masks=_to_uint8(masks, 0.0, 1.0),
        caption_tokens=tokens.numpy().astype(np.float16),
        caption_mask=token_mask.numpy(),
        caption_index=np.array([cap_index[s.caption] for s in samples], np.int64),
        meta=np.array(json.dumps(meta)),
        **attributes,
    )


def build_cache(
    data_root: Path,
    path: Path,
    text_encoder,
    datasets=("busi", "breast"),
    progress=print,
    size: int = MODEL_SIZE,
) -> Path:
    measure = attribute_measure()
    windows, masks, samples = [], [], []
    for n, (case, mask_path, gray, mask) in enumerate(iter_lesions(data_root, datasets)):
        window = choose_window(mask, size=size)
        windows.append(crop_gray(gray, window))
        masks.append(crop_mask(mask, window))
        description, source = description_for(case, gray, mask, measure)
        samples.append(
            LesionSample(
                sample_id=f"{case.dataset}/{case.case_id}/{Path(mask_path).stem}",
                group=f"{case.dataset}/{case.patient_id}",
                pixel_hash=hashlib.sha1(gray.tobytes()).hexdigest()[:16],
                description=description,
                caption=caption(description),
                caption_source=source,
            )
        )
        if progress and n % 200 == 0:
            progress(f"cache: {n} lesions read")
    if not samples:
        raise DataError(f"no lesion found under {data_root}/bus for datasets {', '.join(datasets)}")
    write_cache(path, windows, masks, samples, text_encoder)
    return path


@dataclass
class Cache:
    windows: np.ndarray  # [N, S, S] float32 in [-1, 1]
    conditions: np.ndarray  # [N, 4, S, S] float32
    caption_tokens: np.ndarray  # [U, T, W] float32
    caption_mask: np.ndarray  # [U, T] bool
    caption_index: np.ndarray  # [N]
    attributes: dict  # name -> [N] or [N, 4]
    meta: list[dict]

    def __len__(self) -> int:
        return len(self.meta)

    def ids(self) -> list[str]:
        return [m["sample_id"] for m in self.meta]


def load_cache(path: Path) -> Cache:
    if not Path(path).is_file():
        raise DataError(f"training cache {path} does not exist")
    with np.load(path) as z:
        if int(z["version"]) != CACHE_VERSION:
            raise DataError(
                f"{path}: cache version {int(z['version'])} is not {CACHE_VERSION}; delete it to rebuild"
            )
        windows = z["windows"].astype(np.float32) / 127.5 - 1.0
        masks = z["masks"].astype(np.float32) / 255.0
        return Cache(
            windows=windows,
            conditions=np.stack([condition_stack(w, m) for w, m in zip(windows, masks, strict=True)]),
            caption_tokens=z["caption_tokens"].astype(np.float32),
            caption_mask=z["caption_mask"].astype(bool),
            caption_index=z["caption_index"],
            attributes={k[5:]: z[k] for k in z.files if k.startswith("attr_")},
            meta=json.loads(str(z["meta"])),
        )


def make_split(meta: list[dict], salt: str = "bus-studio-split-v1") -> dict[str, list[str]]:
    """Patient-grouped split, 80/10/10 by group count, from a hash of each group's key (stable).

    Samples sharing a patient, or sharing identical pixels, form one group and land in one split.
    """
    parent: dict[str, str] = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for m in meta:
        a, b = find("g:" + m["group"]), find("h:" + m["pixel_hash"])
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for m in meta:
        groups.setdefault(find("g:" + m["group"]), []).append(m["sample_id"])
    keys = sorted(groups, key=lambda k: hashlib.sha1((salt + k).encode()).hexdigest())
    split: dict[str, list[str]] = {name: [] for name, _ in SPLIT_FRACTIONS}
    edges = np.cumsum([f for _, f in SPLIT_FRACTIONS]) * len(keys)
    for i, key in enumerate(keys):
        name = SPLIT_FRACTIONS[int(np.searchsorted(edges, i, side="right"))][0]
        split[name].extend(groups[key])
    return {name: sorted(ids) for name, ids in split.items()}


def load_or_make_split(path: Path, meta: list[dict]) -> dict[str, list[str]]:
    """The saved split when it exists (it must cover every sample), else a new one saved to `path`."""
    if Path(path).is_file():
        split = json.loads(Path(path).read_text())
        known = {i for ids in split.values() for i in ids}
        unknown = [m["sample_id"] for m in meta if m["sample_id"] not in known]
        if unknown:
            raise DataError(
                f"{path} does not cover {len(unknown)} samples (e.g. {unknown[0]}); "
                "the data changed: move the split file away to make a new one"
            )
        return split
    split = make_split(meta)
    atomic_write_bytes(path, (json.dumps(split, indent=1) + "\n").encode())
    return split
