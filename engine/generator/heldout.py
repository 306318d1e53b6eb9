"""The held-out lesions of a generator model: its fixed split's ids, read back from the data root.

A model folder's `split.json` names every lesion as `dataset/case_id/mask_stem` under "train",
"validation" and "test". Each held-out lesion comes back with its frame, its mask and the
description a request would carry: the radiologists' labels for BrEaST, engine.language's
attribute measurement (plus the dataset's pathology) for BUSI, as in training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DataError, InputError
from engine.language.description import LesionDescription

SPLIT_NAME = "split.json"
MIN_MASK_PIXELS = 16  # training skips smaller masks too


@dataclass
class HeldOutLesion:
    sample_id: str  # dataset/case_id/mask_stem
    dataset: str
    case_id: str
    patient_id: str
    image: np.ndarray  # uint8 frame
    mask: np.ndarray  # bool, frame size
    mm_per_pixel: float | None
    description: LesionDescription  # what the request carries
    description_source: str  # "radiologists" or "measured"

    @property
    def image_key(self) -> str:
        """One id per frame: lesions of one frame share their background."""
        return f"{self.dataset}/{self.case_id}"

    @property
    def radiologists(self) -> LesionDescription | None:
        return self.description if self.description_source == "radiologists" else None


def read_split_file(path: Path) -> dict[str, list[str]]:
    """A split.json file: {split name: [sample ids]}."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"split file {path} does not exist")
    try:
        split = json.loads(path.read_text())
        return {k: list(v) for k, v in split.items() if isinstance(v, list)}
    except (json.JSONDecodeError, AttributeError) as exc:
        raise DataError(f"{path}: not a valid split file: {exc}") from exc


def read_split(model_dir: Path) -> dict[str, list[str]]:
    path = Path(model_dir) / SPLIT_NAME
    if not path.is_file():
        raise DataError(f"{model_dir}: no {SPLIT_NAME}; the figures need the model's fixed train/test split")
    return read_split_file(path)


def _order(ids: list[str], seed: int) -> list[str]:
    """Seeded order that interleaves the datasets in proportion, so any prefix holds both."""
    rng = np.random.default_rng(seed)
    by_dataset: dict[str, list[str]] = {}
    for i in sorted(ids):
        by_dataset.setdefault(i.split("/", 1)[0], []).append(i)
    keyed = []
    for members in by_dataset.values():
        perm = rng.permutation(len(members))
        keyed += [((rank + 0.5) / len(members), members[i]) for rank, i in enumerate(perm)]
    return [i for _, i in sorted(keyed)]


def load_heldout(
    model_dir: Path,
    data_root: Path,
    splits: tuple[str, ...] = ("validation", "test"),
    limit: int | None = None,
    seed: int = 0,
) -> tuple[list[HeldOutLesion], dict]:
    """The lesions of `splits` in a seeded, dataset-interleaved order (the first `limit` of it).

    Returns the lesions and a summary: ids asked for, found, skipped (with reasons), per dataset.
    """
    from engine.datasets import load_breast, load_busi
    from engine.datasets.images import read_gray, read_mask
    from engine.language.lexicon import Pathology
    from engine.language.measure import measure

    split = read_split(model_dir)
    missing = [s for s in splits if s not in split]
    if missing:
        raise DataError(f"{model_dir / SPLIT_NAME}: no {', '.join(missing)} split (has {', '.join(split)})")
    wanted = _order(sorted({i for s in splits for i in split[s]}), seed)
    if limit is not None:
        wanted = wanted[:limit]
    roots = {"busi": data_root / "bus" / "BUSI", "breast": data_root / "bus" / "BrEaST-Lesions_USG"}
    loaders = {"busi": load_busi, "breast": load_breast}
    needed = {i.split("/", 1)[0] for i in wanted}
    unknown = needed - set(loaders)
    if unknown:
        raise DataError(f"{model_dir / SPLIT_NAME}: unknown datasets {', '.join(sorted(unknown))}")
    by_id = {}
    for name in sorted(needed):
        if not roots[name].is_dir():
            raise DataError(
                f"{roots[name]} not found: the held-out lesions of {name} live there (BUS_DATA_ROOT)"
            )
        for case in loaders[name](roots[name]).lesion_cases():
            for mp in case.mask_paths:
                by_id[f"{case.dataset}/{case.case_id}/{Path(mp).stem}"] = (case, mp)
    lesions, skipped = [], []
    for sample_id in wanted:
        if sample_id not in by_id:
            skipped.append({"id": sample_id, "reason": "not in the data root"})
            continue
        case, mask_path = by_id[sample_id]
        image = read_gray(case.image_path)
        mask = read_mask(mask_path) > 0
        if mask.shape != image.shape or mask.sum() < MIN_MASK_PIXELS:
            skipped.append({"id": sample_id, "reason": "mask size differs from the image or is tiny"})
            continue
        if case.description is not None:
            description, source = case.description, "radiologists"
        else:
            measured, _ = measure(image, mask, case.mm_per_pixel)
            pathology = Pathology(case.label) if case.label in ("benign", "malignant") else None
            description = LesionDescription.from_dict({**measured.to_dict(), "pathology": pathology})
            source = "measured"
        lesions.append(
            HeldOutLesion(
                sample_id, case.dataset, case.case_id, case.patient_id, image, mask,
                case.mm_per_pixel, description, source,
            )
        )  # fmt: skip
    counts = {s: len(split[s]) for s in split}
    per_split = {s: {d: sum(1 for i in split[s] if i.startswith(d + "/")) for d in loaders} for s in split}
    summary = {
        "splits": list(splits),
        "split_sizes": counts,
        "split_datasets": per_split,
        "asked": len(wanted),
        "lesions": len(lesions),
        "per_dataset": {d: sum(1 for x in lesions if x.dataset == d) for d in sorted(needed)},
        "images": len({x.image_key for x in lesions}),
        "skipped": skipped,
        "limit": limit,
    }
    return lesions, summary
