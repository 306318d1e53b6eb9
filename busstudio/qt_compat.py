"""Guard against a PySide6 reference-count bug that would end the app with "deallocating None".

Measured here with PySide6 6.12.0 on CPython 3.11: every call of a C++ method returning void
(setText, setEnabled, update, processEvents, ...) drops one reference to None without taking it.
After as many calls as None has references (tens of thousands) the interpreter aborts. From CPython
3.12 None is immortal and the bug is harmless. Where the leak is measured, None's reference count is
raised once by a margin no session can use up, which is exactly what the missing increfs would have
added; nothing else changes.
"""

from __future__ import annotations

import ctypes
import sys

MARGIN = 1 << 40  # about 10^12 void calls
_guarded = False


def void_call_leaks_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def guard_none_refcount() -> bool:
    """Apply the guard when the leak is present (once per process); returns whether it is applied."""
    global _guarded
    if _guarded:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not void_call_leaks_none():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += MARGIN  # ob_refcnt is the object's first field
    _guarded = True
    from busstudio.logs import get_logger

    get_logger("qt").info("PySide6 None reference leak detected; guard applied (see busstudio.qt_compat)")
    return True
