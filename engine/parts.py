"""Ask for a capability by module; fail clearly when the project has not built it yet."""

from __future__ import annotations

import importlib
from types import ModuleType

from engine.errors import MissingPartError


def require(module: str, part: str, issue: str) -> ModuleType:
    """Import `module` or raise MissingPartError naming the part and the issue that builds it.

    Only a missing module of our own counts as a missing part; any other ImportError is a real bug
    and propagates.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise MissingPartError(part, issue) from exc
        raise
