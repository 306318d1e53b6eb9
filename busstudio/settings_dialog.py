"""The Settings dialog: edits AppSettings and saves them with QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)

from busstudio.app_settings import AppSettings
from engine.settings import BACKENDS


def _folder_row(parent: QWidget, value: Path) -> tuple[QWidget, QLineEdit]:
    row = QWidget(parent)
    edit = QLineEdit(str(value), row)
    browse = QPushButton("Browse…", row)
    browse.clicked.connect(
        lambda: edit.setText(
            QFileDialog.getExistingDirectory(row, "Choose a folder", edit.text()) or edit.text()
        )
    )
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit)
    lay.addWidget(browse)
    return row, edit


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        row, self.model_dir = _folder_row(self, settings.model_dir)
        form.addRow("Model folder", row)
        # The model's LoRA adapters (MODEL/adapters/NAME, made by `bus-engine adapt`), listed only.
        self.adapters = QListWidget(self)
        self.adapters.setToolTip(
            "Site adapters in the model folder's adapters/ subfolder; use one with "
            "`bus-engine synthesize --adapter PATH[:STRENGTH]`"
        )
        self.adapters.setMaximumHeight(90)
        form.addRow("Adapters", self.adapters)
        self.model_dir.textChanged.connect(self._list_adapters)
        self._list_adapters(self.model_dir.text())
        self.backend = QComboBox(self)
        self.backend.addItems(BACKENDS)
        self.backend.setCurrentText(settings.backend)
        form.addRow("Backend", self.backend)
        row, self.data_root = _folder_row(self, settings.data_root)
        form.addRow("Data root", row)
        self.uid_root = QLineEdit(settings.uid_root, self)
        self.uid_root.setToolTip("Your site's registered UID root; written DICOM UIDs start with it")
        form.addRow("UID root", self.uid_root)
        self.deidentify = QCheckBox("De-identify exported studies by default", self)
        self.deidentify.setChecked(settings.deidentify)
        form.addRow(self.deidentify)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _list_adapters(self, model_dir: str) -> None:
        from engine.adapt import list_adapters

        self.adapters.clear()
        lines = [a.line() for a in list_adapters(Path(model_dir))] if model_dir.strip() else []
        self.adapters.addItems(lines or ["(none: make one with `bus-engine adapt`)"])

    def value(self) -> AppSettings:
        return AppSettings(
            model_dir=Path(self.model_dir.text()),
            backend=self.backend.currentText(),
            data_root=Path(self.data_root.text()),
            uid_root=self.uid_root.text(),
            deidentify=self.deidentify.isChecked(),
        ).validated()
