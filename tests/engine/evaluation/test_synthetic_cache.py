"""The synthetic-set cache: a second run (another seed, arm or a larger set) reuses the stored
images, which are exactly those a fresh build makes; any change to what makes them changes the key."""

import json

import numpy as np
import pytest

from engine.datasets import load_folder
from engine.errors import MissingPartError
from engine.evaluation.synthetic import build_synthetic_set
from engine.evaluation.synthetic_cache import cache_key, cached_synthetic_set, generator_fingerprint

from .toy import write_toy_folder


@pytest.fixture(scope="module")
def canvases(tmp_path_factory):
    root = write_toy_folder(
        tmp_path_factory.mktemp("canvas"), n_lesions=2, n_normal=3, seed=4, size=192, mm_per_pixel=0.3
    )
    return load_folder(root).cases


def _same(a, b):
    return all(
        np.array_equal(x.image, y.image) and np.array_equal(x.mask, y.mask) and x.label == y.label
        for x, y in zip(a, b, strict=True)
    )


def test_a_larger_set_reuses_the_stored_prefix_and_matches_a_fresh_build(canvases, tmp_path):
    first, report = cached_synthetic_set(canvases, 3, seed=1, method="physics", canvas_px=192, root=tmp_path)
    assert (report.reused, report.made) == (0, 3)
    assert _same(first, build_synthetic_set(canvases, 3, seed=1, method="physics", canvas_px=192))
    more, report = cached_synthetic_set(canvases, 5, seed=1, method="physics", canvas_px=192, root=tmp_path)
    assert (report.reused, report.made) == (3, 2)
    assert _same(more, build_synthetic_set(canvases, 5, seed=1, method="physics", canvas_px=192))
    assert more[0].record == first[0].record and more[0].canvas == first[0].canvas
    key = json.loads((tmp_path / report.key / "key.json").read_text())
    assert key["seed"] == 1 and key["canvas_px"] == 192 and key["generator"] == {"method": "physics"}
    # an item whose record is missing (an interrupted write) is made again, the same
    (tmp_path / report.key / "synthetic_00001.json").unlink()
    again, report = cached_synthetic_set(canvases, 5, seed=1, method="physics", canvas_px=192, root=tmp_path)
    assert (report.reused, report.made) == (4, 1) and _same(again, more)


def test_the_key_follows_what_makes_the_set(canvases, tmp_path):
    base = cache_key(canvases, 0, "physics", None, 256)[0]
    assert cache_key(canvases, 0, "physics", None, 256)[0] == base
    assert cache_key(canvases, 1, "physics", None, 256)[0] != base
    assert cache_key(canvases, 0, "physics", None, 128)[0] != base
    assert cache_key(list(reversed(canvases)), 0, "physics", None, 256)[0] != base
    models = []
    for name, weights in (("m1", b"first weights"), ("m2", b"second weights")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pipeline.json").write_text(json.dumps({"weights": "model.safetensors"}))
        (folder / "model.safetensors").write_bytes(weights)
        models.append(folder)
    d1 = cache_key(canvases, 0, "diffusion", models[0], 256)[0]
    assert d1 != base and d1 != cache_key(canvases, 0, "diffusion", models[1], 256)[0]
    # the defaults spelt out are the defaults; another step count is another set
    from engine.generator import defaults

    assert cache_key(canvases, 0, "diffusion", models[0], 256, {"steps": defaults.STEPS})[0] == d1
    assert cache_key(canvases, 0, "diffusion", models[0], 256, {"steps": defaults.STEPS + 1})[0] != d1
    with pytest.raises(MissingPartError, match="tumor generator"):
        generator_fingerprint("diffusion", tmp_path / "no-model", None)
