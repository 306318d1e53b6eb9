"""Checks every adapter applies to a case's masks, so odd files are skipped with a reason, not fatal."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from engine.datasets.base import Skipped
from engine.datasets.images import read_mask
from engine.errors import DataError


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding pixels."""
    try:
        with Image.open(path) as img:
            return img.size
    except OSError as exc:
        raise DataError(f"{path}: cannot read image: {exc}") from exc


def usable_masks(image: Path, masks: list[Path], skipped: list[Skipped]) -> list[Path]:
    """Masks of the image's size with at least one lesion pixel; the others are reported in `skipped`."""
    try:
        size = image_size(image)
    except DataError as exc:
        skipped.append(Skipped(image, str(exc)))
        return []
    kept = []
    for m in masks:
        if not m.is_file():
            skipped.append(Skipped(m, "mask file missing"))
            continue
        try:
            if image_size(m) != size:
                skipped.append(Skipped(m, f"mask size {image_size(m)} differs from image size {size}"))
            elif not read_mask(m).any():
                skipped.append(Skipped(m, "empty mask"))
            else:
                kept.append(m)
        except DataError as exc:
            skipped.append(Skipped(m, str(exc)))
    return kept
