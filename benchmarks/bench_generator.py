"""Tumor generator speed on CPU (2 threads and 1): latency per lesion and peak memory.

Modes: full (20 steps, guidance 3, from noise: 20 guided denoiser calls), default (20 steps,
strength 0.6 from the physics draft: 12 calls), preview (10 steps, strength 0.6: 6 calls).
Targets: <= 3 s per lesion at 20 steps with guidance, <= 1 s in preview. Baseline measured in the
same run: the physics draft alone (no model). Uses the default model folder when it exists, else a
freshly initialised model of the same architecture (speed does not depend on the weights).
"""

from __future__ import annotations

import os
import resource
import statistics
import time

import numpy as np


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import torch

    from engine.dicom import open_study
    from engine.generator.pipeline import CONFIG_NAME, BusTumorPipeline, physics_only
    from engine.generator.unet import DenoiserConfig, GeneratorModel
    from engine.language import LesionDescription
    from engine.settings import get_settings, sample_study_path

    torch.set_num_threads(2)
    frame = open_study(sample_study_path()).frame(0).gray
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    mask = ((yy - 190) / 45) ** 2 + ((xx - 320) / 70) ** 2 <= 1  # 14 x 9 mm at 0.1 mm/px
    desc = LesionDescription(shape="irregular", echo_pattern="hypoechoic", posterior_features="shadowing")
    rss_before = _peak_rss_mb()
    model_dir = get_settings().model_dir
    if (model_dir / CONFIG_NAME).is_file():
        pipe, source = BusTumorPipeline.from_pretrained(model_dir), f"model {model_dir}"
    else:
        torch.manual_seed(0)
        pipe, source = (
            BusTumorPipeline(GeneratorModel(DenoiserConfig())),
            "untrained model, default architecture",
        )
    pipe.text_encoder.encode(["warm up"])
    params = sum(p.numel() for p in pipe.model.denoiser.parameters())
    print(f"{source}; denoiser {params / 1e6:.2f} M parameters; torch threads {torch.get_num_threads()}")
    print(f"load average at start (other processes share these cores): {os.getloadavg()[0]:.1f}")
    physics = _time(lambda i: physics_only(frame, mask, desc, seed=i), 5)
    pipe(frame, mask, desc, seed=0, steps=4)  # warm-up
    modes = {
        "full (20 steps, CFG 3, strength 1.0)": dict(steps=20, guidance=3.0, strength=1.0),
        "default (20 steps, CFG 3, strength 0.6)": dict(steps=20, guidance=3.0, strength=0.6),
        "preview (10 steps, CFG 3, strength 0.6)": dict(steps=10, guidance=3.0, strength=0.6),
    }
    print(f"physics draft (baseline)                {physics * 1000:8.1f} ms per lesion")
    # Both thread counts: on a machine whose cores other processes also use, two OpenMP threads
    # wait for each other and one thread is faster (measured here: several times).
    for threads in (2, 1):
        torch.set_num_threads(threads)
        for name, kw in modes.items():
            t = _time(lambda i, kw=kw: pipe(frame, mask, desc, seed=i, **kw), 3)
            target = 1.0 if name.startswith("preview") else 3.0
            print(
                f"{name:39s} {threads} thr {t * 1000:8.1f} ms per lesion  {t / physics:6.1f}x baseline  "
                f"{t / target:5.2f}x the {target:.0f} s target"
            )
    torch.set_num_threads(2)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(
        f"peak memory (process RSS)               {_peak_rss_mb():8.0f} MB ({_peak_rss_mb() - rss_before:.0f} MB above the start)"
    )


if __name__ == "__main__":
    main()
