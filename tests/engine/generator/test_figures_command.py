"""bus-engine generator-figures end to end: a tiny random model on four real BrEaST lesions."""

import json

import pytest

from .tiny import tiny_model


def test_generator_figures_command_on_a_tiny_model(tmp_path, data_root):
    from engine.cli.main import main
    from engine.generator.pipeline import BusTumorPipeline

    # four small BrEaST lesions (radiologists' labels), so the run stays short; BrEaST only, so the
    # BUSI index (which reads every BUSI mask) is not loaded
    ids = [f"breast/{c}/{c}_tumor" for c in ("case075", "case063", "case107", "case034")]
    model = tmp_path / "model"
    BusTumorPipeline(tiny_model()).save_pretrained(model)
    (model / "split.json").write_text(json.dumps({"train": [], "validation": [], "test": ids}))
    out = tmp_path / "figures"
    args = ["generator-figures", "--model", str(model), "--out", str(out), "--limit", "4", "--epochs", "1"]
    args += ["--describe-model", "bundled", "--split", "test", "--steps", "4", "--data", str(data_root)]
    args += ["--speed-lesions", "1"]
    assert main(args) == 0
    results = json.loads((out / "figures.json").read_text())
    assert results["data"]["lesions"] == 4 and len(results["lesions"]) == 4
    for name, m in results["realism"]["methods"].items():
        assert 0.0 <= m["auc"] <= 1.0, name
    dice = results["mask_adherence"]["subsets"]["all held-out lesions"]["methods"]
    assert dice["real"]["ratio"] == pytest.approx(1.0) and 0.0 <= dice["diffusion"]["mean"] <= 1.0
    if "empty_tissue" in dice:  # the box on lesion-free tissue scores below the real lesion
        assert dice["empty_tissue"]["mean"] < dice["real"]["mean"]
    assert all(
        set(r["dice"]) >= {"real", "physics", "diffusion", "cut_and_paste", "naive"}
        for r in results["lesions"]
    )
    assert results["attributes"]["lesions"] == 4
    assert set(results["attributes"]["methods"]) == {"real", "physics", "diffusion", "cut_and_paste", "naive"}
    assert results["distances"]["inception"]["computed"] is False
    assert results["speed"]["peak_rss_mb"] > 0
    text = (out / "figures.md").read_text()
    for heading in ("## 1. Realism", "## 2. Mask adherence", "## 3. Attribute", "## 4. FID", "## 5. Speed"):
        assert heading in text
    for png in (
        "fig1_realism",
        "fig2_mask_adherence",
        "fig3_attributes",
        "fig4_fid_kid",
        "fig5_speed",
        "examples",
    ):
        assert (out / f"{png}.png").stat().st_size > 1000
