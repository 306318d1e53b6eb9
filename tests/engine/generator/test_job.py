import json

import numpy as np
import pytest
from PIL import Image

from engine.errors import MissingPartError
from engine.generator.pipeline import BusTumorPipeline
from engine.settings import sample_study_path
from engine.workflow import SynthesisJob

from .tiny import tiny_model

TEXT = "irregular hypoechoic mass with posterior shadowing, 12 mm"


def _job(tmp_path, **kw):
    base = dict(input=sample_study_path(), text=TEXT, out_dir=tmp_path / "out", seed=3, method="physics")
    base.update(kw)
    return SynthesisJob(**base)


def test_physics_job_writes_dicom_previews_and_record(tmp_path):
    pytest.importorskip("engine.masks.generator")
    from engine.dicom import open_study
    from engine.generator import run_job

    result = run_job(_job(tmp_path, variants=2))
    out = tmp_path / "out"
    for i in range(2):
        for name in (
            f"synthetic_{i}_image.dcm",
            f"synthetic_{i}_seg.dcm",
            f"synthetic_{i}_sr.dcm",
            f"preview_{i}.png",
        ):
            assert (out / name).is_file(), name
    record = json.loads((out / "record.json").read_text())
    assert record["description"]["echo_pattern"] == "hypoechoic"
    assert record["mask_source"].startswith("generated")
    assert record["generator"]["variant_seeds"] == [3, 4]
    assert record["mm_per_pixel_source"] == "calibration"
    # The written image has the frame's size and differs from the source only near the lesion.
    source = open_study(sample_study_path()).frame(0).gray
    written = open_study(out / "synthetic_0_image.dcm").frame(0).gray
    assert written.shape == source.shape
    mask = np.asarray(Image.open(out / "mask.png")) > 0
    w = record["generator"]["window"]
    changed = written != source
    inside = np.zeros_like(changed)
    inside[w["y0"] : w["y1"], w["x0"] : w["x1"]] = True
    region = open_study(sample_study_path()).frame(0).calibration.region_mask(source.shape)
    assert not (changed & region & ~inside).any()  # de-identification may blank outside the region only
    assert changed[mask].mean() > 0.5
    assert result.record_path == out / "record.json"


def test_job_with_a_mask_file_and_same_seed_same_output(tmp_path):
    from engine.dicom import open_study
    from engine.generator import run_job

    gray = open_study(sample_study_path()).frame(0).gray
    yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]]
    mask = ((yy - 200) / 25) ** 2 + ((xx - 320) / 40) ** 2 <= 1
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "m.png")
    a = run_job(_job(tmp_path / "a", mask=tmp_path / "m.png"))
    b = run_job(_job(tmp_path / "b", mask=tmp_path / "m.png"))
    pa = np.asarray(Image.open(a.previews[0]))
    pb = np.asarray(Image.open(b.previews[0]))
    assert np.array_equal(pa, pb)
    assert a.record["mask_source"].startswith("mask file")


def test_diffusion_job_needs_the_model_folder(tmp_path):
    from engine.generator import run_job

    with pytest.raises(MissingPartError, match="trained tumor generator model"):
        run_job(_job(tmp_path, method="diffusion", model_dir=tmp_path / "no-model"))


def test_diffusion_job_with_a_tiny_model(tmp_path):
    from engine.generator import run_job

    BusTumorPipeline(tiny_model()).save_pretrained(tmp_path / "model")
    result = run_job(_job(tmp_path, method="diffusion", model_dir=tmp_path / "model", steps=3))
    rec = result.record["generator"]
    assert rec["method"] == "diffusion" and rec["steps"] == 3 and rec["text"] == TEXT
    assert (tmp_path / "out" / "synthetic_0_sr.dcm").is_file()
