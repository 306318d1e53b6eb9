"""Settings: environment variables over defaults. One place, read on demand (not at import)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _resources_dir() -> Path:
    """resources/ of a source checkout (or editable install), else the copy a wheel installs
    under <prefix>/share/busstudio/resources (pyproject's data-files)."""
    checkout = PROJECT_ROOT / "resources"
    installed = Path(sys.prefix) / "share" / "busstudio" / "resources"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


RESOURCES = _resources_dir()

# pydicom's registered example root would collide with every other pydicom user; sites should set
# BUS_UID_ROOT to their own registered root. This default is the root pydicom itself uses for generated UIDs.
DEFAULT_UID_ROOT = "1.2.826.0.1.3680043.8.498."
BACKENDS = ("auto", "torch-cpu", "torch-cuda", "onnx-cpu", "onnx-cuda")


@dataclass(frozen=True)
class Settings:
    data_root: Path
    model_dir: Path
    uid_root: str
    backend: str

    @classmethod
    def from_env(cls) -> Settings:
        data_root = Path(os.environ.get("BUS_DATA_ROOT", PROJECT_ROOT.parent / "shared" / "data"))
        model_dir = Path(os.environ.get("BUS_MODEL_DIR", RESOURCES / "models" / "default"))
        uid_root = os.environ.get("BUS_UID_ROOT", DEFAULT_UID_ROOT)
        if not uid_root.endswith("."):
            uid_root += "."
        backend = os.environ.get("BUS_BACKEND", "auto")
        if backend not in BACKENDS:
            from engine.errors import InputError

            raise InputError(f"BUS_BACKEND={backend!r} is not one of {', '.join(BACKENDS)}")
        return cls(
            data_root=data_root.expanduser(),
            model_dir=model_dir.expanduser(),
            uid_root=uid_root,
            backend=backend,
        )


def get_settings() -> Settings:
    return Settings.from_env()


def sample_study_path() -> Path:
    """The bundled sample study (a simulated breast phantom, see engine.sample)."""
    return RESOURCES / "sample" / "phantom_breast_us.dcm"
