"""bus-engine masks: generate tumour masks from clinical attributes (PNG masks + contour JSON)."""

from __future__ import annotations

import argparse

NAME = "masks"
HELP = "generate tumour masks from BI-RADS attributes and a seed (PNG masks and contour JSON)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from engine.language.lexicon import MarginSubtype, Orientation, Shape

    margins = ["circumscribed"] + [m.value for m in MarginSubtype]
    p.add_argument("--shape", choices=[s.value for s in Shape], help="default: drawn from the priors")
    p.add_argument(
        "--margin",
        action="append",
        choices=margins,
        help="circumscribed, or one or more subtypes (repeat the option); default: drawn from the priors",
    )
    p.add_argument("--orientation", choices=[o.value for o in Orientation])
    p.add_argument("--size-mm", type=float, help="longest diameter in mm; default: drawn from the priors")
    p.add_argument("--aspect", type=float, help="longest / perpendicular diameter (>= 1)")
    p.add_argument("--n", type=int, default=1, help="number of masks (seeds SEED .. SEED+N-1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mm-per-pixel", type=float, default=0.1)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--out", help="output folder")
    p.add_argument(
        "--refit-priors",
        action="store_true",
        help="refit the generator's priors from the BrEaST masks under the data root and save them",
    )


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import numpy as np

    from engine.errors import InputError
    from engine.language.description import LesionDescription, Margin
    from engine.masks.generator import generate_mask

    if args.refit_priors:
        from engine.masks.priors import fit_priors, save_priors
        from engine.settings import get_settings

        priors = fit_priors(get_settings().data_root / "bus" / "BrEaST-Lesions_USG")
        print(f"wrote {save_priors(priors)}")
        return 0
    if not args.out:
        raise InputError("--out is required (the folder for the masks)")
    if args.n < 1:
        raise InputError(f"--n must be at least 1, got {args.n}")
    margin = None
    if args.margin:
        if "circumscribed" in args.margin:
            if len(args.margin) > 1:
                raise InputError("a circumscribed margin has no subtypes; give one or the other")
            margin = Margin(True)
        else:
            margin = Margin(False, frozenset(args.margin))
    perpendicular = None
    if args.aspect is not None:
        if args.size_mm is None or args.aspect < 1:
            raise InputError("--aspect needs --size-mm and must be at least 1")
        perpendicular = args.size_mm / args.aspect
    request = LesionDescription(
        shape=args.shape,
        orientation=args.orientation,
        margin=margin,
        size_mm=args.size_mm,
        perpendicular_mm=perpendicular,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seed, args.seed + args.n):
        g = generate_mask(request, seed, args.mm_per_pixel, (args.height, args.width))
        stem = f"mask_{seed:06d}"
        record = {
            "seed": seed,
            "mm_per_pixel": args.mm_per_pixel,
            "request": request.to_dict(),
            "description": g.description.to_dict(),
            "band_px": g.band_px,
            "contour": g.contour.to_dict(),
        }
        _write_png(out / f"{stem}.png", g.mask.astype(np.uint8) * 255)
        if g.soft is not None:
            _write_png(out / f"{stem}_soft.png", np.round(g.soft * 255).astype(np.uint8))
        _write_text(out / f"{stem}.json", json.dumps(record, indent=1))
    print(f"wrote {args.n} masks to {out}")
    return 0


def _write_png(path, array) -> None:
    from PIL import Image

    from engine.fileio import atomic_write

    atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))


def _write_text(path, text) -> None:
    from engine.fileio import atomic_write_bytes

    atomic_write_bytes(path, (text + "\n").encode("utf-8"))
