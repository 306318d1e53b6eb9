"""Project-wide rules: the README's commands are CI's commands; no Qt in engine/."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_command(marker: str) -> str:
    out = subprocess.run(
        ["bash", "-c", f"source <(sed -n '/^readme_command()/,/^}}/p' .ci/run); readme_command {marker}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_ci_runs_the_readme_commands():
    setup, tests = _readme_command("setup"), _readme_command("test")
    readme = (ROOT / "README.md").read_text()
    assert setup and setup in readme and "packaging/setup.sh" in setup
    assert tests and tests in readme and "pytest" in tests


def test_engine_never_imports_qt():
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|PyQt5|PyQt6|shiboken6|busstudio)\b", re.M)
    offenders = [
        str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("*.py") if pattern.search(p.read_text())
    ]
    assert offenders == []
