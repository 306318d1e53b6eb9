import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import workflow
from engine.cli.main import main
from engine.errors import MissingPartError
from engine.parts import require
from engine.settings import Settings, sample_study_path
from engine.workflow import MAIN_JOB_PARTS


def test_help_lists_existing_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("synthesize", "settings"):
        assert name in out


def _readme_main_job() -> list[str]:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith(".venv/bin/bus-engine synthesize"))
    return shlex.split(line)[1:]


def test_readme_main_job_writes_a_synthetic_study(tmp_path, capsys):
    import pydicom

    argv = _readme_main_job()
    argv[argv.index("--out") + 1] = str(tmp_path / "demo")
    assert main(argv) == 0, capsys.readouterr().err
    out = tmp_path / "demo"
    record = json.loads((out / "record.json").read_text())
    assert record["method"] == "diffusion" and record["parsed"]["unplaced"] == []
    assert record["description"]["posterior_features"] == "shadowing"
    image = pydicom.dcmread(out / "synthetic_0_image.dcm")
    assert image.SyntheticData == "YES" and image.PatientIdentityRemoved == "YES"
    assert image.SequenceOfUltrasoundRegions[0].PhysicalDeltaX == pytest.approx(0.01)
    assert pydicom.dcmread(out / "synthetic_0_seg.dcm").Modality == "SEG"
    assert pydicom.dcmread(out / "synthetic_0_sr.dcm").Modality == "SR"
    source = pydicom.dcmread(sample_study_path()).pixel_array
    changed = image.pixel_array != source
    mask = np.asarray(Image.open(out / "mask.png")) > 0
    assert changed[mask].mean() > 0.5  # the tumor is where the mask says
    assert (out / "preview_0.png").stat().st_size > 0


def test_main_job_names_a_missing_part_and_writes_nothing(tmp_path, monkeypatch, capsys):
    parts = (*MAIN_JOB_PARTS, ("engine.frobnicator", "the frobnicator (engine.frobnicator)", "Some issue"))
    monkeypatch.setattr(workflow, "MAIN_JOB_PARTS", parts)
    out_dir = tmp_path / "out"
    code = main(["synthesize", "--text", "irregular hypoechoic mass, 12 mm", "--out", str(out_dir)])
    assert code == 1
    assert "the frobnicator (engine.frobnicator) is not built yet" in capsys.readouterr().err
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
