"""The session file (JSON): image path, frame, lesions with contours, descriptions and generated results.

Results are written as PNGs in a folder beside the session file (`<name>.results/`), referenced by
relative path, so the session stays small and readable. Everything is written atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from busstudio.models.annotations import Lesion
from busstudio.models.generation import GeneratedVariant
from engine.errors import InputError
from engine.fileio import atomic_write_bytes

FORMAT = "bus-studio-session"
VERSION = 1


@dataclass
class Session:
    image_path: Path | None
    frame: int = 0
    lesions: list[Lesion] = field(default_factory=list)
    window_level: tuple[float, float] = (256.0, 127.5)


def write_png(path: Path, pixels: np.ndarray) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def read_png(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    except OSError as exc:
        raise InputError(f"session result {path} cannot be read: {exc}") from exc


def save_session(session: Session, path: str | os.PathLike) -> Path:
    path = Path(path)
    results_dir = path.with_name(path.stem + ".results")
    lesions = []
    for lesion in session.lesions:
        results = []
        for k, variant in enumerate(lesion.results):
            png = results_dir / f"lesion{lesion.id}_variant{k}_seed{variant.seed}.png"
            write_png(png, variant.pixels)
            results.append(
                {"png": os.path.relpath(png, path.parent), "seed": variant.seed, "record": variant.record}
            )
        lesions.append(
            {
                "id": lesion.id,
                "frame": lesion.frame,
                "contour": lesion.contour.to_dict(),
                "description": lesion.description.to_dict() if lesion.description is not None else None,
                "text": lesion.text,
                "results": results,
                "chosen_result": lesion.chosen_result,
                "method": lesion.method,
                "track": lesion.track,
            }
        )
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "image": str(Path(session.image_path).resolve()) if session.image_path else None,
        "frame": session.frame,
        "window_level": list(session.window_level),
        "lesions": lesions,
    }
    atomic_write_bytes(path, (json.dumps(doc, indent=2, default=_json_default) + "\n").encode())
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def load_session(path: str | os.PathLike, contour_cls, description_cls) -> Session:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"session {path} cannot be read: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{path} is not a BUS Studio session file")
    if int(doc.get("version", 0)) > VERSION:
        raise InputError(
            f"session {path} has version {doc['version']}, newer than this app reads ({VERSION})"
        )
    lesions = []
    try:
        for d in doc.get("lesions", []):
            results = [
                GeneratedVariant(read_png(path.parent / r["png"]), int(r["seed"]), dict(r.get("record", {})))
                for r in d.get("results", [])
            ]
            lesions.append(
                Lesion(
                    id=int(d["id"]),
                    frame=int(d["frame"]),
                    contour=contour_cls.from_dict(d["contour"]),
                    description=description_cls.from_dict(d["description"]) if d.get("description") else None,
                    text=str(d.get("text", "")),
                    results=results,
                    chosen_result=d.get("chosen_result"),
                    method=str(d.get("method", "manual")),
                    track=int(d["track"]) if d.get("track") is not None else None,
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"session {path} is damaged: {exc}") from exc
    wl = doc.get("window_level") or (256.0, 127.5)
    return Session(
        image_path=Path(doc["image"]) if doc.get("image") else None,
        frame=int(doc.get("frame", 0)),
        lesions=lesions,
        window_level=(float(wl[0]), float(wl[1])),
    )
