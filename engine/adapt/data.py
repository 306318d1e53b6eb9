"""Training examples for adaptation, from a site's own images: dataset folders or DICOM studies.

Two kinds of example, both on the model's grid (its own window size):
- lesion windows, where an image has a lesion mask: the window, mask and conditions exactly as the
  generator is trained and sampled (engine.generator.window, engine.generator.conditions), with the
  caption from the radiologists' labels or the attribute measurement (engine.language.measure);
  the loss weights the generation region most, as in base training.
- context windows, from images without masks (DICOM studies, normal images): a random window inside
  the tissue, a random blob as the generation region with *no* lesion in the mask channel, the null
  description, and the loss on the whole window. They teach the scanner's speckle, gain and depth
  rendering without teaching the model to draw lesions where none were asked for.

DICOM frames are decoded through engine.dicom (its display frames, calibration kept): the windows
stay inside the largest calibrated ultrasound region, sized in millimetres where the scale is known.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import DataError

DICOM_SUFFIXES = (".dcm", ".dicom", "")
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
CONTEXT_SIDE_MM = (15.0, 40.0)  # context windows span lesion-window sizes, where the scale is known
CONTEXT_SIDE_FRACTION = (0.25, 0.6)  # ... else this share of the tissue's shorter side
MIN_MASK_PIXELS = 16
CONTEXT_TRIES = 30  # windows drawn until one misses every lesion (else the last one is used)


@dataclass
class LocalImage:
    """One frame of the site's data: pixels, its lesions (maybe none) and where the tissue is."""

    source: str  # file (and frame) it came from
    sample_ids: list[str]  # one per mask: dataset/case/mask-stem, as the generator's split names them
    gray: np.ndarray  # uint8 HxW display frame
    masks: list[np.ndarray] = field(default_factory=list)  # bool HxW, one per lesion
    descriptions: list = field(default_factory=list)  # LesionDescription per mask
    caption_sources: list[str] = field(default_factory=list)
    tissue: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 (exclusive); None: whole frame
    mm_per_pixel: float | None = None

    @property
    def box(self) -> tuple[int, int, int, int]:
        h, w = self.gray.shape
        return self.tissue or (0, 0, w, h)


# ---------------------------------------------------------------------- reading
def read_local_images(
    path: str | Path,
    fmt: str | None = None,
    keep: set[str] | None = None,
    frames_per_study: int = 4,
    measure: bool = True,
) -> list[LocalImage]:
    """Every usable frame under `path`: a dataset folder (BUSI, BrEaST, BUS-BRA, UDIAT, folder; by
    engine.datasets), or DICOM studies / plain images (read by engine.dicom, no masks).

    `keep`: case ids ("dataset/case") or sample ids ("dataset/case/mask") to use, the rest skipped.
    """
    from engine.datasets import detect_format

    path = Path(path)
    if not path.exists():
        raise DataError(f"adaptation data {path} does not exist")
    if path.is_dir() and fmt != "dicom":
        try:
            fmt = fmt or detect_format(path)
        except DataError:
            fmt = None  # not a dataset layout: studies and images
        if fmt is not None:
            images = _dataset_images(path, fmt, keep, measure)
            if not images:
                raise DataError(
                    f"{path}: no usable image in this {fmt} dataset" + (" subset" if keep else "")
                )
            return images
    images = _study_images(path, frames_per_study)
    if not images:
        raise DataError(
            f"{path}: no DICOM study or image found (a dataset folder, a DICOM file or a folder of studies)"
        )
    return images


def _dataset_images(root: Path, fmt: str, keep: set[str] | None, measure: bool) -> list[LocalImage]:
    from engine.datasets import load_dataset
    from engine.datasets.images import read_gray, read_mask
    from engine.generator.data import attribute_measure, description_for

    measure_fn = attribute_measure() if measure else None
    out = []
    for case in load_dataset(root, fmt).cases:
        case_key = f"{case.dataset}/{case.case_id}"
        ids = [f"{case_key}/{Path(m).stem}" for m in case.mask_paths]
        if keep is not None and case_key not in keep and not any(i in keep for i in ids):
            continue
        gray = read_gray(case.image_path)
        image = LocalImage(str(case.image_path), [], gray, mm_per_pixel=case.mm_per_pixel)
        for sample_id, mask_path in zip(ids, case.mask_paths, strict=True):
            if keep is not None and case_key not in keep and sample_id not in keep:
                continue
            mask = read_mask(mask_path)
            if mask.shape != gray.shape or mask.sum() < MIN_MASK_PIXELS:
                continue
            description, source = description_for(case, gray, mask, measure_fn)
            image.sample_ids.append(sample_id)
            image.masks.append(mask)
            image.descriptions.append(description)
            image.caption_sources.append(source)
        if image.masks or not case.mask_paths:  # an image whose lesions are unusable is no context either
            out.append(image)
    return out


