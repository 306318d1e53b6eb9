"""The main window: image view, cine scrubber, tools, panels; `run(args)` is the app's entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from busstudio import engine_parts, qt_compat
from busstudio.app_settings import (
    AppSettings,
    is_first_run,
    load_settings,
    mark_first_run_done,
    save_settings,
)
from busstudio.bindings.keys import SHORTCUTS
from busstudio.error_dialog import install_excepthook, show_error
from busstudio.logs import get_logger, setup_logging
from busstudio.models.annotations import AnnotationModel
from busstudio.models.description_sync import DescriptionModel
from busstudio.models.edits import SetDescription
from busstudio.models.image_model import ImageModel
from busstudio.models.window_level import FULL_RANGE, PRESETS
from busstudio.panels.attribute_panel import AttributePanel
from busstudio.panels.generate_panel import GeneratePanel
from busstudio.panels.lesion_panel import LesionPanel, MeasurementCache
from busstudio.panels.propagation_progress import PropagationProgress, frame_reader
from busstudio.panels.study_browser import StudyBrowser
from busstudio.tools.click_segment_tool import ClickSegmentTool
from busstudio.tools.contour_tool import ContourTool
from busstudio.tools.edge_snapping import EdgeSnapping
from busstudio.tools.suggest_tool import SuggestTool
from busstudio.undo import UndoHistory
from busstudio.viewer.frame_scrubber import FrameScrubber
from busstudio.viewer.image_view import ImageView
from busstudio.viewer.overlay import AnnotationOverlay
from busstudio.workers import WorkerRunner
from engine.settings import sample_study_path

qt_compat.guard_none_refcount()

WINDOW_SIZE = (1280, 800)
READER_STUDY_KEY = "reader_study/folder"
IMAGE_FILTER = "Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)"
_log = get_logger("main")


class MainWindow(QMainWindow):
    def __init__(self, qsettings: QSettings | None = None):
        super().__init__()
        self.qsettings = qsettings if qsettings is not None else QSettings()
        self.settings: AppSettings = load_settings(self.qsettings)
        self.setWindowTitle("BUS Studio")
        self.resize(*WINDOW_SIZE)
        self.image = ImageModel()
        self.annotations = AnnotationModel()
        self.undo_stack = QUndoStack(self)
        self.history = UndoHistory(self.undo_stack)
        self.workers = WorkerRunner(self)
        self.measurements = MeasurementCache(self.image)

        self.view = ImageView(self.image, self)
        self.overlay = AnnotationOverlay(self.annotations, self.measurements)
        self.view.scene().addItem(self.overlay)
        self.view.zoom_changed.connect(self.overlay.set_view_scale)
        self.description = DescriptionModel()
        self.tools = {
            "navigate": None,
            "contour": ContourTool(self.annotations, self.history),
            "suggest": SuggestTool(
                self.annotations,
                self.history,
                lambda: (self.description.description, self.description.text),
                lambda: self.image.calibration,
            ),
            "segment": ClickSegmentTool(self.annotations, self.history, self._current_gray),
        }
        self.snapping = EdgeSnapping(self._current_gray, self.annotations.tell)
        self.scrubber = FrameScrubber(self.image, self)
        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.scrubber)
        self.setCentralWidget(central)

        self.readout_label = QLabel("", self)
        self.statusBar().addWidget(self.readout_label, 1)
        self.snapping_label = QLabel("", self)  # the edge aids that are on, with their tolerances
        self.snapping_label.setToolTip("Edge snapping (E) and livewire (W) tolerances in pixels")
        self.statusBar().addPermanentWidget(self.snapping_label)
        self.propagation = PropagationProgress(self.annotations, self.history, self.workers, self)
        self.propagation.failed.connect(lambda exc: show_error(self, exc))
        self.statusBar().addPermanentWidget(self.propagation)
        self.view.cursor_moved.connect(self._show_readout)
        self.image.events.study.connect(lambda **_: self._on_study())
        self.image.events.frame.connect(lambda index: self._on_frame(index))
        self.annotations.events.message.connect(lambda text: self.statusBar().showMessage(text, 5000))

        self.lesion_panel = LesionPanel(self.annotations, self.image, self.measurements, self)
        self.attribute_panel = AttributePanel(self.description, self)
        self.generate_panel = GeneratePanel(
            self.annotations, self.image, self.workers, lambda: self.settings, self
        )
        self.generate_panel.failed.connect(lambda exc: show_error(self, exc))
        self.generate_panel.backend.setCurrentText(self.settings.backend)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.lesion_panel, "Lesions")
        self.tabs.addTab(self.attribute_panel, "Describe")
        self.tabs.addTab(self.generate_panel, "Generate")
        self.right_dock = QDockWidget("Lesion", self)
        self.right_dock.setObjectName("lesionDock")
        self.right_dock.setWidget(self.tabs)
        self.right_dock.setTitleBarWidget(QWidget(self.right_dock))
        self.right_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.right_dock.setMinimumWidth(340)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.right_dock)

        self.browser = StudyBrowser(self.workers, self)
        self.browser.open_requested.connect(lambda path: self._guarded(lambda: self.open_path(path)))
        self.browser.failed.connect(lambda exc: show_error(self, exc))
        self.left_dock = QDockWidget("Studies", self)
        self.left_dock.setObjectName("studyDock")
        self.left_dock.setWidget(self.browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.left_dock)
        self.left_dock.hide()

        self.image.events.display.connect(
            lambda **_: self.overlay.set_muted(self.image.substitute is not None)
        )
        self.annotations.events.current.connect(lambda lesion: self._load_description(lesion))
        self.annotations.events.lesions.connect(
            lambda **_: self._load_description(self.annotations.current, True)
        )
        self.description.events.changed.connect(self._description_edited)

        self.actions: dict[str, QAction] = {}
        self.reader_window = None
        self._build_actions()
        self._build_menus_and_toolbar()

    # actions ---------------------------------------------------------------------------------------
    def _handlers(self) -> dict:
        return {
            "open_file": self.on_open_file,
            "open_folder": self.on_open_folder,
            "undo": self.undo_stack.undo,
            "redo": self.undo_stack.redo,
            "tool_navigate": lambda: self.set_tool("navigate"),
            "tool_contour": lambda: self.set_tool("contour"),
            "tool_suggest": lambda: self.set_tool("suggest"),
            "tool_segment": lambda: self.set_tool("segment"),
            "toggle_snapping": self.on_toggle_snapping,
            "toggle_livewire": self.on_toggle_livewire,
            "propagate": self.on_propagate,
            "open_session": self.on_open_session,
            "save_session": self.on_save_session,
            "export": self.on_export,
            "generate": lambda: self.generate_panel.start(),
            "compare_flicker": self.on_flicker,
            "new_lesion": self.on_new_lesion,
            "delete_points": lambda: self.tools["contour"].delete_selected(),
            "select_all_points": lambda: self.tools["contour"].select_all(),
            "cancel": self.on_cancel,
            "next_frame": lambda: self.scrubber.step(1),
            "previous_frame": lambda: self.scrubber.step(-1),
            "play": self.scrubber.toggle,
            "fit": self.view.fit,
            "zoom_in": lambda: self.view.zoom(ImageView.ZOOM_STEP),
            "zoom_out": lambda: self.view.zoom(1 / ImageView.ZOOM_STEP),
            "reset_window_level": lambda: self.image.set_window_level(FULL_RANGE),
            "reader_study": self.on_reader_study,
            "settings": self.on_settings,
            "help": self.on_help,
            "quit": self.close,
        }

    def _build_actions(self) -> None:
        handlers = self._handlers()
        for shortcut in SHORTCUTS:
            handler = handlers.get(shortcut.action)
            if handler is None:
                continue
            action = QAction(shortcut.text, self)
            action.setShortcut(QKeySequence(shortcut.keys))
            action.setToolTip(f"{shortcut.description} ({shortcut.keys})")
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda checked=False, h=handler: self._guarded(h))
            self.addAction(action)
            self.actions[shortcut.action] = action
        self.actions["undo"].setEnabled(False)
        self.actions["redo"].setEnabled(False)
        self.undo_stack.canUndoChanged.connect(self.actions["undo"].setEnabled)
        self.undo_stack.canRedoChanged.connect(self.actions["redo"].setEnabled)
        self.tool_group = QActionGroup(self)
        for name in ("tool_navigate", "tool_contour", "tool_suggest", "tool_segment"):
            if name in self.actions:
                self.actions[name].setCheckable(True)
                self.tool_group.addAction(self.actions[name])
        self.actions["tool_navigate"].setChecked(True)
        self.sample_action = QAction("Open sample study", self)
        self.sample_action.triggered.connect(lambda: self._guarded(self.open_sample))

    def _build_menus_and_toolbar(self) -> None:
        a = self.actions
        menus = {
            "&File": [
                "open_file",
                "open_folder",
                None,
                "open_session",
                "save_session",
                "export",
                None,
                "reader_study",
                None,
                "settings",
                None,
                "quit",
            ],
            "&Edit": ["undo", "redo", None, "new_lesion", "delete_points", "select_all_points"],
            "&View": [
                "fit",
                "zoom_in",
                "zoom_out",
                "reset_window_level",
                None,
                "previous_frame",
                "next_frame",
                "play",
            ],
            "&Tools": [
                "tool_navigate",
                "tool_contour",
                "tool_suggest",
                "tool_segment",
                "toggle_snapping",
                "toggle_livewire",
                "propagate",
                None,
                "generate",
                "cancel",
                "compare_flicker",
            ],
            "&Help": ["help"],
        }
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            if title == "&File":
                menu.addAction(self.sample_action)
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name in a:
                    menu.addAction(a[name])
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        for name in (
            "open_file",
            "open_folder",
            "save_session",
            "export",
            None,
            "undo",
            "redo",
            None,
            "tool_navigate",
            "tool_contour",
            "tool_suggest",
            "tool_segment",
            None,
            "generate",
        ):
            if name is None:
                bar.addSeparator()
            elif name in a:
                bar.addAction(a[name])
        bar.addSeparator()
        bar.addWidget(QLabel(" Window/level ", bar))
        self.preset_combo = QComboBox(bar)
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.setToolTip("Window/level presets; right-drag on the image adjusts freely")
        self.preset_combo.activated.connect(
            lambda i: self.image.set_window_level(PRESETS[self.preset_combo.itemText(i)])
        )
        bar.addWidget(self.preset_combo)
        self.addToolBar(bar)
        self.toolbar = bar

    def _current_gray(self):
        """The gray frame shown now (assisted annotation works on it), or None."""
        return None if self.image.current is None else self.image.current.gray

    def on_toggle_snapping(self) -> None:
        on = self.snapping.toggle()
        self.tools["contour"].snapper = self.snapping if on else None
        self.snapping_label.setText(self.snapping.state_text())

    def on_toggle_livewire(self) -> None:
        on = self.snapping.toggle_livewire()
        self.tools["contour"].livewire = self.snapping if on else None
        self.snapping_label.setText(self.snapping.state_text())

    def on_propagate(self):
        """Propagate the current lesion through the loop in a worker (progress and Cancel in the status bar)."""
        study = self.image.study
        if study is None:
            return None
        return self.propagation.start(study.n_frames, frame_reader(study, self.image.path))

    def _guarded(self, handler) -> None:
        """Run a UI action; a failure becomes an error dialog, never a crash."""
        try:
            handler()
        except Exception as exc:
            show_error(self, exc)

    # opening ---------------------------------------------------------------------------------------
    def open_path(self, path: str | os.PathLike, frame: int = 0):
        """Open a file in the viewer, or a folder in the study browser (returns the scan's worker)."""
        path = Path(path)
        if path.is_dir():
            return self.open_folder(path)
        study = engine_parts.open_study(path)
        self.image.set_study(study, path, frame=frame)
        _log.info("opened %s (%d frames)", path, study.n_frames)
        return None

    def open_folder(self, folder: Path):
        """Show the folder in the study browser (scanned off the UI thread); double-click opens a file."""
        self.left_dock.show()
        return self.browser.scan(folder)

    def open_sample(self) -> None:
        self.open_path(sample_study_path())

    def on_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a study", str(self.settings.data_root), IMAGE_FILTER
        )
        if path:
            self.open_path(path)

    def on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder", str(self.settings.data_root))
        if folder:
            self.open_path(folder)

    def _on_study(self) -> None:
        name = self.image.path.name if self.image.path else "image"
        self.setWindowTitle(f"{name} — BUS Studio")
        self.preset_combo.setCurrentIndex(0)
        self.image.set_window_level(FULL_RANGE)
        self.undo_stack.clear()
        self.annotations.clear()
        self.description.load(None, "")
        self.annotations.frame = -1  # the study's first frame event sets it

    def _on_frame(self, index: int) -> None:
        h, w = self.image.shape
        self.overlay.set_image_size(w, h)
        self.annotations.set_frame(index)

    def _show_readout(self, x: float, y: float) -> None:
        r = self.image.readout(x, y)
        self.readout_label.setText("" if r is None else r.text())

    # tools -----------------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if self.view.tool is not None:
            self.view.tool.cancel()
        self.view.tool = self.tools[name]
        self.actions[f"tool_{name}"].setChecked(True)
        cursor = Qt.CursorShape.CrossCursor if self.view.tool is not None else Qt.CursorShape.ArrowCursor
        self.view.viewport().setCursor(cursor)
        hints = {
            "navigate": "Drag to pan, wheel to zoom, right-drag for window/level.",
            "contour": "Click to place points; click the first point or double-click to close. "
            "Ctrl+click inserts, Shift+click removes, drag on empty space box-selects.",
            "suggest": "Choose attributes in Describe, then click where the lesion should be.",
        }
        self.statusBar().showMessage(hints.get(name, ""), 8000)

    # description <-> current lesion ------------------------------------------------------------------
    def _load_description(self, lesion, only_if_changed: bool = False) -> None:
        if lesion is None:
            return
        if only_if_changed and (lesion.description, lesion.text) == (
            self.description.description if lesion.description is not None else None,
            self.description.text,
        ):
            return
        self.description.load(lesion.description, lesion.text)

    def _description_edited(self, source: str) -> None:
        lesion = self.annotations.current
        if source == "load" or lesion is None:
            return
        after = (self.description.description, self.description.text)
        before = (lesion.description, lesion.text)
        if after != before:
            self.history.push(SetDescription(self.annotations, lesion.id, before, after))

    # session, export, compare ----------------------------------------------------------------------
    def session(self):
        from busstudio.models.session import Session

        wl = self.image.window_level
        return Session(
            self.image.path, self.image.frame_index, list(self.annotations.lesions), (wl.window, wl.level)
        )

    def save_session_to(self, path) -> Path:
        from busstudio.models.session import save_session

        out = save_session(self.session(), path)
        self.statusBar().showMessage(f"Session saved to {out}", 8000)
        return out

    def load_session_from(self, path) -> None:
        from busstudio.models.session import load_session
        from busstudio.models.window_level import WindowLevel
        from engine.language.description import LesionDescription

        contour_cls = engine_parts.contour_spline().Contour
        session = load_session(path, contour_cls, LesionDescription)
        if session.image_path is None:
            from engine.errors import InputError

            raise InputError(f"session {path} names no image")
        self.open_path(session.image_path, frame=session.frame)
        for lesion in session.lesions:
            self.annotations.add_lesion(lesion)
        on = self.annotations.on_frame()
        self.annotations.set_current(on[0].id if on else None)
        self.image.set_window_level(WindowLevel(*session.window_level))
        self.generate_panel.refresh_gallery()

    def export_to(self, folder, deidentify: bool | None = None):
        from busstudio.models.export import export_study
        from engine.errors import InputError

        lesion = self.annotations.current
        if lesion is None:
            raise InputError("no lesion is selected; select the lesion whose result you want to export")
        deid = self.settings.deidentify if deidentify is None else deidentify
        files = export_study(
            self.image.study, lesion, folder, deidentify=deid, uid_root=self.settings.uid_root
        )
        self.statusBar().showMessage(f"Exported {files.image.name}, SEG, SR and PNGs to {folder}", 10000)
        return files

    def on_open_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a session", "", "BUS Studio session (*.json)")
        if path:
            self.load_session_from(path)

    def on_save_session(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the session", "session.json", "BUS Studio session (*.json)"
        )
        if path:
            self.save_session_to(path)

    def on_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the kept result to a folder")
        if folder:
            self.export_to(folder)

    def on_flicker(self) -> None:
        self.tabs.setCurrentWidget(self.generate_panel)
        combo = self.generate_panel.compare_mode
        combo.setCurrentText("side by side" if combo.currentText() == "flicker" else "flicker")

    def on_new_lesion(self) -> None:
        self.set_tool("contour")
        self.annotations.set_current(None)
        self.statusBar().showMessage("Click on the image to place the first point of the new lesion.", 8000)

    def on_cancel(self) -> None:
        if self.workers.running:
            self.workers.cancel_all()
        elif self.view.tool is not None:
            self.view.tool.cancel()

    # dialogs ---------------------------------------------------------------------------------------
    def on_settings(self) -> None:
        from busstudio.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        dialog.setObjectName("settingsDialog")

        def accepted():
            self._guarded(lambda: self._apply_settings(dialog.value()))

        dialog.accepted.connect(accepted)
        dialog.open()

    def on_reader_study(self) -> None:
        from busstudio.panels.reader_study_start import ReaderStudyStartDialog

        dialog = ReaderStudyStartDialog(str(self.qsettings.value(READER_STUDY_KEY, "")), self)
        dialog.setObjectName("readerStudyDialog")
        dialog.accepted.connect(lambda: self._guarded(lambda: self.open_reader_study(*dialog.value())))
        dialog.open()

    def open_reader_study(self, study_dir, reader: str, clock=None):
        """Hide the main window (nothing of it should sit beside the images) and show the study's."""
        import time

        from busstudio.panels.reader_study_view import ReaderStudyWindow

        reader_window = ReaderStudyWindow(study_dir, reader, clock=clock or time.monotonic)
        self.qsettings.setValue(READER_STUDY_KEY, str(study_dir))
        self.reader_window = reader_window
        reader_window.closed.connect(self._reader_study_closed)
        self.hide()
        reader_window.showMaximized()
        return reader_window

    def _reader_study_closed(self) -> None:
        self.reader_window = None
        self.show()

    def _apply_settings(self, settings: AppSettings) -> None:
        self.settings = save_settings(settings, self.qsettings)

    def on_help(self) -> None:
        from busstudio.help_dialog import HelpDialog

        dialog = HelpDialog(self)
        dialog.setObjectName("helpDialog")
        dialog.open()

    def warm_up_worker_process(self):
        """Start the generation process in the background (see busstudio.process_pool.warm_up)."""
        from busstudio import process_pool
        from busstudio.workers import Worker

        return self.workers.start(Worker(lambda progress, cancelled: process_pool.warm_up(), "warm-up"))

    def closeEvent(self, event):
        self.workers.cancel_all()
        self.workers.wait(5000)
        super().closeEvent(event)


