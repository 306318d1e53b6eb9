"""The evaluate command end to end on toy folder datasets (32 px, 1 epoch): the report folder is
complete and its numbers come from the per-image scores it stores."""

import json

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.evaluation import metrics

from .toy import write_toy_folder


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("data")
    train = write_toy_folder(root / "train", n_lesions=16, n_normal=4, seed=0, size=128)
    other = write_toy_folder(root / "other", n_lesions=8, seed=1, size=96, mm_per_pixel=0.25)
    return train, other


def _run(datasets, out, *extra):
    train, other = datasets
    return main(
        [
            "evaluate",
            "--train",
            str(train),
            "--test",
            str(other),
            "--seeds",
            "3",
            "--size",
            "32",
            "--epochs",
            "1",
            "--bootstrap",
            "50",
            "--no-progress",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_real_and_synthetic_arms_write_a_complete_report(datasets, tmp_path):
    out = tmp_path / "eval"
    cache = tmp_path / "cache"
    assert (
        _run(datasets, out, "--synthetic", "4", "--generator", "physics", "--synthetic-cache", str(cache))
        == 0
    )
    for name in (
        "report.md",
        "config.json",
        "results.json",
        "bars.png",
        "examples.png",
        "synthetic/labels.csv",
    ):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert set(results["estimates"]) == {"real", "real+synthetic", "synthetic"}
    tests = ["train (held-out)", "other"]
    assert sorted(results["datasets"]["tests"]) == sorted(tests)
    # the table's Dice is the seed mean of the stored per-image Dice
    raw = results["raw"]["real"][tests[1]]
    assert len(raw) == 3 and len(raw[0]["dice"]) == 8
    dice = results["estimates"]["real"][tests[1]]["dice"]
    assert dice["value"] == pytest.approx(np.mean([np.mean(s["dice"]) for s in raw]))
    auc = results["estimates"]["real"][tests[1]]["auc"]["value"]
    labels = results["labels"][tests[1]]
    assert auc == pytest.approx(np.mean([metrics.roc_auc(labels, s["probability"]) for s in raw]))
    assert set(results["comparisons"][tests[1]]) == set(
        metrics.SEGMENTATION_METRICS + metrics.CLASSIFICATION_METRICS
    )
    # HD95 in mm where the test set is calibrated (0.25 mm at 96 px -> 0.75 mm at 32 px), else px
    assert results["units"] == {tests[0]: {"hd95": "px"}, tests[1]: {"hd95": "mm"}}
    hd = results["estimates"]["real"][tests[1]]["hd95"]["value"]
    assert hd == pytest.approx(np.mean([np.mean(s["hd95"]) for s in raw]))
    missed = [h for s in raw for h, d in zip(s["hd95"], s["dice"], strict=True) if d == 0.0]
    assert all(h == pytest.approx(np.hypot(32 * 0.75, 32 * 0.75)) for h in missed)
    report = (out / "report.md").read_text()
    assert "(b) real + synthetic" in report and "| p |" in report
    assert " mm |" in report and " px |" in report and "load average" in report
    source = results["datasets"]["synthetic_source"]
    assert source["made"] == 4 and source["cache"]["reused"] == 0
    assert (cache / source["cache"]["key"] / "synthetic_00003.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["seeds"] == 3 and config["size"] == 32 and config["train_config"]["epochs"] == 1
    assert config["generator"] == "physics" and config["synthetic"] == 4


def test_missing_generator_model_stops_with_its_name(datasets, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BUS_MODEL_DIR", str(tmp_path / "no-model"))
    assert _run(datasets, tmp_path / "eval", "--synthetic", "4") == 1
    assert "tumor generator" in capsys.readouterr().err
    assert not (tmp_path / "eval" / "report.md").exists()


def test_unknown_dataset_is_one_clear_error(tmp_path, capsys):
    assert main(["evaluate", "--train", "nowhere", "--out", str(tmp_path / "e")]) == 1
    assert "neither a folder nor one of" in capsys.readouterr().err


def test_dataset_names_resolve_under_the_data_root(busi_dir, monkeypatch):
    from engine.evaluation.runner import dataset_name, resolve_dataset

    monkeypatch.setenv("BUS_DATA_ROOT", str(busi_dir.parents[1]))
    index = resolve_dataset("BUSI")
    assert index.name == "busi" and dataset_name(index) == "busi" and len(index.lesion_cases()) > 600
    assert dataset_name(resolve_dataset(str(busi_dir))) == "busi"
