"""bus-engine settings: print the effective settings (environment over defaults)."""

from __future__ import annotations

import argparse
import json

NAME = "settings"
HELP = "print the effective settings: data root, model folder, UID root, backend"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from engine.settings import get_settings

    s = get_settings()
    values = {
        "data_root": str(s.data_root),
        "data_root_exists": s.data_root.is_dir(),
        "model_dir": str(s.model_dir),
        "model_dir_exists": s.model_dir.is_dir(),
        "uid_root": s.uid_root,
        "backend": s.backend,
    }
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for k, v in values.items():
            print(f"{k:17s} {v}")
    return 0
