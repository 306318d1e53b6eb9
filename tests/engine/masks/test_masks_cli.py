import json

import numpy as np
from PIL import Image

from engine.cli.main import main
from engine.contour.spline import Contour


def test_masks_command_writes_pngs_and_contours(tmp_path, capsys):
    rc = main(
        [
            "masks",
            "--shape",
            "irregular",
            "--margin",
            "spiculated",
            "--margin",
            "indistinct",
            "--orientation",
            "parallel",
            "--size-mm",
            "15",
            "--n",
            "3",
            "--seed",
            "5",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    for seed in (5, 6, 7):
        mask = np.asarray(Image.open(tmp_path / f"mask_{seed:06d}.png")) > 127
        record = json.loads((tmp_path / f"mask_{seed:06d}.json").read_text())
        contour = Contour.from_dict(record["contour"])
        # the PNG is the fast fill: it may differ from the exact raster only in edge pixels
        perimeter = np.hypot(*np.diff(np.vstack([contour.dense(), contour.dense()[:1]]), axis=0).T).sum()
        assert (contour.raster(mask.shape) ^ mask).sum() < 0.25 * perimeter
        assert record["description"]["margin"]["subtypes"] == ["spiculated", "indistinct"]
        assert (tmp_path / f"mask_{seed:06d}_soft.png").is_file()


def test_masks_command_refuses_circumscribed_with_subtypes(tmp_path, capsys):
    rc = main(["masks", "--margin", "circumscribed", "--margin", "angular", "--out", str(tmp_path)])
    assert rc == 1 and "circumscribed" in capsys.readouterr().err
