"""`bus-engine augment` throughput: synthetic lesions per second with 1 and 2 worker processes on CPU,
for the physics draft and the default diffusion model; the 2-worker figure as a ratio of the 1-worker
one measured in the same run. Source frames: the first BUSI images under the data root (reduced to
400 px), else generated speckle frames. On a machine with GPUs, BENCH_AUGMENT_GPUS=0,1 runs the
diffusion rows with one worker per GPU.

Two rates per row: overall (lesions / wall time, worker start-up and model loading included) and
steady (per worker, between its first and its last finished lesion, summed over workers: start-up excluded).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

PHYSICS = {"images": 8, "k": 4}
DIFFUSION = {"images": 4, "k": 3, "steps": 10}


class _Clock:
    """A progress sink that remembers when each lesion finished."""

    def __init__(self):
        self.total = self.done = self.already = 0
        self.times: dict[int, list[float]] = {}

    def advance(self, n: int = 1, worker: int = 0) -> None:
        self.times.setdefault(worker, []).append(time.perf_counter())

    def steady(self) -> float:
        """Lesions per second after each worker's first lesion (start-up and model loading excluded)."""
        rates = [(len(t) - 1) / (t[-1] - t[0]) for t in self.times.values() if len(t) > 1 and t[-1] > t[0]]
        return sum(rates) if rates else float("nan")


def _speckle_dataset(root: Path, n: int) -> Path:
    import csv

    import cv2
    import numpy as np

    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = [["image", "label"]]
    for i in range(n):
        frame = cv2.GaussianBlur(rng.rayleigh(1.0, (360, 480)), (0, 0), 1.5) * 70 + 20
        cv2.imwrite(str(root / "images" / f"f{i}.png"), np.clip(frame, 0, 255).astype(np.uint8))
        rows.append([f"f{i}.png", "normal"])
    with open(root / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return root


def _measure(dataset: Path, work: Path, method: str, workers: int, spec: dict, gpus=()) -> dict:
    from engine.augment import AugmentConfig, run_augment

    options = {"steps": spec["steps"]} if "steps" in spec else {}
    cfg = AugmentConfig(
        dataset, work / f"{method}_{workers}", n_per_image=spec["k"], workers=workers, method=method,
        limit=spec["images"], max_side=400, diffusion_options=options, gpus=tuple(gpus),
    )  # fmt: skip
    clock = _Clock()
    start = time.perf_counter()
    summary = run_augment(cfg, progress=clock)
    wall = time.perf_counter() - start
    n = summary["written"]
    return {"n": n, "wall": wall, "overall": n / wall, "steady": clock.steady()}


def main() -> None:
    from engine.settings import get_settings

    busi = get_settings().data_root / "bus" / "BUSI"
    gpus = [g for g in os.environ.get("BENCH_AUGMENT_GPUS", "").split(",") if g]
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} (the cores are shared)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dataset = busi if busi.is_dir() else _speckle_dataset(work / "speckle", 6)
        print(f"source frames: {'BUSI (' + str(busi) + ')' if busi.is_dir() else 'generated speckle'}")
        for method, spec in (("physics", PHYSICS), ("diffusion", DIFFUSION)):
            rows = {w: _measure(dataset, work, method, w, spec) for w in (1, 2)}
            for w, r in rows.items():
                print(
                    f"{method:9s} workers={w}: {r['n']} lesions in {r['wall']:.1f} s, "
                    f"{r['overall']:.2f} lesions/s overall, {r['steady']:.2f} lesions/s steady"
                )
            print(
                f"{method:9s} 2 workers / 1 worker: overall x{rows[2]['overall'] / rows[1]['overall']:.2f}, "
                f"steady x{rows[2]['steady'] / rows[1]['steady']:.2f}"
            )
            if method == "diffusion" and gpus:
                r = _measure(dataset, work / "gpu", method, len(gpus), spec, gpus)
                print(
                    f"diffusion on GPUs {','.join(gpus)}: {r['overall']:.2f} lesions/s overall, {r['steady']:.2f} steady"
                )


if __name__ == "__main__":
    main()
