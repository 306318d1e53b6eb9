"""bus-engine mask-figures: the mask generator's four figures against real BrEaST masks, with plots."""

from __future__ import annotations

import argparse

NAME = "mask-figures"
HELP = "measure the mask generator: fidelity, realism (vs elastic ellipse), diversity, speed; write plots"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder for figures.json and the PNG plots")
    p.add_argument("--n", type=int, default=200, help="generated masks per class for fidelity and realism")
    p.add_argument("--diversity-n", type=int, default=1000, help="generated masks per class for diversity")
    p.add_argument("--only", choices=["fidelity", "realism", "diversity", "speed"], action="append")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from engine.fileio import atomic_write_bytes
    from engine.masks import figures
    from engine.masks.plots import plot_figures
    from engine.masks.priors import load_priors, real_breast_masks
    from engine.settings import get_settings

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    priors = load_priors()
    wanted = args.only or ["fidelity", "realism", "diversity", "speed"]
    results = {}
    real = None
    if set(wanted) - {"speed"}:
        print("reading real BrEaST masks ...", flush=True)
        real = real_breast_masks(get_settings().data_root / "bus" / "BrEaST-Lesions_USG")
    if "fidelity" in wanted:
        print("1. semantic fidelity (classifiers trained on real masks only)", flush=True)
        results["fidelity"] = figures.fidelity(real, priors, n=args.n)
    if "realism" in wanted:
        print("2. realism: mean normalised Wasserstein distance of descriptors (lower is better)", flush=True)
        results["realism"] = figures.realism(real, priors, n=min(args.n, 150))
    if "diversity" in wanted:
        print(
            "3. diversity: mean pairwise IoU after centring and scaling (lower is more diverse)", flush=True
        )
        results["diversity"] = figures.diversity(real, priors, n=args.diversity_n)
    if "speed" in wanted:
        print("4. speed at 256x256, one core", flush=True)
        results["speed"] = figures.speed(priors)
    atomic_write_bytes(out / "figures.json", json.dumps(results, indent=1).encode("utf-8"))
    for path in plot_figures(results, out, priors):
        print(f"wrote {path}")
    return 0
