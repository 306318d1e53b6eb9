import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import DataError, InputError
from engine.generator.data import LesionSample, load_cache, make_split, write_cache
from engine.generator.pipeline import BusTumorPipeline
from engine.generator.train import TrainConfig, train
from engine.generator.window import choose_window, crop_gray, crop_mask
from engine.language import LesionDescription

from .tiny import HashTextEncoder, ellipse, tiny_config, tissue

PROJECT = Path(__file__).resolve().parents[3]


def _tiny_cache(path: Path, n: int = 12) -> Path:
    windows, masks, samples = [], [], []
    for i in range(n):
        frame = tissue(seed=i)
        mask = ellipse(cy=50 + i, cx=100 + 2 * i, ry=12 + i % 4, rx=18)
        frame[mask] = (frame[mask] * 0.4).astype(np.uint8)  # a dark lesion to learn
        w = choose_window(mask)
        windows.append(crop_gray(frame, w))
        masks.append(crop_mask(mask, w))
        desc = LesionDescription(echo_pattern="hypoechoic" if i % 2 else "anechoic")
        samples.append(
            LesionSample(
                f"toy/case{i}/m", f"toy/patient{i // 2}", f"h{i}", desc, desc.echo_pattern.value, "test"
            )
        )
    write_cache(path, windows, masks, samples, HashTextEncoder())
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return _tiny_cache(tmp_path_factory.mktemp("cache") / "windows.npz")


def _cfg(out, cache, **kw):
    base = dict(out=out, cache=cache, steps=4, batch=4, save_every=2, val_every=2, log_every=1, threads=1)
    base.update(kw)
    return TrainConfig(denoiser=tiny_config(), **base)


def test_split_keeps_patients_and_identical_images_together():
    meta = [{"sample_id": f"s{i}", "group": f"p{i // 3}", "pixel_hash": f"h{i}"} for i in range(300)]
    meta.append({"sample_id": "dup", "group": "other", "pixel_hash": "h5"})  # same pixels as s5
    split = make_split(meta)
    assert sorted(sum(split.values(), [])) == sorted(m["sample_id"] for m in meta)
    where = {sid: name for name, ids in split.items() for sid in ids}
    for g in range(100):
        assert len({where[f"s{3 * g + k}"] for k in range(3)}) == 1
    assert where["dup"] == where["s5"]
    assert 0.7 < len(split["train"]) / len(meta) < 0.9 and split["test"] and split["validation"]
    assert make_split(list(reversed(meta))) == split  # stable, order-free


def test_train_saves_resumes_and_loads(cache, tmp_path):
    out = tmp_path / "run"
    summary = train(_cfg(out, cache), log=lambda m: None)
    assert summary["steps"] == 4
    for name in ("split.json", "log.csv", "loss.png", "checkpoint.pt", "summary.json", "model/pipeline.json"):
        assert (out / name).is_file(), name
    split = json.loads((out / "split.json").read_text())
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert rows[1]["val_loss"] != ""
    # Resume to step 6: the log continues, the split is the same file.
    summary = train(_cfg(out, cache, steps=6, resume=True), log=lambda m: None)
    assert summary["steps"] == 6
    assert [int(r["step"]) for r in csv.DictReader((out / "log.csv").open())][-1] == 6
    assert json.loads((out / "split.json").read_text()) == split
    # Export from the checkpoint alone (a stopped run) gives the same EMA weights as the saved model.
    from engine.generator.train import export_checkpoint

    exported = export_checkpoint(out, tmp_path / "exported")
    assert (exported / "model.safetensors").read_bytes() == (out / "model" / "model.safetensors").read_bytes()
    pipe = BusTumorPipeline.from_pretrained(out / "model", text_encoder=HashTextEncoder())
    r = pipe(tissue(seed=99), ellipse(), LesionDescription(echo_pattern="anechoic"), steps=2)
    assert r.pixels.shape[1:] == (180, 240)


def test_a_saved_split_is_reused(cache, tmp_path):
    first = tmp_path / "first"
    train(_cfg(first, cache, steps=1), log=lambda m: None)
    saved = json.loads((first / "split.json").read_text())
    # Move one sample to test by hand: the reused file wins over a freshly made split.
    moved = saved["train"].pop()
    saved["test"].append(moved)
    (tmp_path / "mine.json").write_text(json.dumps(saved))
    train(_cfg(tmp_path / "second", cache, steps=1, split=tmp_path / "mine.json"), log=lambda m: None)
    assert json.loads((tmp_path / "second" / "split.json").read_text()) == saved


def test_resume_equals_uninterrupted(cache, tmp_path):
    train(_cfg(tmp_path / "a", cache, steps=4), log=lambda m: None)
    train(_cfg(tmp_path / "b", cache, steps=2), log=lambda m: None)
    train(_cfg(tmp_path / "b", cache, steps=4, resume=True), log=lambda m: None)
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_training_lowers_the_loss(cache, tmp_path):
    out = tmp_path / "learn"
    train(_cfg(out, cache, steps=40, lr=2e-3, warmup=1, save_every=100, val_every=100), log=lambda m: None)
    losses = [float(r["loss"]) for r in csv.DictReader((out / "log.csv").open())]
    assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:8])


def test_clear_errors(tmp_path, cache):
    with pytest.raises(InputError, match="resume"):
        train(_cfg(tmp_path / "x", cache, resume=True), log=lambda m: None)
    with pytest.raises(DataError, match="does not exist"):
        load_cache(tmp_path / "none.npz")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_cpu_processes_keep_identical_weights(cache, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        "-m", "engine.cli.main", "train", "--cache", str(cache), "--out", str(out),
        "--steps", "3", "--batch", "2", "--widths", "8,16", "--threads", "1",
        "--save-every", "10", "--val-every", "10", "--log-every", "1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=PROJECT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2
    digests = summary["rank_parameter_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
