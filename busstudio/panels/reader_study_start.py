"""File > Reader study…: choose a study folder (made by `bus-engine reader-study make`) and the reader."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from engine.evaluation.reader_study import load_study, reader_file_name


class ReaderStudyStartDialog(QDialog):
    def __init__(self, folder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Reader study")
        self.folder = QLineEdit(folder, self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(
            lambda: self.folder.setText(
                QFileDialog.getExistingDirectory(self, "Choose a study folder", self.folder.text())
                or self.folder.text()
            )
        )
        row = QWidget(self)
        rlay = QHBoxLayout(row)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addWidget(self.folder)
        rlay.addWidget(browse)
        self.reader = QLineEdit(self)
        self.reader.setPlaceholderText("your name or reader code")
        note = QLabel(
            "The folder made by `bus-engine reader-study make` (the one holding study.json). "
            "Answers go to responses/<reader>.csv inside it; the same name resumes where you stopped.",
            self,
        )
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Study folder", row)
        form.addRow("Reader", self.reader)
        form.addRow(note)
        form.addRow(self.buttons)
        self.resize(620, 180)

    def value(self) -> tuple[Path, str]:
        """The folder and reader name; InputError/DataError naming what is wrong."""
        folder = Path(self.folder.text().strip())
        load_study(folder)
        reader = self.reader.text().strip()
        reader_file_name(reader)
        return folder, reader
