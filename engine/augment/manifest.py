"""The manifest of an augment run: one row per synthetic image (CSV and JSON), and labels.csv so
the output folder reads as a folder dataset (engine.datasets.load_folder)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

MANIFEST_COLUMNS = (
    "image", "mask", "label", "image_label", "source_image", "source_dataset", "source_case",
    "patient_id", "source_masks", "text", "description", "seed", "model", "mm_per_pixel",
)  # fmt: skip


def _atomic(path: Path, text: str) -> None:
    from engine.fileio import atomic_write_bytes

    atomic_write_bytes(path, text.encode())


def write_manifest(out_dir: Path, items) -> dict:
    """Gather the records of `items` (engine.augment.batch.WorkItem) in plan order; write
    manifest.json (every record, skipped ones with their reason), manifest.csv and labels.csv
    (written images only). Returns counts and the paths."""
    from engine.augment.batch import record_path

    out_dir = Path(out_dir)
    records = []
    for item in items:
        path = record_path(out_dir, item)
        if path.is_file():
            records.append(json.loads(path.read_text()))
    written = [r for r in records if r["status"] == "ok"]
    skipped = [r for r in records if r["status"] != "ok"]
    rows = io.StringIO()
    table = csv.writer(rows)
    table.writerow(MANIFEST_COLUMNS)
    labels = io.StringIO()
    label_table = csv.writer(labels)
    label_table.writerow(["image", "label", "patient_id", "mm_per_pixel"])
    for r in written:
        cells = {
            **r,
            "source_masks": ";".join(r["source_masks"]),
            "description": json.dumps(r["description"], sort_keys=True),
        }
        table.writerow([cells[c] for c in MANIFEST_COLUMNS])
        # the source's patient: splits keep an augmented image with the image it came from
        label_table.writerow(
            [Path(r["image"]).name, r["image_label"], r["patient_id"], f"{r['mm_per_pixel']:.6g}"]
        )
    manifest = {"images": written, "skipped": skipped, "planned": len(items)}
    _atomic(out_dir / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _atomic(out_dir / "manifest.csv", rows.getvalue())
    _atomic(out_dir / "labels.csv", labels.getvalue())
    return {
        "written": len(written),
        "skipped": len(skipped),
        "missing": len(items) - len(records),
        "manifest": str(out_dir / "manifest.csv"),
    }
