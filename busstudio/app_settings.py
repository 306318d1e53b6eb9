"""The app's persisted settings (QSettings): model folder, backend, data root, UID root, de-identification.

Defaults come from engine.settings (environment over built-in defaults), so the app and `bus-engine`
agree until the user changes a value here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from engine.errors import InputError
from engine.settings import BACKENDS, get_settings


@dataclass(frozen=True)
class AppSettings:
    model_dir: Path
    backend: str
    data_root: Path
    uid_root: str
    deidentify: bool = True

    def validated(self) -> AppSettings:
        if self.backend not in BACKENDS:
            raise InputError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        root = self.uid_root.strip()
        if not root or any(part and not part.isdigit() for part in root.rstrip(".").split(".")):
            raise InputError(
                f"UID root {self.uid_root!r} must be dotted digits, e.g. 1.2.826.0.1.3680043.8.498."
            )
        if not root.endswith("."):
            root += "."
        if len(root) > 40:
            raise InputError(f"UID root {root!r} is longer than 40 characters; UIDs would not fit in 64")
        return replace(self, uid_root=root)


def _store(qsettings: QSettings | None) -> QSettings:
    return qsettings if qsettings is not None else QSettings()


def load_settings(qsettings: QSettings | None = None) -> AppSettings:
    s = _store(qsettings)
    env = get_settings()
    backend = str(s.value("backend", env.backend))
    return AppSettings(
        model_dir=Path(str(s.value("model_dir", str(env.model_dir)))),
        backend=backend if backend in BACKENDS else env.backend,
        data_root=Path(str(s.value("data_root", str(env.data_root)))),
        uid_root=str(s.value("uid_root", env.uid_root)),
        deidentify=str(s.value("deidentify", "true")).lower() in ("true", "1"),
    )


def save_settings(settings: AppSettings, qsettings: QSettings | None = None) -> AppSettings:
    settings = settings.validated()
    s = _store(qsettings)
    s.setValue("model_dir", str(settings.model_dir))
    s.setValue("backend", settings.backend)
    s.setValue("data_root", str(settings.data_root))
    s.setValue("uid_root", settings.uid_root)
    s.setValue("deidentify", "true" if settings.deidentify else "false")
    s.sync()
    return settings


def is_first_run(qsettings: QSettings | None = None) -> bool:
    return str(_store(qsettings).value("first_run_done", "false")) != "true"


def mark_first_run_done(qsettings: QSettings | None = None) -> None:
    s = _store(qsettings)
    s.setValue("first_run_done", "true")
    s.sync()
