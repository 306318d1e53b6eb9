import numpy as np
import pytest

from engine.datasets import load_busi, load_folder
from engine.datasets.images import read_gray
from engine.errors import InputError, MissingPartError
from engine.evaluation.synthetic import build_synthetic_set, sample_description, write_synthetic_set
from engine.language.lexicon import Orientation, Shape
from engine.masks.priors import load_priors

from .toy import write_toy_folder


def test_descriptions_follow_the_birads_rule_for_their_label():
    priors = load_priors()
    rng = np.random.default_rng(0)
    for _ in range(200):
        b = sample_description("benign", priors, rng)
        assert b.shape in (Shape.OVAL, Shape.ROUND) and b.margin.circumscribed
        assert b.orientation is Orientation.PARALLEL and b.pathology.value == "benign"
        m = sample_description("malignant", priors, rng)
        assert m.shape is Shape.IRREGULAR or not m.margin.circumscribed
        assert m.pathology.value == "malignant"
    with pytest.raises(InputError):
        sample_description("normal", priors, rng)


@pytest.fixture(scope="module")
def canvases(tmp_path_factory):
    root = write_toy_folder(
        tmp_path_factory.mktemp("canvas"), n_lesions=2, n_normal=3, seed=4, size=256, mm_per_pixel=0.3
    )
    return load_folder(root).cases


def test_physics_set_is_balanced_inside_the_frame_and_repeats(canvases, tmp_path):
    items = build_synthetic_set(canvases, 4, seed=1, method="physics", canvas_px=256)
    assert [it.label for it in items] == ["benign", "malignant", "benign", "malignant"]
    normal = {c.case_id: read_gray(c.image_path) for c in canvases if not c.has_lesion}
    for it in items:
        assert it.image.shape == it.mask.shape == (256, 256) and it.mask.any()
        ys, _ = np.nonzero(it.mask)
        assert ys.min() >= 0.15 * 256  # below the skin line
        # drawn into a lesion-free frame (scaled to canvas_px), changed only inside the generator's window
        canvas = normal[it.canvas]
        w = it.record["generator"]["window"]
        outside = np.ones_like(it.mask)
        outside[w["y0"] : w["y1"], w["x0"] : w["x1"]] = False
        assert outside.any() and np.array_equal(it.image[outside], canvas[outside])
        assert np.abs(it.image[it.mask].astype(int) - canvas[it.mask]).mean() > 5
        assert it.record["description"]["pathology"] == it.label and it.record["mm_per_pixel"] == 0.3
    again = build_synthetic_set(canvases, 4, seed=1, method="physics", canvas_px=256)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(items, again, strict=True))
    other = build_synthetic_set(canvases, 4, seed=2, method="physics", canvas_px=256)
    assert not np.array_equal(items[0].mask, other[0].mask)
    # written as a folder dataset that the adapters read back
    index = load_folder(write_synthetic_set(items, tmp_path / "syn"))
    assert [c.label for c in index.cases] == [it.label for it in items] and not index.skipped
    assert np.array_equal(read_gray(index.cases[0].image_path), items[0].image)


def test_missing_diffusion_model_is_named_not_faked(canvases, tmp_path):
    with pytest.raises(MissingPartError, match="tumor generator"):
        build_synthetic_set(canvases, 2, method="diffusion", model_dir=tmp_path / "no-model")


def test_no_canvas_is_an_input_error(canvases):
    with pytest.raises(InputError, match="lesion-free"):
        build_synthetic_set([c for c in canvases if c.has_lesion], 2, method="physics")


def test_busi_normal_frames_are_canvases(busi_dir):
    normal = [c for c in load_busi(busi_dir).cases if c.label == "normal"][:2]
    items = build_synthetic_set(normal, 2, seed=0, method="physics", canvas_px=160)
    assert [it.canvas for it in items] != [] and all(it.mask.sum() > 20 for it in items)
    assert {it.canvas for it in items} <= {c.case_id for c in normal}


def test_diffusion_set_goes_through_the_saved_pipeline(canvases, tmp_path):
    pipeline = pytest.importorskip("engine.generator.pipeline")
    from tests.engine.generator.tiny import tiny_model

    pipeline.BusTumorPipeline(tiny_model()).save_pretrained(tmp_path / "model")
    items = build_synthetic_set(
        canvases, 1, seed=3, method="diffusion", model_dir=tmp_path / "model", diffusion_options={"steps": 3}
    )
    physics = build_synthetic_set(canvases, 1, seed=3, method="physics")
    for it, ph in zip(items, physics, strict=True):
        assert (
            it.record["generator"]["method"] == "diffusion"
            and it.record["generator"]["seed"] == it.record["seed"]
        )
        assert np.array_equal(it.mask, ph.mask)  # same request and placement, another painter
        assert not np.array_equal(it.image, ph.image)
