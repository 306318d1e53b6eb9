"""The commands: adapt, synthesize --adapter, export-onnx --adapter (real MiniLM text encoder)."""

import json

from engine.cli.main import main
from engine.settings import sample_study_path


def test_adapt_command_on_a_dicom_study(site, tmp_path, capsys):
    base, _, _ = site
    out = tmp_path / "ad"
    args = ["adapt", "--model", str(base), "--data", str(sample_study_path()), "--out", str(out)]
    args += ["--batch", "2", "--rank", "2", "--threads", "1"]
    assert main([*args, "--steps", "2", "--log-every", "1"]) == 0
    text = capsys.readouterr().out
    assert "ETA" in text and "step 2/2" in text and "--adapter" in text
    assert (out / "adapter_model.safetensors").is_file() and (out / "log.csv").is_file()
    assert main([*args, "--steps", "3", "--resume"]) == 0
    assert "resumed" in capsys.readouterr().out
    assert json.loads((out / "adapter_config.json").read_text())["training"]["steps"] == 3


def test_adapt_command_names_a_missing_subset_file(site, tmp_path, capsys):
    base, data, _ = site
    argv = ["adapt", "--model", str(base), "--data", str(data), "--out", str(tmp_path / "x")]
    assert main([*argv, "--subset", str(tmp_path / "none.json")]) == 1
    assert "none.json does not exist" in capsys.readouterr().err
