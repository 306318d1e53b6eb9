import subprocess
import sys

import pytest

from engine.cli.main import main
from engine.errors import MissingPartError
from engine.parts import require
from engine.settings import Settings
from engine.workflow import MAIN_JOB_PARTS, missing_parts


def test_help_lists_existing_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("synthesize", "settings"):
        assert name in out


def test_main_job_names_missing_part_and_writes_nothing(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code = main(["synthesize", "--text", "irregular hypoechoic mass, 12 mm", "--out", str(out_dir)])
    missing = missing_parts()
    if not missing:
        pytest.skip("every part of the main job exists; the generator tests cover it")
    assert code == 1
    err = capsys.readouterr().err
    assert "is not built yet" in err and missing[0].part in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_missing_input_is_one_clear_error(tmp_path, capsys):
    code = main(["synthesize", "--input", str(tmp_path / "nope.dcm"), "--text", "x", "--out", str(tmp_path)])
    assert code == 1
    assert "nope.dcm does not exist" in capsys.readouterr().err


def test_require_reports_missing_part_but_not_other_import_errors():
    with pytest.raises(MissingPartError, match="the frobnicator is not built yet"):
        require("engine.frobnicator", "the frobnicator", "Some issue")
    assert require("engine.errors", "errors", "x").BusError
    assert [m for m, _, _ in MAIN_JOB_PARTS][0] == "engine.dicom"


def test_settings_environment_over_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("BUS_DATA_ROOT", str(tmp_path))
    monkeypatch.setenv("BUS_UID_ROOT", "1.2.3")
    s = Settings.from_env()
    assert s.data_root == tmp_path and s.uid_root == "1.2.3."
    monkeypatch.delenv("BUS_DATA_ROOT")
    assert Settings.from_env().data_root.parts[-2:] == ("shared", "data")
    monkeypatch.setenv("BUS_BACKEND", "quantum")
    from engine.errors import InputError

    with pytest.raises(InputError, match="quantum"):
        Settings.from_env()


def test_console_entry_points_run():
    out = subprocess.run([sys.executable, "-m", "engine", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "bus-engine" in out.stdout
    out = subprocess.run([sys.executable, "-m", "busstudio.app", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "busstudio 0." in out.stdout
