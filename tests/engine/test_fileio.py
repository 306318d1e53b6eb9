import os
import stat

import pytest

from engine.fileio import atomic_write, atomic_write_bytes


def test_atomic_write_gives_ordinary_permissions_and_replaces(tmp_path):
    target = atomic_write_bytes(tmp_path / "sub" / "model.bin", b"one")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask  # not mkstemp's private 0600
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and sorted(p.name for p in target.parent.iterdir()) == ["model.bin"]


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    target = atomic_write_bytes(tmp_path / "a.json", b"previous")

    def fails(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


# Libraries that pick the format from the file name: the temp file ends in .part, so the caller names
# the format (matplotlib, PIL), writes through a file object (np.savez) or encodes to bytes (cv2).


def test_matplotlib_savefig_names_the_format(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    fig.savefig(tmp_path / "direct.png", dpi=50)
    target = atomic_write(tmp_path / "plot.png", lambda tmp: fig.savefig(tmp, format="png", dpi=50))
    # without the format matplotlib reads it from the temp name: it fails, and nothing is left over
    with pytest.raises(ValueError, match="part"):
        atomic_write(target, lambda tmp: fig.savefig(tmp, dpi=50))
    plt.close(fig)
    assert target.read_bytes() == (tmp_path / "direct.png").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.png", "plot.png"]


def test_numpy_savez_through_a_file_object_gets_no_npz_appended(tmp_path):
    import numpy as np

    arrays = {"a": np.arange(6, dtype=np.uint8).reshape(2, 3), "b": np.linspace(0, 1, 4)}

    def write(tmp):
        with tmp.open("wb") as f:
            np.savez(f, **arrays)

    target = atomic_write(tmp_path / "cache.npz", write)
    with np.load(target) as z:
        assert all(np.array_equal(z[k], v) for k, v in arrays.items())
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]


def test_pil_save_names_the_format(tmp_path):
    import numpy as np
    from PIL import Image

    mask = (np.arange(64, dtype=np.uint8).reshape(8, 8) % 2) * 255
    target = atomic_write(tmp_path / "mask.png", lambda tmp: Image.fromarray(mask).save(tmp, format="PNG"))
    assert np.array_equal(np.asarray(Image.open(target)), mask)
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]


def test_cv2_encodes_to_bytes_first(tmp_path):
    import cv2
    import numpy as np

    gray = np.arange(48, dtype=np.uint8).reshape(6, 8)
    ok, buf = cv2.imencode(".png", gray)
    assert ok
    target = atomic_write_bytes(tmp_path / "image.png", buf.tobytes())
    assert np.array_equal(cv2.imread(str(target), cv2.IMREAD_UNCHANGED), gray)
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]
