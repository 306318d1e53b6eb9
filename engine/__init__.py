"""BUS Studio engine: all logic, no Qt."""

__version__ = "0.1.0"
