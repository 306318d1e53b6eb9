"""One tumor through a cine loop: same seed and description on every frame, the mask carried by
propagation; the warped mode keeps the tumor's interior steady from frame to frame."""

import json

import cv2
import numpy as np
import pytest

from engine.annotation.cine_sim import Motion, make_loop, pull_to_base
from engine.annotation.cine_synthesis import (
    ContourWarp,
    correspondences,
    interior_change,
    physics_synth,
    synthesize_loop,
)
from engine.annotation.propagate import Track, propagate
from engine.contour.fit import fit_contour
from engine.contour.spline import Contour
from engine.errors import InputError
from engine.generator.pipeline import physics_only
from engine.language import LesionDescription
from engine.language.lexicon import EchoPattern

from .synthetic import lesion_frame

MOTION = Motion()
SEED = 1
DARK = LesionDescription(echo_pattern=EchoPattern.HYPOECHOIC)


@pytest.fixture(scope="module")
def tracked_loop():
    gray, mask = lesion_frame(shape=(160, 200), axes=(26.0, 17.0))
    frames, truth = make_loop(gray, mask, 6, MOTION, seed=SEED)
    track = Track(len(frames))
    track.set_manual(0, fit_contour(truth[0]).contour)
    propagate(track, frames.__getitem__, 0, 1)
    return gray, mask, frames, track


def test_warp_of_a_shifted_contour_pulls_the_frame_back():
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    a = Contour(np.stack([80 + 20 * np.cos(t), 60 + 15 * np.sin(t)], axis=1))
    b = Contour(a.points + (6.0, -3.0))
    warp = ContourWarp.fit(a, b)
    np.testing.assert_allclose(
        warp.forward(np.array([[80.0, 60.0], [30.0, 100.0]])), [[86, 57], [36, 97]], atol=0.05
    )
    image = np.random.default_rng(0).integers(0, 255, (120, 160)).astype(np.uint8)
    moved = np.roll(image, (-3, 6), axis=(0, 1))  # the content shifted by (+6, -3)
    back = warp.pull(moved, (40, 30, 120, 90))
    assert np.abs(back - image[30:90, 40:120]).max() <= 1.0


def test_correspondences_match_contours_with_different_point_counts():
    t8, t13 = (np.linspace(0, 2 * np.pi, n, endpoint=False) for n in (8, 13))
    a = Contour(np.stack([50 + 20 * np.cos(t8), 50 + 20 * np.sin(t8)], axis=1))
    b = Contour(np.stack([55 + 20 * np.cos(-t13), 50 + 20 * np.sin(-t13)], axis=1))  # other way round
    pa, pb = correspondences(a, b, 64)
    assert pa.shape == pb.shape == (64, 2)
    np.testing.assert_allclose(pb - pa, np.tile([5.0, 0.0], (64, 1)), atol=2.5)


def test_warped_loop_keeps_the_tumor_steady_and_leaves_the_rest_alone(tracked_loop):
    gray, mask, frames, track = tracked_loop
    synth = physics_synth(DARK)
    steps = []
    loops = {
        mode: synthesize_loop(frames.__getitem__, track, 0, synth, seed=4, mode=mode, progress=lambda f, m: steps.append(f))
        for mode in ("warped", "per-frame", "independent")
    }  # fmt: skip
    warped = loops["warped"]
    # the anchor frame is exactly the single-frame synthesis with that seed
    np.testing.assert_array_equal(
        warped.pixels[0], physics_only(frames[0], warped.masks[0], DARK, seed=4).pixels[0]
    )
    assert warped.masks.shape == frames.shape and all(warped.masks[k].any() for k in range(len(frames)))
    assert warped.record["frames_synthesized"] == list(range(len(frames))) and steps[-1] == 1.0
    # far from the lesion's window every frame keeps its own pixels, bit for bit
    np.testing.assert_array_equal(warped.pixels[:, :, 170:], frames[:, :, 170:])
    # consistency measured with the loop's true motion, inside the base frame's lesion
    change = {}
    for mode, loop in loops.items():
        pulled = [
            cv2.remap(loop.pixels[k].astype(np.float32), *pull_to_base(k, gray.shape, MOTION, SEED), cv2.INTER_LINEAR)
            for k in range(len(frames))
        ]  # fmt: skip
        change[mode] = interior_change(pulled, mask).mean()
    assert change["warped"] < 0.6 * change["independent"]
    assert change["warped"] < change["per-frame"]


