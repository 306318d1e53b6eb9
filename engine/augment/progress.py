"""A one-line progress bar with rate and ETA, redrawn on stderr."""

from __future__ import annotations

import math
import sys
import time


class Progress:
    def __init__(self, total: int, already: int = 0, stream=None, width: int = 24):
        self.total, self.done, self.width = total, already, width
        self.already = already  # resumed items do not count towards the rate
        self.started = time.perf_counter()
        self.stream = stream or sys.stderr

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        fresh = self.done - self.already
        rate = fresh / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else math.inf
        eta_txt = "?" if math.isinf(eta) else time.strftime("%H:%M:%S", time.gmtime(eta))
        filled = int(self.width * self.done / max(self.total, 1))
        return (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} images "
            f"{rate:.2f}/s ETA {eta_txt}"
        )

    def advance(self, n: int = 1, worker: int = 0) -> None:
        self.done += n
        end = "\n" if self.done >= self.total else ""
        self.stream.write("\r" + self.line() + end)
        self.stream.flush()
