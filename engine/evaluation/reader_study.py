"""The visual Turing test: a blinded, balanced, seeded sequence of real and synthetic images, read
one at a time (real or synthetic, with a confidence), paused and resumed at will, one CSV per
reader; and the summary of how well readers spot the synthetic images.

A study folder holds:
  items/<random id>.png   the images, re-encoded without metadata, all the same size; the ids come
                          from a seeded random generator, so no name, order or size hints the truth
  study.json              what a reader's app needs: the item ids and files, nothing about the truth
  responses/<reader>.csv  one row per answer, written atomically after every answer
and beside the folder, <folder>-key.json: the truth (real or synthetic, and the source image), read
only by `summarize`; it is kept out of the study folder so that copying the folder to the readers'
workstation does not copy the answers.

The app's reader mode is a thin view over ReaderSession:

    session = ReaderSession(study_dir, "reader A")   # resumes where this reader stopped
    item = session.next_item()                       # None when finished; starts the item's clock
    session.answer("synthetic", confidence=4)        # 1 (guess) .. 5 (certain); saved at once
    session.pause(); session.resume()                # paused time is not counted
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np

from engine.datasets.base import Case
from engine.datasets.images import read_case_mask, read_gray
from engine.errors import DataError, InputError
from engine.evaluation import metrics
from engine.fileio import atomic_write, atomic_write_bytes

STUDY_FILE = "study.json"
KEY_SUFFIX = "-key.json"
RESPONSES = "responses"
ANSWERS = ("real", "synthetic")
CONFIDENCE = (1, 2, 3, 4, 5)
COLUMNS = ("reader", "position", "item_id", "answer", "confidence", "seconds", "answered_at")
MODES = ("window", "full")


# ------------------------------------------------------------------------------------ making a study
def _window(gray: np.ndarray, mask: np.ndarray, out_px: int) -> np.ndarray:
    """A square around the lesion, twice its larger extent (at least a quarter of the frame), clipped
    to the frame and resized to out_px."""
    ys, xs = np.nonzero(mask)
    h, w = gray.shape
    if ys.size == 0:
        cy, cx, side = h / 2, w / 2, min(h, w)
    else:
        cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
        side = max(2 * max(np.ptp(ys), np.ptp(xs)), min(h, w) / 4)
    side = int(min(side, h, w))
    y0 = int(np.clip(round(cy - side / 2), 0, h - side))
    x0 = int(np.clip(round(cx - side / 2), 0, w - side))
    crop = gray[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(
        crop, (out_px, out_px), interpolation=cv2.INTER_AREA if side > out_px else cv2.INTER_CUBIC
    )


def _full(gray: np.ndarray, out_px: int) -> np.ndarray:
    """The whole frame on an out_px square (aspect kept, padded with black): every item has one size."""
    h, w = gray.shape
    scale = out_px / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    out = np.zeros((out_px, out_px), np.uint8)
    y0, x0 = (out_px - nh) // 2, (out_px - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = img
    return out


def _render(case: Case, mode: str, out_px: int) -> np.ndarray:
    gray = read_gray(case.image_path)
    if mode == "full":
        return _full(gray, out_px)
    return _window(gray, read_case_mask(case.mask_paths, gray.shape), out_px)


def _png(array: np.ndarray) -> bytes:
    # OpenCV writes no text chunks: no software name, date or source file can leak
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise InputError("could not encode a PNG")
    return buf.tobytes()


def key_path_for(study_dir: Path) -> Path:
    study_dir = Path(study_dir).resolve()
    return study_dir.parent / f"{study_dir.name}{KEY_SUFFIX}"


def make_study(
    real: list[Case],
    synthetic: list[Case],
    out: Path,
    per_class: int,
    seed: int = 0,
    mode: str = "window",
    size_px: int = 256,
) -> Path:
    """Draw `per_class` real and `per_class` synthetic lesion images (seeded) into a study folder."""
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if per_class < 1:
        raise InputError(f"a study needs at least 1 image per class, got {per_class}")
    out = Path(out)
    if (out / STUDY_FILE).exists():
        raise InputError(f"{out} already holds a study; choose a new folder (readers' answers refer to it)")
    real = [c for c in real if c.has_lesion]
    synthetic = [c for c in synthetic if c.has_lesion]
    for name, pool in (("real", real), ("synthetic", synthetic)):
        if len(pool) < per_class:
            raise InputError(
                f"{per_class} {name} images asked for, only {len(pool)} {name} lesion images given"
            )
    rng = np.random.default_rng(seed)
    chosen = [("real", real[i]) for i in rng.choice(len(real), per_class, replace=False)]
    chosen += [("synthetic", synthetic[i]) for i in rng.choice(len(synthetic), per_class, replace=False)]
    ids = set()
    while len(ids) < len(chosen):
        ids.add(f"{int(rng.integers(0, 2**32)):08x}")
    ids = list(ids)
    rng.shuffle(ids)
    key = {}
    made = time.time()
    # written in id order with one shared file time: neither the order of writing nor the
    # modification times follow real-then-synthetic
    for item_id, (truth, case) in sorted(zip(ids, chosen, strict=True)):
        path = atomic_write_bytes(out / "items" / f"{item_id}.png", _png(_render(case, mode, size_px)))
        os.utime(path, (made, made))
        key[item_id] = {
            "truth": truth,
            "dataset": case.dataset,
            "case_id": case.case_id,
            "image": str(case.image_path),
        }
    study = {
        "format": "bus-reader-study",
        # the readers' order comes from this, not from the seed that chose the images
        "order_seed": int(rng.integers(0, 2**31)),
        "mode": mode,
        "items": [{"id": i, "image": f"items/{i}.png"} for i in sorted(ids)],
        "answers": list(ANSWERS),
        "confidence": list(CONFIDENCE),
    }
    atomic_write_bytes(out / STUDY_FILE, (json.dumps(study, indent=1) + "\n").encode())
    atomic_write_bytes(key_path_for(out), (json.dumps(key, indent=1, sort_keys=True) + "\n").encode())
    return out


# ------------------------------------------------------------------------------------ reading
def load_study(study_dir: Path) -> dict:
    path = Path(study_dir) / STUDY_FILE
    try:
        study = json.loads(path.read_text())
        study["items"] = [dict(it) for it in study["items"]]
    except FileNotFoundError as exc:
        raise DataError(f"{path} not found: not a reader-study folder") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a valid reader study: {exc}") from exc
    return study


def reader_file_name(reader: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", reader.strip()).strip("._")
    if not name:
        raise InputError(f"reader name {reader!r} needs at least one letter or digit")
    return f"{name}.csv"


def read_responses(path: Path) -> list[dict]:
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return []
    for i, row in enumerate(rows, 2):
        if set(COLUMNS) - set(row) or row["answer"] not in ANSWERS:
            raise DataError(
                f"{path}, line {i}: not a reader-study response row (columns {', '.join(COLUMNS)})"
            )
    return rows


def _write_responses(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


@dataclass(frozen=True)
class ReaderItem:
    position: int  # 1-based, in this reader's sequence
    total: int
    item_id: str
    image_path: Path


class ReaderSession:
    """One reader's pass through a study; every answer is on disk before answer() returns, so
    closing the app at any moment and opening a new session resumes at the next unanswered item."""

    def __init__(self, study_dir: Path, reader: str, clock=time.monotonic):
        self.study_dir = Path(study_dir)
        self.reader = reader
        self.study = load_study(self.study_dir)
        self.path = self.study_dir / RESPONSES / reader_file_name(reader)
        self._clock = clock
        ids = [it["id"] for it in self.study["items"]]
        # each reader sees their own order, reproducible from the study seed and the reader's name
        rng = np.random.default_rng([int(self.study["order_seed"]), zlib.crc32(reader.encode())])
        self.sequence = [ids[i] for i in rng.permutation(len(ids))]
        self.rows = read_responses(self.path)
        answered = [r["item_id"] for r in self.rows]
        if answered != self.sequence[: len(answered)]:
            raise DataError(f"{self.path} does not follow this study's sequence for reader {reader!r}")
        self._shown_at: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0

    @property
    def answered(self) -> int:
        return len(self.rows)

    @property
    def total(self) -> int:
        return len(self.sequence)

    @property
    def done(self) -> bool:
        return self.answered >= self.total

    def next_item(self) -> ReaderItem | None:
        """The current unanswered item (the same one until it is answered); None when finished."""
        if self.done:
            return None
        if self._shown_at is None:
            self._shown_at, self._paused_total = self._clock(), 0.0
        item_id = self.sequence[self.answered]
        return ReaderItem(self.answered + 1, self.total, item_id, self.study_dir / "items" / f"{item_id}.png")

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self._clock() - self._paused_at
            self._paused_at = None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def answer(self, real_or_synthetic: str, confidence: int) -> None:
        if real_or_synthetic not in ANSWERS:
            raise InputError(f"answer {real_or_synthetic!r} is not one of {', '.join(ANSWERS)}")
        if confidence not in CONFIDENCE:
            raise InputError(f"confidence {confidence!r} is not one of {CONFIDENCE}")
        if self.paused:
            raise InputError("the study is paused; resume before answering")
        if self.done:
            raise InputError("every item of this study has been answered")
        if self._shown_at is None:
            raise InputError("no item is shown; call next_item() first")
        seconds = self._clock() - self._shown_at - self._paused_total
        row = {
            "reader": self.reader,
            "position": str(self.answered + 1),
            "item_id": self.sequence[self.answered],
            "answer": real_or_synthetic,
            "confidence": str(int(confidence)),
            "seconds": f"{max(seconds, 0.0):.3f}",
            "answered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _write_responses(self.path, [*self.rows, row])
        self.rows.append(row)
        self._shown_at = None

    def save(self) -> Path:
        """Answers are saved as they are given; this only returns where."""
        return self.path


# ------------------------------------------------------------------------------------ summary
def load_key(path: Path) -> dict[str, str]:
    try:
        return {k: v["truth"] for k, v in json.loads(Path(path).read_text()).items()}
    except FileNotFoundError as exc:
        raise DataError(f"answer key {path} not found (pass --key STUDY-key.json)") from exc
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: not a reader-study answer key: {exc}") from exc


def _rates(rows: list[dict], key: dict[str, str]) -> dict:
    """Synthetic is the positive class: sensitivity = synthetic images called synthetic."""
    truth = [key[r["item_id"]] == "synthetic" for r in rows]
    said = [r["answer"] == "synthetic" for r in rows]
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    tn = sum(not t and not s for t, s in zip(truth, said, strict=True))
    pos, neg = sum(truth), len(truth) - sum(truth)
    out = {"n": len(rows)}
    for name, k, n in (("accuracy", tp + tn, len(rows)), ("sensitivity", tp, pos), ("specificity", tn, neg)):
        lo, hi = metrics.wilson_interval(k, n)
        out[name] = {"value": k / n if n else float("nan"), "low": lo, "high": hi, "k": k, "n": n}
    out["mean_confidence"] = float(np.mean([int(r["confidence"]) for r in rows])) if rows else float("nan")
    out["median_seconds"] = float(np.median([float(r["seconds"]) for r in rows])) if rows else float("nan")
    return out


def summarize(csv_paths: list[Path], key_path: Path | None = None) -> dict:
    """Per reader and pooled accuracy, sensitivity and specificity (Wilson 95 % intervals), Cohen's
    kappa for every pair of readers and Fleiss' kappa over the items every reader answered."""
    if not csv_paths:
        raise InputError("no response CSV given")
    key_path = Path(key_path) if key_path else key_path_for(Path(csv_paths[0]).resolve().parent.parent)
    key = load_key(key_path)
    readers: dict[str, list[dict]] = {}
    for p in csv_paths:
        rows = read_responses(Path(p))
        if not rows:
            raise DataError(f"{p}: no answers (or not found)")
        unknown = [r["item_id"] for r in rows if r["item_id"] not in key]
        if unknown:
            raise DataError(f"{p}: items {unknown[:3]} are not in the answer key {key_path}")
        name = rows[0]["reader"]
        if name in readers:
            raise DataError(f"{p}: reader {name!r} appears in more than one CSV")
        readers[name] = rows
    summary = {
        "key": str(key_path),
        "readers": {name: _rates(rows, key) for name, rows in readers.items()},
        "pooled": _rates([r for rows in readers.values() for r in rows], key),
        "cohen_kappa": {},
        "fleiss_kappa": None,
    }
    answers = {name: {r["item_id"]: r["answer"] for r in rows} for name, rows in readers.items()}
    for a, b in combinations(sorted(answers), 2):
        common = sorted(set(answers[a]) & set(answers[b]))
        if common:
            summary["cohen_kappa"][f"{a} / {b}"] = {
                "kappa": metrics.cohen_kappa(
                    [answers[a][i] for i in common], [answers[b][i] for i in common]
                ),
                "items": len(common),
            }
    if len(answers) >= 2:
        common = sorted(set.intersection(*(set(v) for v in answers.values())))
        if common:
            table = np.array([[sum(answers[r][i] == c for r in answers) for c in ANSWERS] for i in common])
            summary["fleiss_kappa"] = {
                "kappa": metrics.fleiss_kappa(table),
                "items": len(common),
                "readers": len(answers),
            }
    return summary


