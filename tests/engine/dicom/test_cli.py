import json
import shutil

import cv2
import numpy as np
import pytest

from engine.cli.main import main
from engine.dicom import open_study
from tests.engine.dicom.conftest import ALL_FILES


@pytest.mark.data
def test_inspect_folder_json_reports_every_file(dicom_dir, capsys):
    assert main(["inspect", str(dicom_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["file"].rsplit("/", 1)[-1] for r in rows) == ALL_FILES  # README.md skipped
    by_name = {r["file"].rsplit("/", 1)[-1]: r for r in rows}
    hp = by_name["us_jpeg-baseline_ybr422_cine_doppler-regions_hp.dcm"]
    assert hp["transfer_syntax"] == "1.2.840.10008.1.2.4.50" and hp["photometric"] == "YBR_FULL_422"
    assert (hp["rows"], hp["columns"], hp["frames"]) == (430, 480, 34)
    assert [r["units"] for r in hp["regions"]] == [["cm", "cm"], ["seconds", "none"]]
    assert hp["regions"][0]["mm_per_pixel"] == pytest.approx([0.28571, 0.22857], rel=1e-4)
    assert hp["manufacturer"] == "Hewlett-Packard"
    assert all(r["decodes"] is None for r in rows)  # a folder scan decodes no pixels


@pytest.mark.data
def test_inspect_file_decodes_and_bad_files_fail_with_one_line(dicom_dir, tmp_path, capsys):
    assert main(["inspect", str(dicom_dir / "us_rle_palette_cine_echo.dcm")]) == 0
    assert "decodes: yes" in capsys.readouterr().out
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(dicom_dir / "us_rle_rgb_logiq700.dcm", folder / "good.dcm")
    (folder / "text.dcm").write_text("hello, not DICOM\n")
    data = (dicom_dir / "us_explicit-le_rgb_logiq700.dcm").read_bytes()
    (folder / "cut.dcm").write_bytes(data[: len(data) // 2])
    assert main(["inspect", str(folder), "--decode"]) == 1
    out = capsys.readouterr()
    errors = out.err.strip().splitlines()
    assert len(errors) == 2 and all(": error: " in e for e in errors), errors
    assert "not a DICOM file" in out.err and "Pixel Data" in out.err
    assert "good.dcm" in out.out


@pytest.mark.data
def test_export_frame_writes_the_display_frame(dicom_dir, tmp_path):
    src = dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm"
    out = tmp_path / "f.png"
    assert main(["export-frame", str(src), "--frame", "7", "--out", str(out)]) == 0
    assert np.array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), open_study(src).frame(7).gray)
    assert main(["export-frame", str(src), "--frame", "99", "--out", str(out)]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]  # no temp file left behind
