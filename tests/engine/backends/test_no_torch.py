"""The onnx-cpu backend generates in an install without torch (torch imports made to fail)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BLOCKER = Path(__file__).parent / "no_torch"
ROOT = Path(__file__).resolve().parents[3]


def _run(args, **kw):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BLOCKER), str(ROOT)])}
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, **kw
    )


def _mask_png(folder: Path) -> Path:
    """An ellipse mask at the sample study's frame size (keeps these tests off the mask generator)."""
    import numpy as np
    from PIL import Image

    from engine.dicom import open_study
    from engine.settings import sample_study_path

    h, w = open_study(sample_study_path()).frame(0).gray.shape
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy - h / 2) / (h / 10)) ** 2 + ((xx - w / 2) / (w / 8)) ** 2 <= 1
    path = folder / "mask.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    return path


def test_the_blocker_blocks():
    r = _run(["-c", "import torch"])
    assert r.returncode != 0 and "blocked" in r.stderr


def test_synthesize_with_onnx_cpu_without_torch(exported, tmp_path):
    out = tmp_path / "out"
    r = _run(
        ["-m", "engine.cli.main", "synthesize", "--backend", "onnx-cpu", "--model", str(exported[1]),
         "--text", "irregular hypoechoic mass, 12 mm", "--mask", str(_mask_png(tmp_path)), "--steps", "3", "--seed", "2", "--out", str(out)]
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    record = json.loads((out / "record.json").read_text())
    assert record["generator"]["backend"] == "onnx-cpu" and record["generator"]["method"] == "diffusion"
    assert (out / "synthetic_0_image.dcm").is_file() and (out / "preview_0.png").is_file()
    check = (
        "import sys; from engine.backends import select_backend; "
        "print(select_backend('auto').name, 'torch' in sys.modules, 'diffusers' in sys.modules)"
    )
    r = _run(["-c", check])
    assert r.stdout.split() == ["onnx-cpu", "False", "False"], r.stderr
    r = _run(["-c", "from engine.generator.schedulers import make_loop_sampler; make_loop_sampler('unipc')"])
    assert r.returncode != 0 and "'unipc' needs torch" in r.stderr and "dpm++" in r.stderr


def test_torch_backend_without_torch_says_so_in_one_line(exported, tmp_path):
    r = _run(
        ["-m", "engine.cli.main", "synthesize", "--backend", "torch-cpu", "--model", str(exported[0]),
         "--text", "oval mass", "--mask", str(_mask_png(tmp_path)), "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "torch is not installed" in lines[0], r.stderr
