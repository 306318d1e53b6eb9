"""Benchmarks: each module `bench_*.py` has main() that prints its figures; `python -m benchmarks` runs all.

Figures are ratios against a baseline measured in the same run, because these machines are noisy.
"""
