"""Large JPEG cine loop (Voluson S, 87 frames of 743x975, YBR_FULL_422 JPEG Baseline): time to first
displayed frame, full decode, and peak memory while the loop is open, against plain pydicom in the
same run. Each figure comes from a fresh child process so peak memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

from engine.settings import get_settings

LOOP = "us_jpeg-baseline_ybr422_cine_regions_voluson-s.dcm"

_CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
path, mode = sys.argv[1], sys.argv[2]
import numpy, pydicom  # imports are not part of the timed work
from engine.dicom import open_study
t0 = time.perf_counter()
if mode == "engine-first":
    s = open_study(path); s.frame(0)
elif mode == "engine-all":
    s = open_study(path)
    for f in s.frames(): pass
elif mode == "pydicom-first":  # plain pydicom: the first frame exists once the whole array is decoded
    a = pydicom.dcmread(path).pixel_array; a[0]
elif mode == "pydicom-all":
    a = pydicom.dcmread(path).pixel_array
t = time.perf_counter() - t0
print(json.dumps({"s": t, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(path: str, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, path, mode], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    path = get_settings().data_root / "dicom" / LOOP
    if not path.is_file():
        print(f"skipped: {path} not found")
        return
    baseline = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import json,resource,numpy,pydicom,engine.dicom;"
                "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024))",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    r = {m: _run(str(path), m) for m in ("engine-first", "pydicom-first", "engine-all", "pydicom-all")}
    print(f"loop: {LOOP} (87 frames, 743x975, JPEG Baseline YBR_FULL_422)")
    print(f"peak RSS after imports only          {baseline:7.0f} MiB")
    for label, e, p in (
        ("first displayed frame", "engine-first", "pydicom-first"),
        ("full decode of all frames", "engine-all", "pydicom-all"),
    ):
        print(
            f"{label:27s} engine {r[e]['s']:6.2f} s  pydicom {r[p]['s']:6.2f} s  "
            f"ratio {r[p]['s'] / r[e]['s']:5.1f}x faster"
        )
        print(
            f"{'  peak RSS':27s} engine {r[e]['peak_mib']:6.0f} MiB pydicom {r[p]['peak_mib']:6.0f} MiB  "
            f"ratio {r[p]['peak_mib'] / r[e]['peak_mib']:5.1f}x"
        )
