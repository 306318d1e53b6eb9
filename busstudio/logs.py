"""The log file in the user's data folder (QStandardPaths), so an error report can point to it."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOGGER_NAME = "busstudio"
_handler: logging.Handler | None = None


def data_folder() -> Path:
    from PySide6.QtCore import QStandardPaths

    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_path() -> Path:
    return data_folder() / "busstudio.log"


def setup_logging() -> Path:
    """Log to a rotating file in the data folder (once per process); returns its path."""
    global _handler
    path = log_path()
    logger = logging.getLogger(LOGGER_NAME)
    if _handler is None or getattr(_handler, "baseFilename", None) != str(path):
        if _handler is not None:
            logger.removeHandler(_handler)
        _handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=2, encoding="utf-8"
        )
        _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(_handler)
        logger.setLevel(logging.INFO)
    return path


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
