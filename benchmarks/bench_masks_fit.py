"""Contour fitting over every lesion mask of BrEaST and BUSI: minimum Dice and median point count.

Target (issue 5): Dice >= 0.97 between each mask and its fitted contour's raster, with few points.
The baseline in the same run is the plain polygon of the traced outline (every boundary pixel a
vertex), which shows how many points the spline saves.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    from engine.contour.fit import fit_contour, traced_outline
    from engine.datasets import load_breast, load_busi
    from engine.datasets.images import read_mask
    from engine.masks.descriptors import largest_region
    from engine.settings import get_settings

    root = get_settings().data_root
    datasets = [load_breast(root / "bus" / "BrEaST-Lesions_USG"), load_busi(root / "bus" / "BUSI")]
    for index in datasets:
        dices, points, outline_points, worst = [], [], [], ("", 1.0)
        start = time.perf_counter()
        for case in index.lesion_cases():
            for path in case.mask_paths:
                mask = read_mask(path)
                fit = fit_contour(mask)
                dices.append(fit.dice)
                points.append(len(fit.contour))
                outline_points.append(len(traced_outline(largest_region(mask), smooth_px=0)))
                if fit.dice < worst[1]:
                    worst = (path.name, fit.dice)
        elapsed = time.perf_counter() - start
        d = np.array(dices)
        print(
            f"{index.name:7s} lesions {len(d):4d}  min Dice {d.min():.4f} ({worst[0]})  "
            f"below 0.97: {(d < 0.97).sum()}  median points {np.median(points):.0f} "
            f"(max {max(points)})  traced outline median {np.median(outline_points):.0f} points "
            f"= {np.median(outline_points) / np.median(points):.0f}x more  "
            f"{elapsed / len(d) * 1000:.1f} ms per mask"
        )


if __name__ == "__main__":
    main()