def summary_markdown(summary: dict) -> str:
    lines = [
        "# Visual Turing test",
        "",
        "Spotting synthetic images (synthetic is the positive class); 95 % Wilson intervals. "
        "Accuracy near 0.5 means readers cannot tell synthetic from real.",
        "",
        "| Reader | n | Accuracy | Sensitivity | Specificity | Mean confidence | Median s |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(e):
        return f"{e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}] ({e['k']}/{e['n']})"

    for name, s in [*summary["readers"].items(), ("pooled", summary["pooled"])]:
        lines.append(
            f"| {name} | {s['n']} | {cell(s['accuracy'])} | {cell(s['sensitivity'])} | "
            f"{cell(s['specificity'])} | {s['mean_confidence']:.2f} | {s['median_seconds']:.1f} |"
        )
    lines.append("")
    if summary["cohen_kappa"]:
        lines += ["| Readers | Cohen's kappa | items |", "|---|---|---|"]
        lines += [
            f"| {pair} | {v['kappa']:.3f} | {v['items']} |" for pair, v in summary["cohen_kappa"].items()
        ]
        lines.append("")
    if summary["fleiss_kappa"]:
        f = summary["fleiss_kappa"]
        lines += [
            f"Fleiss' kappa over {f['readers']} readers and {f['items']} common items: {f['kappa']:.3f}",
            "",
        ]
    return "\n".join(lines)


def plot_summary(summary: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*summary["readers"], "pooled"]
    stats = [*summary["readers"].values(), summary["pooled"]]
    measures = ("accuracy", "sensitivity", "specificity")
    fig, ax = plt.subplots(figsize=(max(4.5, 1.4 * len(names) + 2), 3.4))
    width = 0.8 / len(measures)
    x = np.arange(len(names))
    for j, m in enumerate(measures):
        v = np.array([s[m]["value"] for s in stats])
        err = np.array([[s[m]["value"] - s[m]["low"], s[m]["high"] - s[m]["value"]] for s in stats]).T
        ax.bar(x + (j - 1) * width, v, width, yerr=np.clip(np.nan_to_num(err), 0, None), capsize=2, label=m)
    ax.axhline(0.5, color="gray", lw=0.8, ls="--")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("spotting synthetic images")
    ax.legend(fontsize=7)
    fig.tight_layout()
    try:
        # format named: the temp file's name does not end in .png
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)


def write_summary(summary: dict, out: Path) -> list[Path]:
    out = Path(out)
    return [
        atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode()),
        atomic_write_bytes(out / "summary.md", summary_markdown(summary).encode()),
        plot_summary(summary, out / "summary.png"),
    ]
