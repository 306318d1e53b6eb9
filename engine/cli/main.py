"""Entry point of `bus-engine`: discovers subcommand modules and turns engine errors into one line."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import engine.cli as cli_package
from engine import __version__
from engine.errors import BusError

_NOT_COMMANDS = {"main"}


def _command_modules():
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in _NOT_COMMANDS:
            continue
        module = importlib.import_module(f"engine.cli.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            yield module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bus-engine",
        description="BUS Studio engine: breast ultrasound DICOM, clinical language, masks and tumor synthesis.",
    )
    parser.add_argument("--version", action="version", version=f"bus-engine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except BusError as exc:
        print(f"bus-engine {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(
            f"bus-engine {args.command}: error: out of memory; try a smaller input, batch or model",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"bus-engine {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
