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
