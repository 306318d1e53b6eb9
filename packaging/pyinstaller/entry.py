"""Entry point of the frozen app (PyInstaller one-folder build).

busstudio [app options]            the desktop app (busstudio.app.main), e.g. --screenshot OUT.png
busstudio --engine ARGS...         the engine's command line (bus-engine ARGS...)
busstudio --smoke-generate [DIR]   one physics-draft generation on the bundled sample, then exit 0
"""

import sys


def smoke_generate(out_dir: str | None) -> int:
    import tempfile
    from pathlib import Path

    from engine.cli.main import main as engine_main
    from engine.settings import RESOURCES

    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="busstudio-smoke-"))
    code = engine_main(
        ["synthesize", "--method", "physics", "--out", str(out),
         "--text", "irregular hypoechoic mass with posterior shadowing, 12 mm"]
    )  # fmt: skip
    written = sorted(p.name for p in out.iterdir())
    print(f"smoke-generate: resources {RESOURCES}; exit {code}; wrote {len(written)} files to {out}")
    return code if "record.json" in written else 1


def main() -> int:
    # PyInstaller's spawn workers (bus-engine augment --workers N) re-enter here.
    import multiprocessing

    multiprocessing.freeze_support()
    args = sys.argv[1:]
    if args[:1] == ["--smoke-generate"]:
        return smoke_generate(args[1] if len(args) > 1 else None)
    if args[:1] == ["--engine"]:
        from engine.cli.main import main as engine_main

        return engine_main(args[1:])
    from busstudio.app import main as app_main

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
