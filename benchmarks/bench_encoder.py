"""Text encoder speed on CPU: per description uncached (batch 1 and batch 16) and cached.

Target: under 100 ms per description on CPU. Baseline in the same run: tokenizing alone.
"""

from __future__ import annotations

import statistics
import time


def _descriptions(n: int) -> list[str]:
    shapes, echoes = ("oval", "round", "irregular"), ("hypoechoic", "anechoic", "isoechoic", "heterogeneous")
    return [
        f"{shapes[i % 3]}, parallel, {echoes[i % 4]} mass with indistinct margin, {5 + i} mm"
        for i in range(n)
    ]


def _per_item(fn, items, repeats: int = 1) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(items)
        times.append((time.perf_counter() - start) / len(items))
    return statistics.median(times)


def main() -> None:
    from engine.language.encoder import TextEncoder

    start = time.perf_counter()
    enc = TextEncoder()
    load = time.perf_counter() - start
    enc.encode(["warm up"])
    texts = _descriptions(48 + 32)
    all_threads = TextEncoder(threads=None)
    all_threads.encode(["warm up"])
    default_threads = _per_item(lambda ts: [all_threads.encode([t]) for t in ts], texts[48:])
    tokenize = _per_item(
        lambda ts: [enc.tokenizer([t], padding="max_length", max_length=32) for t in ts], texts
    )
    single = _per_item(lambda ts: [enc.encode([t]) for t in ts], texts[:32])
    batched = _per_item(lambda ts: enc.encode(ts), texts[32:48])
    cached = _per_item(lambda ts: [enc.encode([t]) for t in ts], texts[:32], repeats=3)
    print(f"load model                    {load * 1000:8.1f} ms")
    print(f"tokenize only (baseline)      {tokenize * 1000:8.2f} ms per description")
    print(
        f"encode uncached, batch 1      {single * 1000:8.2f} ms per description   {single / tokenize:7.1f}x baseline   {single / 0.1:5.2f}x the 100 ms target"
    )
    print(
        f"  same, torch's default threads {default_threads * 1000:6.2f} ms per description   {default_threads / single:7.1f}x one thread"
    )
    print(
        f"encode uncached, batch 16     {batched * 1000:8.2f} ms per description   {batched / tokenize:7.1f}x baseline"
    )
    print(
        f"encode cached                 {cached * 1000:8.3f} ms per description   {cached / tokenize:7.2f}x baseline"
    )


if __name__ == "__main__":
    main()
