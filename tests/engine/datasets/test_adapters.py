"""Adapters on small folders built in the published layouts, with the odd files real releases have."""

import csv
import json

import numpy as np
import openpyxl
import pytest
from PIL import Image

from engine.cli.main import main
from engine.datasets import detect_format, load_busbra, load_dataset, load_folder
from engine.datasets.busbra import load_busbra_folds
from engine.errors import DataError


def _png(path, size=(40, 30), lesion=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.zeros(size[::-1], np.uint8)
    if lesion:
        a[10:20, 10:25] = 255
    Image.fromarray(a).save(path)


def _csv(path, header, rows):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture
def busbra(tmp_path):
    root = tmp_path / "BUSBRA"
    for i, side in [(1, "l"), (1, "r"), (2, "l"), (3, "0"), (4, "l")]:
        _png(root / "Images" / f"bus_{i:04d}-{side}.png")
    _png(root / "Masks" / "mask_0001-l.png")
    _png(root / "Masks" / "mask_0001-r.png")
    _png(root / "Masks" / "mask_0002-l.png", size=(41, 30))  # size mismatch
    _png(root / "Masks" / "mask_0003-0.png", lesion=False)  # empty
    # bus_0004-l has no mask at all
    header = ["ID", "Case", "Histology", "Pathology", "BIRADS", "Device", "Width", "Height", "Side", "BBOX"]
    rows = [
        [f"bus_{i:04d}-{s}", i, "x", p, 4, "d", 40, 30, s, "0"]
        for i, s, p in [
            (1, "l", "benign"),
            (1, "r", "malignant"),
            (2, "l", "benign"),
            (3, "0", "benign"),
            (4, "l", "benign"),
        ]
    ]
    _csv(root / "bus_data.csv", header, rows)
    _csv(
        root / "5-fold-cv.csv",
        ["ID", "Pathology", "kFold"],
        [[r[0], r[3], 1 + n % 5] for n, r in enumerate(rows)],
    )
    return root


def test_busbra_keeps_patients_together_and_reports_skips(busbra):
    index = load_busbra(busbra)
    assert [c.case_id for c in index.cases] == ["bus_0001-l", "bus_0001-r"]
    assert {c.patient_id for c in index.cases} == {"busbra-1"}  # two breasts, one patient
    reasons = " | ".join(s.reason for s in index.skipped)
    assert "differs from image size" in reasons and "empty mask" in reasons and "mask file missing" in reasons
    assert len(load_busbra_folds(busbra)) == 5
    assert detect_format(busbra) == "busbra"


def test_udiat_reads_the_workbook(tmp_path):
    root = tmp_path / "UDIAT"
    for name in ("000001", "000002", "000003"):
        _png(root / "original" / f"{name}.png")
        _png(root / "GT" / f"{name}.png")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Image", "Type", "Diagnosis"])
    ws.append([1, "Benign", "FIBROADENOMA"])
    ws.append(["000002", "Malignant", "IDC"])
    ws.append([3, "Unsure", "?"])
    book.save(root / "DatasetB.xlsx")
    index = load_dataset(root)
    assert index.name == "udiat"
    assert [(c.case_id, c.label) for c in index.cases] == [("000001", "benign"), ("000002", "malignant")]
    assert "unknown Type 'Unsure'" in index.skipped[0].reason


def test_generic_folder(tmp_path, capsys):
    root = tmp_path / "site"
    _png(root / "images" / "a.png")
    _png(root / "masks" / "a.png")
    _png(root / "masks" / "a_2.png")
    _png(root / "images" / "b.png")
    _png(root / "images" / "c.png")
    _csv(
        root / "labels.csv",
        ["image", "label", "patient_id", "mm_per_pixel"],
        [
            ["a.png", "malignant", "p1", "0.1"],
            ["b.png", "normal", "p1", ""],
            ["c.png", "benign", "p2", ""],
            ["d.png", "benign", "p3", ""],
        ],
    )
    index = load_folder(root)
    assert [(c.case_id, len(c.mask_paths), c.mm_per_pixel) for c in index.cases] == [
        ("a", 2, 0.1),
        ("b", 0, None),
    ]
    assert sorted(s.reason for s in index.skipped) == ["image file missing", "no mask file"]
    assert main(["datasets", "inspect", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "folder" and summary["patients"] == 1 and len(summary["skipped"]) == 2


def test_unknown_layout_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(DataError, match="cannot tell the dataset format"):
        detect_format(tmp_path)
    assert main(["datasets", "inspect", str(tmp_path / "missing")]) == 1
    assert "not found" in capsys.readouterr().err
