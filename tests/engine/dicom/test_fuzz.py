"""Fuzz: 500 seeded mutations of the real files give a correct read or one DicomError, fast."""

import io
import random
import time

import pydicom
import pytest

from engine.dicom import open_study
from engine.errors import DicomError

N_MUTATIONS = 500
SEED = 20251201
# Small and mid-size files keep the run short; every transfer syntax family is among them.
FUZZ_FILES = [
    "us_explicit-le_rgb_logiq700.dcm",
    "us_implicit-le_palette16_regions_aloka.dcm",
    "us_implicit-le_palette_regions_clearvue650.dcm",
    "us_j2k-lossless_ybr-rct_logiq700.dcm",
    "us_j2k-lossy_ybr-ict_logiq700.dcm",
    "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm",
    "us_jpeg-baseline_ybr422_hdi5000.dcm",
    "us_jpeg-lossless-sv1_mono2_regions_epiq7c.dcm",
    "us_jpeg-ls-lossless_palette_cine_echo.dcm",
    "us_rle_palette_2frame_regions_cx50.dcm",
    "us_rle_ybr-full_regions_sequoia.dcm",
    "us_explicit-le_ybr422_regions_esaote.dcm",
]


def _delete_tag(data: bytes, rng: random.Random) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    tags = [t for t in ds.keys() if t != 0x7FE00010] + [0x7FE00010]  # noqa: SIM118
    del ds[rng.choice(tags)]
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=False)
    return out.getvalue()


def _mutations(originals: dict[str, bytes]):
    rng = random.Random(SEED)
    names = sorted(originals)
    for i in range(N_MUTATIONS):
        name = names[i % len(names)]
        data = originals[name]
        kind = ("truncate", "flip", "delete")[i % 3]
        if kind == "truncate":
            # Half the cuts inside the header (first 4 KiB), half anywhere.
            limit = min(len(data), 4096) if rng.random() < 0.5 else len(data)
            yield name, kind, data[: rng.randrange(0, limit)]
        elif kind == "flip":
            b = bytearray(data)
            head = rng.random() < 0.7  # mostly the header, where structure lives
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(0, min(len(b), 3000) if head else len(b))
                b[pos] ^= 1 << rng.randrange(8)
            yield name, kind, bytes(b)
        else:
            yield name, kind, _delete_tag(data, rng)


@pytest.mark.data
@pytest.mark.slow
def test_mutated_files_read_correctly_or_raise_dicom_error(dicom_dir, tmp_path):
    originals = {n: (dicom_dir / n).read_bytes() for n in FUZZ_FILES}
    outcomes = {"read": 0, "DicomError": 0}
    worst = 0.0
    target = tmp_path / "m.dcm"
    for n, (name, kind, data) in enumerate(_mutations(originals)):
        target.write_bytes(data)
        start = time.perf_counter()
        try:
            study = open_study(target)
            study.frame(0)
            if study.n_frames > 1:
                study.frame(study.n_frames - 1)
            outcomes["read"] += 1
        except DicomError as exc:
            assert exc.file == str(target) and exc.reason
            outcomes["DicomError"] += 1
        except Exception as exc:  # pragma: no cover - a failure names the mutation to replay
            pytest.fail(f"mutation {n} ({kind} of {name}) raised {type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - start
        worst = max(worst, elapsed)
        assert elapsed < 5, f"mutation {n} ({kind} of {name}) took {elapsed:.1f} s"
    assert sum(outcomes.values()) == N_MUTATIONS
    assert outcomes["DicomError"] > 50 and outcomes["read"] > 50, outcomes
    print(f"fuzz: {outcomes}, slowest {worst:.2f} s")
