"""Study browser: a folder's files grouped by patient, study and series, with thumbnails."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QProgressBar, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from busstudio.models.study_index import THUMBNAIL_PX, FolderIndex, index_folder
from busstudio.viewer.image_view import to_qimage
from busstudio.workers import Worker, WorkerRunner

PATH_ROLE = 257


class StudyBrowser(QWidget):
    open_requested = Signal(str)
    failed = Signal(object)

    def __init__(self, runner: WorkerRunner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.index: FolderIndex | None = None
        self.worker: Worker | None = None
        self.title = QLabel("No folder open (Ctrl+Shift+O)", self)
        self.title.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("studyTree")
        self.tree.setHeaderLabels(["Patient / study / series / file", "Frames"])
        self.tree.setIconSize(QSize(THUMBNAIL_PX // 2, THUMBNAIL_PX // 2))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.progress)
        lay.addWidget(self.tree, 1)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)

    def scan(self, folder: Path) -> Worker:
        if self.worker is not None:
            self.worker.cancel()
        folder = Path(folder)
        self.title.setText(f"Scanning {folder}…")
        self.progress.show()
        worker = Worker(lambda progress, cancelled: index_folder(folder, progress, cancelled), "folder scan")
        worker.signals.progress.connect(lambda f, m: self.progress.setValue(int(f * 1000)))
        worker.signals.finished.connect(self.show_index)
        worker.signals.failed.connect(self.failed.emit)
        worker.signals.done.connect(self._done)
        self.worker = worker
        self.runner.start(worker)
        return worker

    def _done(self) -> None:
        self.worker = None
        self.progress.hide()

    def show_index(self, index: FolderIndex) -> None:
        self.index = index
        self.tree.clear()
        readable = [f for f in index.files if not f.error]
        self.title.setText(
            f"{index.folder}: {len(readable)} images, {len(index.files) - len(readable)} unreadable"
        )
        for patient, studies in index.grouped().items():
            p_item = QTreeWidgetItem(self.tree, [patient])
            for study, series_map in studies.items():
                s_item = QTreeWidgetItem(p_item, [study])
                for series, files in series_map.items():
                    r_item = QTreeWidgetItem(s_item, [series])
                    for f in files:
                        item = QTreeWidgetItem(r_item, [f.path.name, str(f.n_frames) if not f.error else ""])
                        item.setData(0, PATH_ROLE, str(f.path))
                        if f.thumbnail is not None:
                            item.setIcon(0, QIcon(QPixmap.fromImage(to_qimage(f.thumbnail))))
                        if f.error:
                            item.setToolTip(0, f.error)
                            item.setDisabled(True)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)

    def _activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        path = item.data(0, PATH_ROLE)
        if path and not item.isDisabled():
            self.open_requested.emit(path)
