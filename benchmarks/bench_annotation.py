"""Assisted annotation figures (issue 13).

1. Click-to-segment Dice against the radiologists' masks on the BrEaST and BUSI test splits saved
   with the segmenter (patients never seen in training): one click at the mask's centroid, and the
   mask's bounding box; the classical fallback (morphological Chan-Vese) is the baseline beside it.
   Time per click on this machine (torch threads 2), and the ONNX graph's time through onnxruntime.
2. Clicks saved on 50 test lesions: point edits a simulated user needs to reach Dice 0.9, from the
   box segmentation, against placing the points by hand (engine.annotation.click_simulation): the
   fewer of the contour fit's vertices and evenly spread clicks; and evenly spread clicks joined by
   livewire paths.
3. Propagation on synthetic cine loops made from real BrEaST test frames (engine.annotation.
   cine_sim: probe motion, compression, elastic wobble, speckle decorrelation): mean boundary
   distance in mm after 10 and 30 frames; the baseline is the first frame's contour left in place.
4. The real multi-frame DICOM files: time per frame (decode and flow) and stability: mean control
   point motion between consecutive frames, and drift after going to the last frame and back.
5. One tumor through a loop (engine.annotation.cine_synthesis), on the synthetic loops of 3: the
   mean |difference| between consecutive frames inside the lesion, after pulling every frame back
   into the base frame's geometry with the loop's true motion; warped mode, per-frame (same seed,
   propagated mask), independent seeds, and the loop's own tissue there; physics draft and the
   default diffusion model. On the real DICOM loops: a tumor placed on frame 0 and carried through,
   time per frame and the same interior change measured through the track's own warps.

    nice -n 10 .venv/bin/python -m benchmarks.bench_annotation [--limit N] [--loops N] [--sections ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

LOOP_TEXT = "irregular hypoechoic mass with angular margin and posterior shadowing"


def _test_lesions(root, config, limit):
    from engine.annotation.training import lesion_components
    from engine.datasets import load_breast, load_busi
    from engine.datasets.images import read_case_mask, read_gray

    out = {}
    for name, loader, folder in (
        ("breast", load_breast, "bus/BrEaST-Lesions_USG"),
        ("busi", load_busi, "bus/BUSI"),
    ):
        test_ids = set(config["split"][name]["test"])
        cases = [c for c in loader(root / folder).lesion_cases() if c.case_id in test_ids][:limit]
        items = []
        for c in cases:
            gray = read_gray(c.image_path)
            for part in lesion_components(read_case_mask(c.mask_paths, gray.shape)):
                items.append((c, gray, part))
        out[name] = items
    return out


def _prompts(part):
    from engine.annotation.training import mask_box

    ys, xs = np.nonzero(part)
    return {"click": {"click": (float(xs.mean()), float(ys.mean()))}, "box": {"box": mask_box(part)}}


def segmentation_figures(lesions, segmenter):
    from engine.annotation.click_segment import segment
    from engine.errors import InputError
    from engine.evaluation.metrics import dice

    print("click-to-segment Dice (mean / median), ms per prompt; test splits only")
    for name, items in lesions.items():
        for prompt in ("click", "box"):
            row = {}
            for label, model in (("segmenter", segmenter), ("chan-vese", None)):
                scores, times = [], []
                for _, gray, part in items:
                    try:
                        r = segment(gray, segmenter=model, **_prompts(part)[prompt])
                        scores.append(dice(r.contour.raster(gray.shape), part))
                        times.append(r.seconds)
                    except InputError:
                        scores.append(0.0)
                row[label] = (
                    np.mean(scores),
                    np.median(scores),
                    1000 * np.mean(times),
                    np.mean(np.array(scores) >= 0.8),
                )
            s, c = row["segmenter"], row["chan-vese"]
            print(
                f"  {name:6s} {prompt:5s} n={len(items):3d}  segmenter {s[0]:.3f} / {s[1]:.3f} ({s[2]:.0f} ms, "
                f"{s[3]:.0%} >= 0.80)   chan-vese {c[0]:.3f} / {c[1]:.3f} ({c[2]:.0f} ms, {c[3]:.0%} >= 0.80)   "
                f"ratio {s[0] / max(c[0], 1e-9):.2f}x"
            )


def onnx_figures(segmenter, tmp):
    import onnxruntime as ort

    from engine.annotation.segmenter import export_onnx

    path = export_onnx(segmenter, tmp / "segmenter.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = segmenter.threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = (
        np.random.default_rng(0)
        .standard_normal((1, 2, segmenter.window_px, segmenter.window_px))
        .astype(np.float32)
    )
    ref = segmenter.logits(x)
    got = sess.run(None, {"window": x})[0][:, 0]
    times = {}
    for label, fn in (
        ("torch", lambda: segmenter.logits(x)),
        ("onnxruntime", lambda: sess.run(None, {"window": x})),
    ):
        fn()
        t0 = time.perf_counter()
        for _ in range(20):
            fn()
        times[label] = (time.perf_counter() - t0) / 20 * 1000
    print(
        f"one window ({segmenter.window_px} px): torch {times['torch']:.1f} ms, onnxruntime {times['onnxruntime']:.1f} ms "
        f"({times['torch'] / times['onnxruntime']:.2f}x), max |logit difference| {np.abs(ref - got).max():.2e}, "
        f"threads {segmenter.threads}, ONNX file {path.stat().st_size / 1e6:.2f} MB"
    )


def clicks_saved(lesions, segmenter, n=50):
    from engine.annotation.click_segment import segment
    from engine.annotation.click_simulation import clicks_to_reach, edits_to_reach, plain_points
    from engine.errors import InputError

    half = n // 2
    items = lesions["breast"][:half] + lesions["busi"][: n - half]
    plain, assisted_box, assisted_click, wired = [], [], [], []
    t0 = time.perf_counter()
    for _, gray, part in items:
        wired.append(clicks_to_reach(part, gray))
    wire_s = (time.perf_counter() - t0) / len(items)
    for _, gray, part in items:
        plain.append(plain_points(part))
        for prompt, actions, out in (("box", 1, assisted_box), ("click", 1, assisted_click)):
            try:
                r = segment(gray, segmenter=segmenter, **_prompts(part)[prompt])
                out.append(actions + edits_to_reach(r.contour, part))
            except InputError:
                out.append(actions + plain_points(part))  # nothing found: the user outlines by hand
    plain, box, click, wire = (np.array(v, float) for v in (plain, assisted_box, assisted_click, wired))
    # a user who sees a poor result deletes it (one key) and outlines by hand instead
    box_or_redraw, click_or_redraw = (np.minimum(v, 1 + 1 + plain) for v in (box, click))
    print(
        f"clicks to reach Dice 0.9 on {len(items)} test lesions (mean / median): plain {plain.mean():.1f} / "
        f"{np.median(plain):.0f} points placed (the fewer of the fit's vertices and even clicks)\n"
        f"  assisted box {box.mean():.1f} / {np.median(box):.0f} (1 drag + point edits; {np.mean(box <= 1):.0%} "
        f"need no edit), {box_or_redraw.mean():.1f} / {np.median(box_or_redraw):.0f} redrawing a poor one by "
        f"hand: {plain.mean() / box_or_redraw.mean():.2f}x fewer than plain\n"
        f"  assisted click {click.mean():.1f} / {np.median(click):.0f}, {click_or_redraw.mean():.1f} / "
        f"{np.median(click_or_redraw):.0f} redrawing: {plain.mean() / click_or_redraw.mean():.2f}x\n"
        f"  livewire between even clicks {wire.mean():.1f} / {np.median(wire):.0f} "
        f"({plain.mean() / wire.mean():.2f}x; simulation {wire_s:.1f} s per lesion)"
    )


def propagation_figures(lesions, loops, frames=31):
    from engine.annotation.cine_sim import Motion, make_loop, mean_boundary_distance
    from engine.annotation.propagate import Track, propagate
    from engine.contour.fit import fit_contour

    items = [it for it in lesions["breast"] if it[0].mm_per_pixel][:loops]
    rows = {"flow": [], "flow+snap2px": [], "static": []}
    per_frame = []
    for k, (case, gray, part) in enumerate(items):
        video, truth = make_loop(gray, part, frames, Motion(), seed=k)
        start = fit_contour(truth[0]).contour
        mm = case.mm_per_pixel
        for label, snap in (("flow", 0.0), ("flow+snap2px", 2.0)):
            track = Track(frames)
            track.set_manual(0, start)
            t0 = time.perf_counter()
            propagate(track, video.__getitem__, 0, 1, snap_px=snap)
            if label == "flow":
                per_frame.append((time.perf_counter() - t0) / (frames - 1))
            rows[label].append(
                [
                    mean_boundary_distance(track.entries[f].contour.raster(gray.shape), truth[f]) * mm
                    for f in (10, 30)
                ]
            )
        rows["static"].append(
            [mean_boundary_distance(start.raster(gray.shape), truth[f]) * mm for f in (10, 30)]
        )
    print(
        f"propagation on {len(items)} synthetic loops of {frames} frames from BrEaST test frames (mean boundary distance, mm; mean / max):"
    )
    for label, values in rows.items():
        v = np.array(values)
        print(
            f"  {label:13s} frame 10: {v[:, 0].mean():.3f} / {v[:, 0].max():.3f}   frame 30: {v[:, 1].mean():.3f} / {v[:, 1].max():.3f}"
        )
    f, s = np.array(rows["flow"]), np.array(rows["static"])
    print(
        f"  flow vs static at frame 30: {s[:, 1].mean() / f[:, 1].mean():.1f}x smaller; {np.mean(per_frame) * 1000:.1f} ms per frame"
    )


def dicom_figures(root):
    from engine.annotation.propagate import Track, propagate
    from engine.contour.spline import Contour
    from engine.dicom import open_study

    print("real multi-frame DICOM (a 16-point circle of radius 0.1 x the shorter side at the image centre):")
    for path in sorted((root / "dicom").glob("*.dcm")):
        study = open_study(path)
        if study.n_frames < 3:
            continue
        t0 = time.perf_counter()
        frames = [study.frame(i).gray for i in range(study.n_frames)]
        decode = (time.perf_counter() - t0) / study.n_frames
        h, w = frames[0].shape
        t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        r = 0.1 * min(h, w)
        start = Contour(np.stack([w / 2 + r * np.cos(t), h / 2 + r * np.sin(t)], axis=1))
        track = Track(study.n_frames)
        track.set_manual(0, start)
        t0 = time.perf_counter()
        propagate(track, frames.__getitem__, 0, 1)
        flow = (time.perf_counter() - t0) / (study.n_frames - 1)
        pts = [track.entries[i].contour.points for i in range(study.n_frames)]
        step = np.mean([np.linalg.norm(b - a, axis=1).mean() for a, b in zip(pts, pts[1:], strict=False)])
        back = Track(study.n_frames)
        back.set_manual(study.n_frames - 1, track.entries[study.n_frames - 1].contour)
        propagate(back, frames.__getitem__, study.n_frames - 1, -1)
        drift = np.linalg.norm(back.entries[0].contour.points - start.points, axis=1).mean()
        s = study.frame(0).calibration.at(w / 2, h / 2) if study.frame(0).calibration is not None else None
        scale = (s.mm_per_pixel_x + s.mm_per_pixel_y) / 2 if s is not None else None
        mm = f" ({step * scale:.3f} mm, drift {drift * scale:.2f} mm)" if scale else ""
        print(
            f"  {path.name:52s} {study.n_frames:3d} frames {w}x{h}: decode {decode * 1000:.1f} ms + flow {flow * 1000:.1f} ms "
            f"per frame; frame-to-frame motion {step:.2f} px, drift there and back {drift:.2f} px{mm}"
        )


def _pulled_interior_change(pixels, shape, motion, seed, mask):
    import cv2

    from engine.annotation.cine_sim import pull_to_base
    from engine.annotation.cine_synthesis import interior_change

    pulled = [
        cv2.remap(p.astype(np.float32), *pull_to_base(k, shape, motion, seed), cv2.INTER_LINEAR)
        for k, p in enumerate(pixels)
    ]
    return float(interior_change(pulled, mask).mean())


def cine_synthesis_figures(lesions, loops, diffusion_loops, frames=11, text=LOOP_TEXT):
    from engine.annotation.cine_sim import Motion, make_loop
    from engine.annotation.cine_synthesis import diffusion_synth, physics_synth, synthesize_loop
    from engine.annotation.propagate import Track, propagate
    from engine.backends import load_pipeline
    from engine.contour.fit import fit_contour
    from engine.language.parser import parse_text
    from engine.settings import get_settings

    description = parse_text(text).description
    items = [it for it in lesions["breast"] if it[0].mm_per_pixel][:loops]
    pipe = load_pipeline(get_settings().model_dir, "torch-cpu", threads=1) if diffusion_loops else None
    modes = ("warped", "per-frame", "independent")
    rows: dict = {}
    for k, (_, gray, part) in enumerate(items):
        video, truth = make_loop(gray, part, frames, Motion(), seed=k)
        track = Track(frames)
        track.set_manual(0, fit_contour(truth[0]).contour)
        propagate(track, video.__getitem__, 0, 1)
        rows.setdefault(("loop", "tissue"), []).append(
            (_pulled_interior_change(video, gray.shape, Motion(), k, part), 0.0)
        )
        synths = [("physics", physics_synth(description))]
        if k < diffusion_loops:
            synths.append(("diffusion", diffusion_synth(pipe, description, text)))
        for method, synth in synths:
            for mode in modes if method == "physics" else ("warped", "independent"):
                loop = synthesize_loop(video.__getitem__, track, 0, synth, seed=7, mode=mode)
                change = _pulled_interior_change(loop.pixels, gray.shape, Motion(), k, part)
                rows.setdefault((method, mode), []).append((change, loop.record["seconds_per_frame"]))
    print(
        f"one tumor through {len(items)} synthetic loops of {frames} frames from BrEaST test frames "
        f"({text!r}); mean |difference| between consecutive frames inside the lesion (grey levels, "
        "pulled back with the true motion), mean / max, and seconds per frame:"
    )
    for (method, mode), values in rows.items():
        v = np.array(values)
        timing = f"   {v[:, 1].mean():.2f} s per frame" if method != "loop" else ""
        print(f"  {method:9s} {mode:11s} n={len(v):2d}  {v[:, 0].mean():6.2f} / {v[:, 0].max():6.2f}{timing}")


def dicom_synthesis_figures(root, text=LOOP_TEXT + ", 10 mm"):
    from engine.annotation.cine_job import track_consistency
    from engine.annotation.cine_synthesis import physics_synth, synthesize_loop
    from engine.annotation.propagate import Track, propagate
    from engine.contour.fit import fit_contour
    from engine.dicom import open_study
    from engine.errors import InputError
    from engine.generator.job import mm_per_pixel_of, place_mask
    from engine.language.parser import parse_text
    from engine.masks.generator import generate_mask

    description = parse_text(text).description
    print(
        f"one tumor through the real multi-frame DICOM loops ({text!r} placed on frame 0, physics draft, warped):"
    )
    for path in sorted((root / "dicom").glob("*.dcm")):
        study = open_study(path)
        if study.n_frames < 3:
            continue
        frames = np.stack([study.frame(i).gray for i in range(study.n_frames)])
        first = study.frame(0)
        mm, where = mm_per_pixel_of(first.calibration)[0], "placed"
        try:
            gm, _ = place_mask(description, 0, mm, frames[0], first.calibration)
        except InputError:  # no room in the lit tissue (cardiac and obstetric loops): the centre
            h, w = frames[0].shape
            gm, where = generate_mask(description, 0, mm, (h, w), (w / 2, h / 2)), "centre"
        track = Track(study.n_frames)
        track.set_manual(0, fit_contour(gm.mask).contour)
        propagate(track, frames.__getitem__, 0, 1)
        loop = synthesize_loop(frames.__getitem__, track, 0, physics_synth(gm.description), seed=7)
        c = track_consistency(frames, loop.pixels, track, 0)
        print(
            f"  {path.name:52s} {study.n_frames:3d} frames, lesion {int(gm.mask.sum()):5d} px ({where}): "
            f"{loop.record['seconds_per_frame'] * 1000:.0f} ms per frame; interior change {c['synthetic']:.2f} "
            f"(the loop's own tissue there {c['original']:.2f})"
        )


def main(argv=None) -> None:
    import tempfile
    import warnings
    from pathlib import Path

    import torch

    from engine.annotation.segmenter import load_segmenter
    from engine.settings import get_settings

    warnings.filterwarnings("ignore", module="pydicom")
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=None, help="test images per dataset (default all)")
    p.add_argument("--loops", type=int, default=10)
    p.add_argument(
        "--diffusion-loops", type=int, default=3, help="loops also synthesized with the default model"
    )
    p.add_argument("--model", type=Path, help="segmenter folder (default: the installed one)")
    p.add_argument(
        "--sections",
        default="segment,onnx,clicks,propagate,dicom,cine-synthesis,dicom-synthesis",
        help="comma-separated sections to run",
    )
    a = p.parse_args(argv if argv is not None else [])
    torch.set_num_threads(2)  # the machine's cores; the segmenter itself runs one thread per window
    run = set(a.sections.split(","))
    root = get_settings().data_root
    segmenter = load_segmenter(a.model)
    lesions = _test_lesions(root, segmenter.config, a.limit)
    if "segment" in run:
        segmentation_figures(lesions, segmenter)
    if "onnx" in run:
        with tempfile.TemporaryDirectory() as tmp:
            onnx_figures(segmenter, Path(tmp))
    if "clicks" in run:
        clicks_saved(lesions, segmenter)
    if "propagate" in run:
        propagation_figures(lesions, a.loops)
    if "dicom" in run:
        dicom_figures(root)
    if "cine-synthesis" in run:
        cine_synthesis_figures(lesions, a.loops, a.diffusion_loops)
    if "dicom-synthesis" in run:
        dicom_synthesis_figures(root)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
