"""Start-up cost of `bus-engine --help` against a bare Python start, in the same run.

The command line is started once per file by scripts and by the app's workers; heavy imports (torch,
diffusers, Qt) must stay out of its start-up path.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = _time([sys.executable, "-c", "pass"])
    help_ = _time([sys.executable, "-m", "engine", "--help"])
    print(f"python -c pass         median {bare * 1000:7.1f} ms")
    print(f"bus-engine --help      median {help_ * 1000:7.1f} ms   ratio {help_ / bare:5.1f}x bare python")


if __name__ == "__main__":
    main()
