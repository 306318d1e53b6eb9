"""BUS Studio desktop app (PySide6)."""

from engine import __version__

__all__ = ["__version__"]
