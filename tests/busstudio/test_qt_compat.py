"""The guard against PySide6's None reference leak keeps a long run of Qt calls alive."""

from __future__ import annotations

import sys


def test_many_void_calls_do_not_exhaust_none(qapp):
    from PySide6.QtWidgets import QLabel

    from busstudio.qt_compat import guard_none_refcount, void_call_leaks_none

    guard_none_refcount()
    label = QLabel()
    start = sys.getrefcount(None)
    calls = max(2 * start, 200_000) if start < 10**9 else 200_000  # more calls than None had references
    for _ in range(calls):
        label.setText("x")
    assert sys.getrefcount(None) > 0
    if void_call_leaks_none():
        assert sys.version_info < (3, 12) and sys.getrefcount(None) > 10**9