def test_frames_without_a_contour_are_left_as_they_are(tracked_loop):
    _, _, frames, track = tracked_loop
    partial = Track(track.n_frames)
    for k in (0, 1, 2):
        partial.entries[k] = track.entries[k]
    loop = synthesize_loop(frames.__getitem__, partial, 1, physics_synth(DARK), seed=0)
    np.testing.assert_array_equal(loop.pixels[3:], frames[3:])
    assert not loop.masks[3:].any() and loop.record["frames_synthesized"] == [0, 1, 2]
    assert not np.array_equal(loop.pixels[1], frames[1])


def test_bad_requests_are_input_errors(tracked_loop):
    _, _, frames, track = tracked_loop
    with pytest.raises(InputError, match="mode"):
        synthesize_loop(frames.__getitem__, track, 0, physics_synth(DARK), mode="sideways")
    with pytest.raises(InputError, match="frame 9 has no contour"):
        synthesize_loop(frames.__getitem__, track, 9, physics_synth(DARK))
    with pytest.raises(InputError, match="too small"):
        interior_change([frames[0], frames[1]], np.eye(160, 200, dtype=bool))


def test_synthesize_all_frames_writes_one_study_per_frame(tmp_path, capsys):
    from engine.cli.main import main
    from engine.dicom import open_study
    from engine.dicom.writer import write_synthetic_study
    from engine.settings import sample_study_path

    sample = open_study(sample_study_path())
    gray = sample.frame(0).gray
    yy, xx = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    lesion = ((xx - 300) / 40) ** 2 + ((yy - 200) / 28) ** 2 <= 1
    frames, _ = make_loop(gray, lesion, 3, Motion(shift_px=4, period=4), seed=0)
    cine = write_synthetic_study(
        sample, list(frames), np.repeat(lesion[None], 3, axis=0),
        {"text": "", "qualitative_evaluations": [], "measurements": []}, {"model": "test loop"}, tmp_path / "cine",
    ).image  # fmt: skip
    mask_png = tmp_path / "mask.png"
    cv2.imwrite(str(mask_png), lesion.astype(np.uint8) * 255)
    out = tmp_path / "out"
    code = main(["synthesize", "--input", str(cine), "--all-frames", "--frame", "1", "--mask", str(mask_png),
                 "--method", "physics", "--text", "oval hyperechoic mass", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "record.json").read_text())
    assert record["frames"] == 3 and record["anchor_frame"] == 1 and record["mode"] == "warped"
    assert record["propagation"]["methods"] == ["dis-flow", "manual"]
    assert record["consistency"]["synthetic"] < record["consistency"]["original"]
    for k in range(3):
        image = open_study(out / f"synthetic_frame{k:03d}_image.dcm")
        assert image.n_frames == 1 and image.dataset.SyntheticData == "YES"
        assert (out / f"synthetic_frame{k:03d}_seg.dcm").is_file() and (
            out / f"synthetic_frame{k:03d}_sr.dcm"
        ).is_file()
    assert (out / "strip.png").is_file() and json.loads((out / "track.json").read_text())["n_frames"] == 3
    assert "3-frame synthetic loop" in capsys.readouterr().out


def test_all_frames_on_a_single_frame_study_is_one_clear_error(tmp_path, capsys):
    from engine.cli.main import main

    code = main(
        ["synthesize", "--all-frames", "--method", "physics", "--text", "oval mass", "--out", str(tmp_path)]
    )
    assert code != 0
    assert "needs a multi-frame study" in capsys.readouterr().err
