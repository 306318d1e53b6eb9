"""Downstream evaluation cost, and the reduced protocol's projected wall time against its target.

Target (issue 9): the reduced protocol (`bus-engine evaluate --protocol reduced --train busi --test
breast --synthetic 200 --generator physics --seeds 3`) finishes in 30 minutes on 2 CPU cores.
Measured here on real BUSI images (the data root): one epoch of the UNet and of the CNN at the
reduced settings, the physics synthesis of one image, and the bootstrap of one table cell; the
projection multiplies them by the protocol's counts. Baseline in the same run: reading and resizing
the same images once (the data pass every epoch sits on top of).
"""

from __future__ import annotations

import time

import numpy as np

N_IMAGES = 64
SYNTHETIC = 200
TARGET_MIN = 30.0


CPU = {"seconds": 0.0}  # process CPU time of everything timed, to tell a busy machine from a slow one


def _timed(fn, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    CPU["seconds"] += time.process_time() - c0
    return out, time.perf_counter() - t0


def main() -> None:
    import torch

    from engine.datasets import load_breast, load_busi
    from engine.evaluation import metrics
    from engine.evaluation.arrays import load_cases
    from engine.evaluation.protocol import EvaluationConfig
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
    print(f"torch threads {torch.get_num_threads()}, {N_IMAGES} BUSI images at {cfg.size} px")

    wall0 = time.perf_counter()
    data, t_read = _timed(load_cases, "busi", sample, cfg.size)
    # steady-state epoch: (3 epochs - 1 epoch) / 2, so the one-off start-up cost is not multiplied
    t_seg = (
        _timed(train_segmentation, data, three_epochs, 0)[1]
        - _timed(train_segmentation, data, one_epoch, 0)[1]
    ) / 2
    t_cls = (
        _timed(train_classifier, data, three_epochs, 0)[1] - _timed(train_classifier, data, one_epoch, 0)[1]
    ) / 2
    per_image_epoch = (t_seg + t_cls) / N_IMAGES
    print(f"baseline: read+resize {t_read / N_IMAGES * 1e3:.1f} ms/image")
    print(
        f"UNet epoch {t_seg / N_IMAGES * 1e3:.1f} ms/image ({t_seg / t_read:.1f}x the data pass), "
        f"CNN epoch {t_cls / N_IMAGES * 1e3:.1f} ms/image ({t_cls / t_read:.1f}x)"
    )

    normal = [c for c in busi.cases if not c.has_lesion][:4]
    _, t_syn = _timed(build_synthetic_set, normal, 4, 0, "physics", None, cfg.canvas_px)
    t_syn /= 4
    print(
        f"physics synthesis {t_syn * 1e3:.0f} ms/image ({t_syn / (t_read / N_IMAGES):.1f}x reading one image)"
    )

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, len(heldout))
    per_seed = [(labels, rng.random(len(heldout))) for _ in range(3)]
    _, t_boot = _timed(
        metrics.bootstrap, per_seed, len(heldout), metrics.classification_statistic("auc"), cfg.bootstrap
    )
    cells = 3 * 2 * 7 + 2 * 7  # arms x test sets x metrics, plus the paired comparisons
    n_train = len(train_cases)
    epochs = cfg.train_config.epochs
    train_images = n_train + (n_train + SYNTHETIC) + SYNTHETIC  # arms (a), (b), (c)
    projected = (
        cfg.seeds * epochs * train_images * per_image_epoch
        + SYNTHETIC * t_syn
        + (n_train + len(heldout) + n_breast) * t_read / N_IMAGES
        + cells * t_boot
    )
    wall = time.perf_counter() - wall0
    share = CPU["seconds"] / wall / torch.get_num_threads()
    print(
        f"bootstrap of one AUC cell ({cfg.bootstrap} resamples, 3 seeds, {len(heldout)} images): {t_boot:.2f} s"
    )
    print(
        f"projected reduced protocol (BUSI {n_train} train / {len(heldout)} held out, BrEaST {n_breast}, "
        f"{SYNTHETIC} synthetic, {cfg.seeds} seeds, {epochs} epochs): {projected / 60:.1f} min = "
        f"{projected / 60 / TARGET_MIN:.2f} x the {TARGET_MIN:.0f}-minute target "
        f"({'met' if projected / 60 <= TARGET_MIN else 'NOT met'}; testing time not included)"
    )
    # On a shared machine the process gets only part of its threads' cores; scaled by that share,
    # the projection estimates a machine free for this job (an estimate, not a measurement).
    print(
        f"this process got {share:.2f} of its {torch.get_num_threads()} thread(s)' cores "
        f"(CPU {CPU['seconds']:.1f} s over {wall:.1f} s wall); at a full share: {projected * share / 60:.1f} min "
        f"= {projected * share / 60 / TARGET_MIN:.2f} x the target"
    )


if __name__ == "__main__":
    main()