def _study_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DICOM_SUFFIXES + RASTER_SUFFIXES
    )


def _study_images(path: Path, frames_per_study: int) -> list[LocalImage]:
    from engine.dicom import open_study
    from engine.errors import DicomError

    out = []
    for file in _study_files(path):
        try:
            study = open_study(file)
        except DicomError:
            if file == path:
                raise
            continue  # a folder may hold other files (reports, DICOMDIR)
        n = study.n_frames
        picks = np.unique(np.linspace(0, n - 1, min(max(frames_per_study, 1), n)).round().astype(int))
        tissue, mm = _tissue(study.calibration, study.rows, study.columns)
        for i in picks:
            frame = study.frame(int(i))
            out.append(LocalImage(f"{file}#{int(i)}", [], frame.gray, tissue=tissue, mm_per_pixel=mm))
    return out


def _tissue(calibration, rows: int, columns: int) -> tuple[tuple[int, int, int, int] | None, float | None]:
    """The largest calibrated 2D region (the B-mode image, not the scanner's text) and its mm/px."""
    regions = calibration.calibrated_regions
    scale = calibration.mm_per_pixel
    mm = float(np.mean(scale)) if scale else None
    if not regions:
        return None, mm
    r = max(regions, key=lambda r: r.area)
    box = (max(r.x0, 0), max(r.y0, 0), min(r.x1 + 1, columns), min(r.y1 + 1, rows))
    if box[2] - box[0] < 16 or box[3] - box[1] < 16:
        return None, mm
    return box, float(np.mean(r.mm_per_pixel))


