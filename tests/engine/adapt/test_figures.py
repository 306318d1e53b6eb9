import json

import pytest

from engine.adapt.figures import (
    AdaptFigureSettings,
    breast_training_cases,
    load_or_make_subsets,
    markdown,
    plot,
    read_split_file,
    summarize,
    write_heldout_split,
)
from engine.errors import DataError
from engine.settings import RESOURCES

SPLIT = RESOURCES / "models" / "default" / "split.json"


def test_subsets_are_nested_fixed_and_from_the_breast_training_part(tmp_path):
    split = read_split_file(SPLIT)
    held_out = {"/".join(i.split("/")[:2]) for s in ("validation", "test") for i in split[s]}
    subsets = load_or_make_subsets(tmp_path / "subsets.json", split, (10, 30, 100), seed=0)
    assert [len(subsets[k]) for k in ("10", "30", "100")] == [10, 30, 100]
    assert set(subsets["10"]) <= set(subsets["30"]) <= set(subsets["100"])
    assert set(subsets["100"]) <= set(breast_training_cases(split))
    assert not set(subsets["100"]) & held_out
    assert load_or_make_subsets(tmp_path / "subsets.json", split, (10, 30, 100), seed=5) == subsets  # saved
    saved = json.loads((tmp_path / "subsets.json").read_text())
    saved["subsets"]["10"][0] = "breast/not-a-training-case"
    (tmp_path / "subsets.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="not in the split's BrEaST training part"):
        load_or_make_subsets(tmp_path / "subsets.json", split, (10,), seed=0)


def test_heldout_split_holds_breast_validation_and_test_lesions_only(tmp_path):
    split = read_split_file(SPLIT)
    folder = write_heldout_split(tmp_path, split, ("validation", "test"))
    heldout = json.loads((folder / "split.json").read_text())
    assert set(heldout) == {"validation", "test"}
    assert heldout["test"] == sorted(i for i in split["test"] if i.startswith("breast/"))
    assert all(i.startswith("breast/") for ids in heldout.values() for i in ids)


def _settings(tmp_path, sizes, reference=True):
    """Settings for summarize/markdown tests: only the sizes and whether a reference is given matter."""
    ref = tmp_path if reference else None
    return AdaptFigureSettings(
        base=tmp_path, reference=ref, data_root=tmp_path, out=tmp_path, split=SPLIT, sizes=sizes
    )


def _row(auc, fid, mask, attribute):
    d = {"realism_auc": auc, "fid": fid, "kid": fid / 100, "mask_adherence": mask, "mask_dice": mask * 0.8}
    d.update(attribute_adherence=attribute, attribute_agreement=attribute / 2, fid_real_vs_real=1.0)
    d.update(kid_real_vs_real=0.01, heldout_loss=fid / 200)
    return {"diffusion": d, "physics": dict(d)}


def test_gap_closed_and_adherence_change(tmp_path):
    s = _settings(tmp_path, (10, 30))
    rows = {
        "BUSI-only (before)": _row(0.9, 20.0, 0.8, 0.6),
        "adapted, 10 BrEaST images": _row(0.85, 18.0, 0.78, 0.6),
        "adapted, 30 BrEaST images": _row(0.7, 12.0, 0.74, 0.63),
        "BrEaST training split (reference)": _row(0.6, 10.0, 0.8, 0.6),
    }
    summary = summarize(rows, s)
    assert summary["30"]["realism_auc_gap_closed"] == pytest.approx(2 / 3)
    assert summary["30"]["fid_gap_closed"] == pytest.approx(0.8)
    assert summary["30"]["heldout_loss_gap_closed"] == pytest.approx(0.8)
    assert summary["30"]["mask_adherence_change"] == pytest.approx(-0.075)
    assert summary["10"]["attribute_adherence_change"] == pytest.approx(0.0)
    targets = summary["targets"]
    assert targets["realism gap closed with 30 images >= 0.5"] is True
    assert targets["adherence falls <= 5% after every adaptation"] is False  # 30 images: -7.5 %
    results = {
        "settings": {
            "base": "b", "reference": "r", "split": "s", "eval_splits": ["test"], "seed": 0, "threads": 1,
            "adapter": {"rank": 8, "steps": 300, "batch": 8, "lr": 1e-3},
            "sampling": {"steps": 20, "guidance": 3.0, "strength": 0.6},
        },
        "data": {"lesions": 24, "images": 24},
        "subsets": {"10": 10, "30": 30},
        "cpu_count": 2,
        "load_average": {"start": [1.0], "end": [2.0]},
        "wall_seconds": 60.0,
        "models": rows,
        "adapters": {
            n: {"trainable_parameters": 271872, "wall_seconds": 120.0, "device": "cpu (1 threads)",
                "size_bytes": 550000, "load_seconds": 0.05}
            for n in ("10", "30")
        },
        "summary": summary,
    }  # fmt: skip
    text = markdown(results, "bus-engine adapt-figures ...")
    assert "| adapted, 30 BrEaST images | 0.700 | 12.00 | 0.1200 | 0.0600 |" in text
    assert "| 30 images | 271,872 | 2.0 min" in text and "0.67 |" in text and "-7.5 %" in text
    assert plot(results, tmp_path / "p.png").stat().st_size > 1000


def test_the_realism_gap_is_to_the_full_fine_tune_when_there_is_one(tmp_path):
    """A model trained on BrEaST's 200 training images alone can be worse than the base; the gap is
    then measured to the base fine-tuned in full on them, and the scratch model's gap is undefined."""
    from engine.adapt.figures import FINE_TUNED, REFERENCE

    s = _settings(tmp_path, (30,))
    rows = {
        "BUSI-only (before)": _row(0.8, 20.0, 0.8, 0.6),
        "adapted, 30 BrEaST images": _row(0.75, 12.0, 0.8, 0.6),
        FINE_TUNED: _row(0.7, 10.0, 0.8, 0.6),
        REFERENCE: _row(0.9, 30.0, 0.8, 0.6),
    }
    row = summarize(rows, s)["30"]
    assert row["realism_auc_gap_closed"] == pytest.approx(0.5)
    assert row["fid_gap_closed"] == pytest.approx(0.8)
    assert row["realism_auc_gap_closed_scratch"] != row["realism_auc_gap_closed_scratch"]  # nan: no gap
    assert summarize(rows, s)["targets"]["realism gap closed with 30 images >= 0.5"] is True


def test_paired_adherence_changes_count_flips_and_give_intervals():
    from engine.adapt.figures import paired_changes

    def record(i, echo_ok, dice):
        requested = {"echo_pattern": "hypoechoic", "posterior_features": "no posterior features"}
        measured = dict(requested, echo_pattern="hypoechoic" if echo_ok else "isoechoic")
        return {
            "id": f"breast/case{i}",
            "requested": requested,
            "measured": {"diffusion": measured},
            "dice": {"diffusion": dice},
        }

    before = [record(i, i < 10, 0.8) for i in range(20)]
    after = [record(i, 2 <= i < 11, 0.8 if i % 2 else 0.6) for i in range(20)]  # 2 lost, 1 gained
    out = paired_changes(before, after[::-1], seed=0)  # paired by id, not by order
    assert out["attribute_flips"] == {"lost": 2, "gained": 1}
    assert out["attribute_agreement_change_low"] < -0.1 < out["attribute_agreement_change_high"]
    assert out["mask_dice_change_low"] < -0.125 < out["mask_dice_change_high"] < 0


def test_a_realism_gap_inside_the_classifiers_noise_is_not_a_gap(tmp_path):
    """At the ceiling (folds near 1) a reference 0.003 below the base is noise: n/a, not 'closed'."""
    from engine.adapt.figures import FINE_TUNED, realism_resolution

    s = _settings(tmp_path, (30,), reference=None)
    rows = {
        "BUSI-only (before)": _row(0.991, 20.0, 0.8, 0.6),
        "adapted, 30 BrEaST images": _row(0.989, 20.0, 0.8, 0.6),
        FINE_TUNED: _row(0.988, 20.0, 0.8, 0.6),
    }
    rows["BUSI-only (before)"]["diffusion"]["fold_aucs"] = [0.967, 1.0, 0.99, 1.0, 1.0]
    rows[FINE_TUNED]["diffusion"]["fold_aucs"] = [1.0, 0.959, 0.98, 1.0, 1.0]
    assert realism_resolution(rows["BUSI-only (before)"]["diffusion"], rows[FINE_TUNED]["diffusion"]) > 0.003
    summary = summarize(rows, s)
    assert summary["30"]["realism_auc_gap_closed"] != summary["30"]["realism_auc_gap_closed"]  # nan
    assert summary["targets"]["realism gap closed with 30 images >= 0.5"] is None
    rows[FINE_TUNED]["diffusion"].update(realism_auc=0.7, fold_aucs=[0.68, 0.72, 0.7, 0.71, 0.69])
    assert summarize(rows, s)["30"]["realism_auc_gap_closed"] > 0
