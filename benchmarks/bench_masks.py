"""Mask generator speed at 256x256 on one core, against the elastic-ellipse baseline in the same run.

Target (issue 5): at least 1,000 masks per second, by the batch path (generate_masks, 64 masks a call,
bit-identical to generate_mask one at a time, whose rate is printed too). The other figures (fidelity, realism, diversity)
need the real data and take minutes: `bus-engine mask-figures --out DIR`.
"""

from __future__ import annotations


def main() -> None:
    from engine.masks.figures import speed
    from engine.masks.priors import load_priors

    s = speed(load_priors(), seconds=3.0)
    print(f"target 1000 masks/s: {'met' if s['ours_per_s'] >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