def fingerprint(images: list[LocalImage]) -> str:
    """A short hash of what the examples are made from (sources, pixels, masks): resume checks it."""
    h = hashlib.sha1()
    for im in images:
        h.update(im.source.encode())
        h.update(hashlib.sha1(im.gray.tobytes()).digest())
        for m in im.masks:
            h.update(np.packbits(m).tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------- examples
class AdaptData:
    """Seeded random batches of lesion and context windows on the model's grid.

    Each step draws its own examples from (seed, step), so a resumed run sees the batches an
    uninterrupted one would have seen.
    """

    def __init__(
        self,
        images: list[LocalImage],
        size: int,
        text_encoder=None,
        text_tokens: int = 32,
        context_fraction: float = 0.25,
    ):
        from engine.generator.captions import caption
        from engine.generator.conditions import condition_stack
        from engine.generator.window import choose_window, crop_gray, crop_mask
        from engine.language.encoder import description_to_indices

        if not images:
            raise DataError("no images to adapt on")
        self.images, self.size = images, int(size)
        self._unions: dict[int, np.ndarray] = {}
        xs, conds, captions, descriptions = [], [], [], []
        for im in images:
            for mask, desc in zip(im.masks, im.descriptions, strict=True):
                window = choose_window(mask, size=self.size)
                x = crop_gray(im.gray, window)
                xs.append(x)
                conds.append(condition_stack(x, crop_mask(mask, window)))
                captions.append(caption(desc))
                descriptions.append(desc)
        self.lesions = len(xs)
        self.context_images = [i for i, im in enumerate(images) if not im.masks]
        # With masks, some context windows still help (the scanner's look away from lesions too);
        # without any mask, context windows are all there is.
        self.context_fraction = 1.0 if not self.lesions else float(context_fraction)
        if self.lesions:
            if text_encoder is None:
                from engine.language.encoder import TextEncoder

                text_encoder = TextEncoder(max_tokens=text_tokens)
            distinct = sorted(set(captions))
            tokens, token_mask = text_encoder.encode_with_mask(distinct)
            index = {c: i for i, c in enumerate(distinct)}
            self.x = torch.from_numpy(np.stack(xs)[:, None].astype(np.float32))
            self.conditions = torch.from_numpy(np.stack(conds).astype(np.float32))
            self.tokens, self.token_mask = tokens.float(), token_mask.bool()
            self.caption_index = torch.tensor([index[c] for c in captions])
            self.attributes = description_to_indices(descriptions)

    def summary(self) -> dict:
        return {
            "images": len(self.images),
            "lesion_windows": self.lesions,
            "images_without_mask": len(self.context_images),
        }

    def batch(self, step: int, batch: int, seed: int) -> dict:
        """x [B,1,S,S], conditions [B,4,S,S], weight [B,1,S,S], lesion rows, their token/attribute inputs."""
        rng = np.random.default_rng([seed, step])
        n_context = int(rng.binomial(batch, self.context_fraction)) if self.lesions else batch
        x, cond, weight = [], [], []
        rows = rng.integers(0, max(self.lesions, 1), batch - n_context)
        if rows.size:
            x.append(self.x[rows])
            cond.append(self.conditions[rows])
            weight.append(0.2 + self.conditions[rows, 2:3])  # the region most, as base training
        if n_context:
            cx, cc = zip(*(self._context_window(rng) for _ in range(n_context)), strict=True)
            x.append(torch.from_numpy(np.stack(cx)[:, None]))
            cond.append(torch.from_numpy(np.stack(cc)))
            weight.append(torch.ones(n_context, 1, self.size, self.size))
        x, cond, weight = torch.cat(x), torch.cat(cond), torch.cat(weight)
        flips = torch.from_numpy(rng.random(batch) < 0.5)[:, None, None, None]
        out = {
            "x": torch.where(flips, x.flip(-1), x),
            "conditions": torch.where(flips, cond.flip(-1), cond),
            "weight": torch.where(flips, weight.flip(-1), weight),
            "lesion_rows": int(rows.size),
        }
        if rows.size:
            cap = self.caption_index[torch.from_numpy(rows)]
            out["tokens"], out["token_mask"] = self.tokens[cap], self.token_mask[cap]
            out["attributes"] = {k: v[torch.from_numpy(rows)] for k, v in self.attributes.items()}
        return out

    def lesion_batch(self) -> dict:
        """Every lesion window once, in order, without flips: a fixed evaluation batch."""
        if not self.lesions:
            raise DataError("no lesion window to evaluate on")
        rows = torch.arange(self.lesions)
        return {
            "x": self.x,
            "conditions": self.conditions,
            "weight": 0.2 + self.conditions[:, 2:3],
            "lesion_rows": self.lesions,
            "tokens": self.tokens[self.caption_index],
            "token_mask": self.token_mask[self.caption_index],
            "attributes": {k: v[rows] for k, v in self.attributes.items()},
        }

    def _lesion_union(self, im: LocalImage) -> np.ndarray | None:
        if not im.masks:
            return None
        key = id(im)
        if key not in self._unions:
            self._unions[key] = np.logical_or.reduce(im.masks)
        return self._unions[key]

    def _context_window(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        from engine.generator.conditions import condition_stack
        from engine.generator.window import Window, crop_gray

        pool = self.context_images or list(range(len(self.images)))
        im = self.images[pool[int(rng.integers(len(pool)))]]
        x0, y0, x1, y1 = im.box
        short = min(x1 - x0, y1 - y0)
        lesions = self._lesion_union(im)
        for attempt in range(CONTEXT_TRIES):
            if im.mm_per_pixel:
                side = rng.uniform(*CONTEXT_SIDE_MM) / im.mm_per_pixel
            else:
                side = rng.uniform(*CONTEXT_SIDE_FRACTION) * short
            side *= 0.9**attempt  # smaller and smaller, to find room beside the lesions
            side = int(np.clip(side, min(32, short), short))
            wx = x0 + int(rng.integers(0, x1 - x0 - side + 1))
            wy = y0 + int(rng.integers(0, y1 - y0 - side + 1))
            window = Window(wx, wy, wx + side, wy + side, self.size)
            # On an image with lesions, a context window keeps clear of them (it asks for no lesion).
            if lesions is None or not lesions[window.slices].any():
                break
        pixels = crop_gray(im.gray, window)
        s = self.size
        yy, xx = np.mgrid[:s, :s]
        cy, cx = rng.uniform(0.25, 0.6) * s, rng.uniform(0.3, 0.7) * s
        ry, rx = rng.uniform(0.08, 0.25, 2) * s
        blob = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.float32)
        cond = condition_stack(pixels, blob)
        cond[0] = 0.0  # no lesion asked for: mask and band stay empty, only the region is regenerated
        cond[1] = 0.0
        return pixels.astype(np.float32), cond.astype(np.float32)
