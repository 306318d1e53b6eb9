"""bus-engine augment: plan, manifest, worker sharding and resume after a kill (physics draft: fast)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.augment import AugmentConfig, plan_items, run_augment
from engine.datasets import load_dataset, load_folder
from engine.datasets.images import read_gray, read_mask
from engine.errors import InputError
from engine.settings import PROJECT_ROOT


def _outputs(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for sub in ("images", "masks")
        for p in sorted((folder / sub).glob("*.png"))
    }


def test_plan_is_balanced_and_seeded_by_source_and_k(folder_dataset):
    cases = load_dataset(folder_dataset).cases
    items = plan_items(cases, 4, seed=5)
    assert len(items) == 4 * len(cases) == len({it.name for it in items})
    for case in cases:
        labels = [it.label for it in items if it.case == case]
        assert sorted(labels) == ["benign", "benign", "malignant", "malignant"]
    # an item's seed does not depend on the other sources of the run
    alone = plan_items(cases[1:2], 4, seed=5)
    assert [it.seed for it in alone] == [it.seed for it in items if it.case == cases[1]]
    assert [it.seed for it in plan_items(cases, 4, seed=6)] != [it.seed for it in items]
    with pytest.raises(InputError, match="n-per-image"):
        plan_items(cases, 0)


def test_augment_writes_a_folder_dataset_with_its_manifest(folder_dataset, tmp_path):
    out = tmp_path / "aug"
    summary = run_augment(AugmentConfig(folder_dataset, out, n_per_image=2, method="physics", seed=1))
    assert summary == {**summary, "planned": 6, "written": 6, "skipped": 0, "missing": 0, "resumed": 0}
    manifest = json.loads((out / "manifest.json").read_text())
    rows = (out / "manifest.csv").read_text().splitlines()
    assert len(rows) == 1 + 6 and len(manifest["images"]) == 6
    sources = {c.case_id: c for c in load_dataset(folder_dataset).cases}
    for rec in manifest["images"]:
        source = sources[rec["source_case"]]
        image, mask = read_gray(out / rec["image"]), read_mask(out / rec["mask"])
        original = read_gray(source.image_path)
        changed = image != original
        assert mask.any() and changed[mask].mean() > 0.5  # the tumor is where its mask says
        w = rec["generator"]["window"]  # the lesion's context window: outside it, the source's pixels
        changed[w["y0"] : w["y1"], w["x0"] : w["x1"]] = False
        assert not changed.any()
        assert rec["model"] == "physics draft (no model)" and rec["description"]["pathology"] == rec["label"]
        # the source's own lesion comes along as a second mask, and the new one keeps clear of it
        assert len(rec["source_masks"]) == len(source.mask_paths)
        for extra in rec["source_masks"]:
            assert not (read_mask(out / extra) & mask).any()
    # the output reads back as a folder dataset, augmented images grouped with their source patient
    again = load_folder(out)
    assert len(again.cases) == 6 and not again.skipped
    assert {c.patient_id for c in again.cases} == {c.patient_id for c in sources.values()}


def test_two_workers_give_the_same_images_as_one(folder_dataset, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_augment(AugmentConfig(folder_dataset, one, n_per_image=2, method="physics", workers=1))
    run_augment(AugmentConfig(folder_dataset, two, n_per_image=2, method="physics", workers=2))
    assert _outputs(one) == _outputs(two) and len(_outputs(one)) == 6 + 6 + 2
    csv_one, csv_two = ((d / "manifest.csv").read_text() for d in (one, two))
    assert csv_one == csv_two


def test_a_killed_run_resumes_without_redoing_finished_items(folder_dataset, tmp_path):
    out, reference = tmp_path / "aug", tmp_path / "reference"
    cmd = [sys.executable, "-m", "engine", "augment", "--dataset", str(folder_dataset), "--out", str(out),
           "--n-per-image", "4", "--method", "physics", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "records").glob("*.json"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    assert 2 <= len(finished) < 12, "the run was not interrupted midway"
    assert not (out / "manifest.csv").exists()
    done = subprocess.run(cmd[:-1], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"({len(finished)} from an earlier run)" in done.stdout
    assert "12/12 images" in done.stderr and "ETA" in done.stderr  # the progress bar
    # finished items were skipped, not redone; the result equals an uninterrupted run
    assert {n: (out / "records" / n).stat().st_mtime_ns for n in finished} == finished
    run_augment(AugmentConfig(folder_dataset, reference, n_per_image=4, method="physics"))
    assert _outputs(out) == _outputs(reference)
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no half-written file left


def test_a_frame_without_room_is_skipped_with_its_reason(tmp_path):
    from tests.augment.conftest import write_folder_dataset

    dataset = write_folder_dataset(tmp_path / "dark", n_normal=1, size=(40, 40))
    for p in (dataset / "images").glob("*.png"):  # black frames: no lit tissue to place a lesion in
        import cv2

        cv2.imwrite(str(p), np.zeros((40, 40), np.uint8))
    summary = run_augment(AugmentConfig(dataset, tmp_path / "aug", method="physics"))
    manifest = json.loads((tmp_path / "aug" / "manifest.json").read_text())
    assert summary["planned"] >= 1 and summary["written"] == 0 and summary["skipped"] == summary["planned"]
    assert all("no place" in r["reason"] for r in manifest["skipped"])
