import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.datasets import load_folder
from engine.errors import DataError, InputError
from engine.evaluation import reader_study as rs

from .toy import write_toy_folder


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    real = load_folder(write_toy_folder(tmp_path_factory.mktemp("real"), n_lesions=10, seed=1, size=96))
    synth = load_folder(write_toy_folder(tmp_path_factory.mktemp("synth"), n_lesions=10, seed=2, size=80))
    return real.cases, synth.cases


def _study(pools, out: Path, seed=0, mode="window", per_class=4):
    return rs.make_study(pools[0], pools[1], out, per_class, seed=seed, mode=mode, size_px=64)


def test_study_is_balanced_blinded_and_seeded(pools, tmp_path):
    out = _study(pools, tmp_path / "s")
    study = json.loads((out / rs.STUDY_FILE).read_text())
    key = json.loads(rs.key_path_for(out).read_text())
    assert not (out / "key.json").exists() and rs.key_path_for(out).parent == out.parent
    assert sorted(v["truth"] for v in key.values()) == ["real"] * 4 + ["synthetic"] * 4
    assert set(key) == {it["id"] for it in study["items"]}
    assert "truth" not in json.dumps(study) and "synthetic" not in json.dumps(study["items"])
    files = sorted((out / "items").iterdir())
    assert [f.name for f in files] == sorted(f"{i}.png" for i in key)
    assert len({f.stat().st_mtime for f in files}) == 1  # file times say nothing either
    for f in files:  # same size and mode, no text chunks (no tool name, date or source path)
        img = Image.open(f)
        assert img.size == (64, 64) and img.mode == "L" and not img.text and not img.info.get("dpi")
    again = _study(pools, tmp_path / "again")
    assert json.loads((again / rs.STUDY_FILE).read_text()) == study
    assert _study(pools, tmp_path / "other", seed=1).joinpath(rs.STUDY_FILE).read_text() != json.dumps(study)
    with pytest.raises(InputError, match="already holds"):
        _study(pools, out)
    with pytest.raises(InputError, match="only"):
        rs.make_study(pools[0], pools[1], tmp_path / "big", 50)
    full = _study(pools, tmp_path / "full", mode="full")
    assert all(Image.open(f).size == (64, 64) for f in (full / "items").iterdir())


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_session_times_pauses_saves_and_resumes(pools, tmp_path):
    out = _study(pools, tmp_path / "s")
    clock = FakeClock()
    s = rs.ReaderSession(out, "Dr. A", clock)
    first = s.next_item()
    assert first.position == 1 and first.total == 8 and first.image_path.is_file()
    assert s.next_item() == first  # the same item until answered
    clock.t += 5
    s.pause()
    clock.t += 100  # a coffee break is not reading time
    with pytest.raises(InputError, match="paused"):
        s.answer("real", 3)
    s.resume()
    clock.t += 2
    s.answer("synthetic", 4)
    s.next_item()
    clock.t += 1
    s.answer("real", 2)
    rows = list(csv.DictReader(s.save().read_text().splitlines()))
    assert [float(r["seconds"]) for r in rows] == [7.0, 1.0]
    assert [r["answer"] for r in rows] == ["synthetic", "real"] and rows[0]["item_id"] == first.item_id
    # a new session (the app was closed) resumes at item 3, in the same order
    s2 = rs.ReaderSession(out, "Dr. A", clock)
    assert s2.answered == 2 and s2.next_item().item_id == s.sequence[2] and s2.sequence == s.sequence
    assert rs.ReaderSession(out, "Dr. B").sequence != s.sequence  # each reader has their own order
    with pytest.raises(InputError):
        s2.answer("maybe", 3)
    with pytest.raises(InputError):
        s2.answer("real", 7)
    while s2.next_item():
        s2.answer("real", 3)
    assert s2.done and s2.next_item() is None
    with pytest.raises(InputError, match="every item"):
        s2.answer("real", 3)


def _answer_all(out, reader, decide):
    s = rs.ReaderSession(out, reader)
    key = {k: v["truth"] for k, v in json.loads(rs.key_path_for(out).read_text()).items()}
    while (item := s.next_item()) is not None:
        s.answer(decide(key[item.item_id], item.position), 3)
    return s.path


def test_summary_counts_intervals_and_agreement(pools, tmp_path):
    out = _study(pools, tmp_path / "s")
    perfect = _answer_all(out, "perfect", lambda truth, i: truth)
    always_real = _answer_all(out, "always real", lambda truth, i: "real")
    summary = rs.summarize([perfect, always_real])
    p, a = summary["readers"]["perfect"], summary["readers"]["always real"]
    assert p["accuracy"]["value"] == 1.0 and p["accuracy"]["low"] < 1.0
    assert (a["accuracy"]["value"], a["sensitivity"]["value"], a["specificity"]["value"]) == (0.5, 0.0, 1.0)
    assert summary["pooled"]["n"] == 16 and summary["pooled"]["accuracy"]["k"] == 12
    assert summary["cohen_kappa"]["always real / perfect"]["kappa"] == pytest.approx(0.0)
    assert summary["fleiss_kappa"]["items"] == 8
    written = rs.write_summary(summary, tmp_path / "sum")
    assert all(p.stat().st_size > 0 for p in written)


def test_summary_refuses_a_foreign_csv(pools, tmp_path):
    out = _study(pools, tmp_path / "s")
    path = _answer_all(out, "A", lambda truth, i: truth)
    other = _study(pools, tmp_path / "t", seed=5)
    with pytest.raises(DataError, match="not in the answer key"):
        rs.summarize([path], rs.key_path_for(other))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError):
        rs.summarize([bad], rs.key_path_for(out))


def test_reader_study_command_make_and_summarize(pools, tmp_path, capsys):
    real_root, synth_root = pools[0][0].image_path.parents[1], pools[1][0].image_path.parents[1]
    out = tmp_path / "study"
    assert (
        main(
            [
                "reader-study",
                "make",
                "--real",
                str(real_root),
                "--synthetic",
                str(synth_root),
                "--per-class",
                "3",
                "--size",
                "48",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    csv_path = _answer_all(out, "R1", lambda truth, i: "synthetic" if i % 2 else "real")
    assert main(["reader-study", "summarize", str(csv_path), "--out", str(tmp_path / "sum")]) == 0
    text = capsys.readouterr().out
    assert "| R1 | 6 |" in text and (tmp_path / "sum" / "summary.png").is_file()
    assert main(["reader-study", "summarize", str(tmp_path / "missing.csv")]) == 1
    assert np.asarray(Image.open(next((out / "items").iterdir()))).shape == (48, 48)