def save_screenshot(window: QMainWindow, out: Path) -> Path:
    """Render the window at 1280x800 and write a PNG atomically."""
    app = QApplication.instance()
    window.resize(*WINDOW_SIZE)
    window.show()
    for _ in range(5):
        app.processEvents()
    pixmap = window.grab()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from engine.errors import InputError
    from engine.fileio import atomic_write

    def save(tmp: Path) -> None:
        if not pixmap.save(str(tmp), "PNG"):
            raise InputError(f"cannot write the screenshot to {out}")

    return atomic_write(out, save)


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName("BUS Studio")
    app.setApplicationName("BUS Studio")
    return app


def create_window(args, qsettings: QSettings | None = None) -> MainWindow:
    """The main window for the command line's arguments: opens PATH, or the sample study on first run."""
    make_application()
    log = setup_logging()
    _log.info("BUS Studio starting; log file %s", log)
    window = MainWindow(qsettings)
    install_excepthook(lambda: window)
    if args.path:
        try:
            window.open_path(args.path, frame=args.frame)
        except Exception as exc:
            if args.screenshot:
                raise
            show_error(window, exc)
    elif is_first_run(window.qsettings):
        window._guarded(window.open_sample)
        mark_first_run_done(window.qsettings)
    return window


def run(args) -> int:
    """Entry point called by busstudio.app with its parsed arguments (path, --screenshot, --frame)."""
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    from engine.errors import BusError

    try:
        window = create_window(args)
    except BusError as exc:
        print(f"busstudio: error: {exc}", file=sys.stderr)
        return 1
    if args.screenshot:
        save_screenshot(window, Path(args.screenshot))
        print(args.screenshot)
        return 0
    window.show()
    window.warm_up_worker_process()
    try:
        return app.exec()
    finally:
        from busstudio.process_pool import shutdown_pool

        shutdown_pool()
