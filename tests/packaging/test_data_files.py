"""A wheel install carries every file under resources/ (pyproject's data-files), to the place
engine.settings.RESOURCES looks for it (<prefix>/share/busstudio/resources)."""

import glob
import subprocess
from pathlib import Path

import pytest

from engine.settings import PROJECT_ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _data_files() -> dict[str, list[str]]:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["setuptools"]["data-files"]


def test_every_resource_file_is_carried_by_a_data_files_pattern():
    resources = PROJECT_ROOT / "resources"
    on_disk = {p.relative_to(PROJECT_ROOT).as_posix() for p in resources.rglob("*") if p.is_file()}
    assert on_disk, "resources/ is empty"
    carried = {
        Path(f).as_posix()
        for patterns in _data_files().values()
        for pattern in patterns
        for f in glob.glob(pattern, root_dir=PROJECT_ROOT)
        if (PROJECT_ROOT / f).is_file()
    }
    assert sorted(on_disk - carried) == [], "add a [tool.setuptools.data-files] line for these folders"


def test_each_pattern_lands_where_settings_looks():
    for destination, patterns in _data_files().items():
        for pattern in patterns:
            folder = Path(pattern).parent.as_posix()
            assert destination == f"share/busstudio/{folder}", (destination, pattern)


@pytest.mark.parametrize("script", sorted((PROJECT_ROOT / "packaging").glob("*.sh")), ids=lambda p: p.name)
def test_packaging_scripts_parse(script):
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_resources_are_found_through_settings_only():
    """A wheel install has no resources/ beside the engine package: every module must find its
    resources through engine.settings.RESOURCES, never from its own source path."""
    offenders = []
    for module in sorted((PROJECT_ROOT / "engine").rglob("*.py")):
        for n, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            if "__file__" in line and "resources" in line:
                offenders.append(f"{module.relative_to(PROJECT_ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "use engine.settings.RESOURCES instead"
