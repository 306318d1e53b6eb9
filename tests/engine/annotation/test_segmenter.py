"""The click segmenter's files, its training windows, and the learned path of click-to-segment."""

import json

import numpy as np
import pytest
import torch

from engine.annotation.click_segment import segment
from engine.annotation.segmenter import (
    BUNDLED_FOLDER,
    build_unet,
    export_onnx,
    load_segmenter,
    save_segmenter,
    try_load_segmenter,
)
from engine.annotation.training import context_lesions, draw_window, train
from engine.errors import ModelError
from engine.evaluation.metrics import dice

from .synthetic import lesion_frame

CONFIG = {"base": 4, "depth": 2, "in_channels": 2, "window_px": 32, "threshold": 0.5}


@pytest.fixture(scope="module")
def lesions():
    out = []
    for seed in range(3):
        gray, mask = lesion_frame(centre=(90 + 5 * seed, 80), axes=(25 + 4 * seed, 18), seed=seed)
        out += context_lesions(f"synthetic/{seed}", gray, mask)
    return out


def test_training_windows_hold_the_lesion_and_its_prompt(lesions):
    rng = np.random.default_rng(0)
    assert len(lesions) == 3 and lesions[0].gray.shape == (320, 320)
    for _ in range(20):
        x, y = draw_window(lesions[0], 32, rng)
        assert x.shape == (2, 32, 32) and y.shape == (32, 32)
        assert 0.05 < y.mean() < 0.8  # the lesion fills part of the window, never all or none
        assert (x[1] * y).sum() > 0.5 * (x[1] * (1 - y)).sum()  # the prompt sits mostly on the lesion


def test_save_load_round_trip_is_fp16_and_same_logits(tmp_path, lesions):
    torch.manual_seed(0)
    net, stats = train(lesions, minutes=0.02, seed=0, px=32, base=4, depth=2, batch=4, log=lambda s: None)
    assert stats["steps"] >= 1
    path = save_segmenter(net, dict(CONFIG, training=stats), tmp_path / "seg")
    from safetensors.torch import load_file

    assert all(v.dtype == torch.float16 for v in load_file(str(path)).values() if v.dtype.is_floating_point)
    loaded = load_segmenter(tmp_path / "seg")
    x = np.random.default_rng(1).standard_normal((2, 2, 32, 32)).astype(np.float32)
    with torch.inference_mode():
        expected = net(torch.from_numpy(x))[:, 0].numpy()
    np.testing.assert_allclose(loaded.logits(x), expected, atol=5e-2)  # fp16 weights
    onnx_path = export_onnx(loaded, tmp_path / "seg.onnx")
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"window": x})[0][:, 0], loaded.logits(x), atol=1e-4)


def test_missing_or_broken_folder(tmp_path):
    assert try_load_segmenter(tmp_path) is None
    with pytest.raises(ModelError, match="no click segmenter"):
        load_segmenter(tmp_path)
    (tmp_path / "segmenter.safetensors").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_segmenter(tmp_path)


def test_learned_path_runs_and_says_so(tmp_path):
    net = build_unet(4, 2)
    with torch.no_grad():  # a model that calls the whole window lesion: the mask is the window
        for p in net.parameters():
            p.zero_()
        net.head.bias.fill_(5.0)
    save_segmenter(net, CONFIG, tmp_path / "seg")
    gray, _ = lesion_frame()
    r = segment(gray, box=(62, 58, 128, 102), segmenter=load_segmenter(tmp_path / "seg"))
    assert r.method == "segmenter-box"
    ys, xs = np.nonzero(r.mask)
    w = r.window  # the box grown by a quarter of its longer side (66 px) on every side
    assert (xs.min(), xs.max() + 1) == pytest.approx((w.x0, w.x0 + w.side), abs=1.5)
    assert (ys.min(), ys.max() + 1) == pytest.approx((w.y0, w.y0 + w.side), abs=1.5)


@pytest.mark.skipif(not (BUNDLED_FOLDER / "segmenter.safetensors").is_file(), reason="no bundled segmenter")
def test_bundled_segmenter_outlines_a_held_out_lesion(breast_dir):
    from engine.annotation.training import lesion_components, mask_box
    from engine.datasets import load_breast
    from engine.datasets.images import read_case_mask, read_gray

    seg = load_segmenter(BUNDLED_FOLDER)
    assert (BUNDLED_FOLDER / "segmenter.safetensors").stat().st_size < 5_000_000
    test_ids = seg.config["split"]["breast"]["test"]
    cases = {c.case_id: c for c in load_breast(breast_dir).lesion_cases()}
    scores = []
    for case_id in test_ids[:6]:
        c = cases[case_id]
        gray = read_gray(c.image_path)
        part = max(lesion_components(read_case_mask(c.mask_paths, gray.shape)), key=np.sum)
        r = segment(gray, box=mask_box(part), segmenter=seg)
        assert r.method == "segmenter-box"
        scores.append(dice(r.contour.raster(gray.shape), part))
    assert np.mean(scores) > 0.7
