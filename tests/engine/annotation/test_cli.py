import json

import cv2
import pytest

from engine.cli.main import main
from engine.contour.spline import Contour
from engine.evaluation.metrics import dice

from .synthetic import lesion_frame


def test_segment_writes_the_contour_and_names_the_method(tmp_path, capsys):
    gray, mask = lesion_frame()
    png = tmp_path / "frame.png"
    cv2.imwrite(str(png), gray)
    out = tmp_path / "contour.json"
    code = main(["annotate", "segment", str(png), "--box", "62", "58", "128", "102", "--classical",
                 "--out", str(out), "--png", str(tmp_path / "overlay.png")])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["method"] == "chan-vese-box" and doc["frame"] == 0
    assert dice(Contour.from_dict(doc["contour"]).raster(gray.shape), mask) > 0.85
    assert cv2.imread(str(tmp_path / "overlay.png")).shape[:2] == gray.shape
    assert "chan-vese-box" in capsys.readouterr().out


def test_segment_bad_click_is_one_line_error(tmp_path, capsys):
    gray, _ = lesion_frame()
    png = tmp_path / "frame.png"
    cv2.imwrite(str(png), gray)
    assert main(["annotate", "segment", str(png), "--click", "999", "5", "--classical"]) != 0
    assert "outside" in capsys.readouterr().err


def test_propagate_through_a_real_cine_loop(dicom_dir, tmp_path):
    path = dicom_dir / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    out = tmp_path / "track.json"
    code = main(["annotate", "propagate", str(path), "--frame", "5", "--box", "120", "80", "200", "160",
                 "--classical", "--steps", "3", "--out", str(out)])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert sorted(int(k) for k in doc["frames"]) == [2, 3, 4, 5, 6, 7, 8]
    assert doc["frames"]["5"]["method"] == "chan-vese-box"
    assert doc["frames"]["8"]["method"] == "dis-flow"
