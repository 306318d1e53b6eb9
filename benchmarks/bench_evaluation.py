"""Downstream evaluation cost, and the reduced protocol's projected time against its target.

Target (issue 9): the reduced protocol (`bus-engine evaluate --protocol reduced --train busi --test
breast --seeds 3`: 200 synthetic images from the diffusion generator) finishes in 30 minutes on 2
CPU cores, synthesis included. Measured here on real BUSI images (the data root): one epoch of the
UNet and of the CNN at the reduced settings, the synthesis of one image by the default diffusion
model (and by the physics draft), and the bootstrap of one table cell; the projection multiplies
them by the protocol's counts. Baseline in the same run: reading and resizing the same images once
(the data pass every epoch sits on top of).

Everything is timed in process CPU seconds: on a machine shared with other jobs the wall time of a
short measurement swings with their load, its CPU time much less. The projection is therefore in
CPU minutes (the wall time on one free core at one thread); the wall time at the share of a core
this process got is printed beside it. The end-to-end run itself is measured in the README.
"""

from __future__ import annotations

import time

import numpy as np

N_IMAGES = 64
SYNTHESIZED = 6  # images timed per generator (after one that pays the model's loading)
TARGET_MIN = 30.0
TIMED = {"wall": 0.0, "cpu": 0.0}  # everything timed: this process's share of a core


def _cpu(fn, *args):
    """(result, CPU seconds of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    cpu = time.process_time() - c0
    TIMED["wall"] += time.perf_counter() - t0
    TIMED["cpu"] += cpu
    return out, cpu


def main() -> None:
    import torch

    from engine.datasets import load_breast, load_busi
    from engine.evaluation import metrics
    from engine.evaluation.arrays import load_cases
    from engine.evaluation.protocol import EvaluationConfig
    from engine.evaluation.runner import _limited
    from engine.evaluation.splits import group_split
    from engine.evaluation.synthetic import build_synthetic_set
    from engine.evaluation.training import train_classifier, train_segmentation
    from engine.settings import get_settings

    root = get_settings().data_root / "bus"
    cfg = EvaluationConfig.for_protocol("reduced", train="busi", test=["breast"], out=".")
    one_epoch = cfg.train_config.__class__(**{**cfg.train_config.to_dict(), "epochs": 1})
    three_epochs = cfg.train_config.__class__(**{**cfg.train_config.to_dict(), "epochs": 3})
    busi = load_busi(root / "BUSI")
    lesions = busi.lesion_cases()
    train_cases, heldout = group_split(lesions, cfg.test_fraction, cfg.split_seed)
    n_breast = len(load_breast(root / "BrEaST-Lesions_USG").lesion_cases())
    sample = [lesions[i] for i in np.random.default_rng(0).choice(len(lesions), N_IMAGES, replace=False)]
    print(f"torch threads {torch.get_num_threads()}, {N_IMAGES} BUSI images at {cfg.size} px (CPU seconds)")

    data, c_read = _cpu(load_cases, "busi", sample, cfg.size)
    # steady-state epoch: (3 epochs - 1 epoch) / 2 after a discarded warm-up run (the first call pays
    # torch's one-off kernel set-up, about 2 CPU-s, which would otherwise count as epochs)
    train_segmentation(data, one_epoch, 0)
    train_classifier(data, one_epoch, 0)
    c_seg = (
        _cpu(train_segmentation, data, three_epochs, 0)[1] - _cpu(train_segmentation, data, one_epoch, 0)[1]
    ) / 2
    c_cls = (
        _cpu(train_classifier, data, three_epochs, 0)[1] - _cpu(train_classifier, data, one_epoch, 0)[1]
    ) / 2
    per_image_epoch = (c_seg + c_cls) / N_IMAGES
    print(f"baseline: read+resize {c_read / N_IMAGES * 1e3:.1f} ms/image")
    print(
        f"UNet epoch {c_seg / N_IMAGES * 1e3:.1f} ms/image ({c_seg / c_read:.1f}x the data pass), "
        f"CNN epoch {c_cls / N_IMAGES * 1e3:.1f} ms/image ({c_cls / c_read:.1f}x)"
    )

    # the run's own canvases, in its order, so the timed images are the protocol's first ones
    normal = _limited([c for c in busi.cases if not c.has_lesion], None)
    per_image = {}
    for method in ("physics", "diffusion"):
        # (1 + k images) - (1 image): the per-image cost without loading the model
        one = _cpu(build_synthetic_set, normal, 1, 0, method, None, cfg.canvas_px)[1]
        more = _cpu(build_synthetic_set, normal, 1 + SYNTHESIZED, 0, method, None, cfg.canvas_px)[1]
        per_image[method] = (more - one) / SYNTHESIZED
        print(
            f"{method} synthesis {per_image[method]:.2f} s/image "
            f"({per_image[method] / (c_read / N_IMAGES):.0f}x reading one image; loading {one:.1f} s)"
        )
    c_syn = per_image[cfg.generator]
    synthetic = cfg.synthetic

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, len(heldout))
    per_seed = [(labels, rng.random(len(heldout))) for _ in range(3)]
    _, c_boot = _cpu(
        metrics.bootstrap, per_seed, len(heldout), metrics.classification_statistic("auc"), cfg.bootstrap
    )
    cells = 3 * 2 * 4 + 2 * 4  # arms x test sets x classification metrics, plus the paired comparisons
    n_train = len(train_cases)
    epochs = cfg.train_config.epochs
    train_images = n_train + (n_train + synthetic) + synthetic  # arms (a), (b), (c)
    projected = (
        cfg.seeds * epochs * train_images * per_image_epoch
        + synthetic * c_syn
        + (n_train + len(heldout) + n_breast) * c_read / N_IMAGES
        + cells * c_boot
    )
    share = TIMED["cpu"] / TIMED["wall"]  # 1.0: a free core
    print(
        f"bootstrap of one AUC cell ({cfg.bootstrap} resamples, 3 seeds, {len(heldout)} images): {c_boot:.2f} s"
    )
    print(
        f"projected reduced protocol (BUSI {n_train} train / {len(heldout)} held out, BrEaST {n_breast}, "
        f"{synthetic} {cfg.generator} synthetic, {cfg.seeds} seeds, {epochs} epochs): {projected / 60:.1f} "
        f"CPU-min = {projected / 60 / TARGET_MIN:.2f} x the {TARGET_MIN:.0f}-minute target on one free core "
        f"({'met' if projected / 60 <= TARGET_MIN else 'NOT met'}; testing and start-up not included)"
    )
    print(
        f"this process got {share:.2f} of a core; at that share the projection is "
        f"{projected / share / 60:.1f} min wall = {projected / share / 60 / TARGET_MIN:.2f} x the target"
    )


if __name__ == "__main__":
    main()
