"""Screenshots of the main workflows for the README, rendered offscreen at 1280x800.

    .venv/bin/python -m busstudio.screenshots [--out docs/screenshots]

Each picture is made by driving the real window the way a user would (tools, panels, worker), so the
screenshots double as a smoke test of the workflow.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _wait(app, done, timeout_s: float = 300) -> None:
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not finish in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _window(app):
    from PySide6.QtCore import QSettings

    from busstudio.main_window import MainWindow

    ini = Path(tempfile.mkdtemp(prefix="busstudio_shots_")) / "settings.ini"
    window = MainWindow(QSettings(str(ini), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    return window


def _click(window, x, y) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(
        window.view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        window.view.mapFromScene(float(x), float(y)),
    )


def shot_contour(app, out: Path) -> Path:
    from engine.settings import sample_study_path

    w = _window(app)
    w.open_path(sample_study_path())
    w.set_tool("contour")
    for x, y in [(210, 160), (265, 140), (320, 165), (335, 215), (300, 262), (240, 258), (200, 215)]:
        _click(w, x, y)
    _click(w, 210, 160)
    _click(w, 335, 215)  # select one point: its curvature handle shows
    _settle(app)
    from busstudio.main_window import save_screenshot

    return save_screenshot(w, out / "contour_editing.png")


def shot_describe_and_generate(app, out: Path) -> list[Path]:
    from busstudio.main_window import save_screenshot
    from engine.settings import sample_study_path

    w = _window(app)
    w.open_path(sample_study_path())
    w.tabs.setCurrentWidget(w.attribute_panel)
    w.attribute_panel.text.setPlainText(
        "irregular hypoechoic mass, not parallel, angular margin, posterior shadowing, 12 mm, palpable"
    )
    w.attribute_panel.apply_text()
    w.set_tool("suggest")
    _click(w, 260, 210)
    _settle(app)
    paths = [save_screenshot(w, out / "describe_and_suggest.png")]
    w.tabs.setCurrentWidget(w.generate_panel)
    w.generate_panel.variants.setValue(4)
    w.generate_panel.start()
    _wait(app, lambda: w.generate_panel.worker is None)
    w.generate_panel.compare_mode.setCurrentText("side by side")
    w.generate_panel.gallery.setCurrentRow(1)
    w.generate_panel.keep_selected()
    _settle(app)
    paths.append(save_screenshot(w, out / "generate_compare.png"))
    w.close()
    return paths


def shot_browser(app, out: Path) -> Path | None:
    from busstudio.main_window import save_screenshot
    from engine.settings import get_settings

    folder = get_settings().data_root / "dicom"
    if not folder.is_dir():
        print(f"skipped the study browser: {folder} not found", file=sys.stderr)
        return None
    w = _window(app)
    worker = w.open_path(folder)
    _wait(app, lambda: worker not in w.workers.running and w.browser.index is not None)
    w.open_path(folder / "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm", frame=5)
    _settle(app)
    return save_screenshot(w, out / "study_browser_cine.png")


def shot_reader_study(app, out: Path) -> Path:
    """The reader-study window on a demonstration study made in a temporary folder from the bundled
    sample frame (both "classes" are that frame: the picture shows the mode, not a real study)."""
    import numpy as np
    from PIL import Image

    from busstudio import engine_parts
    from busstudio.main_window import save_screenshot
    from engine.datasets.base import Case
    from engine.evaluation.reader_study import make_study
    from engine.settings import sample_study_path

    tmp = Path(tempfile.mkdtemp(prefix="busstudio_reader_"))
    gray = engine_parts.open_study(sample_study_path()).frame(0).gray
    mask = np.zeros(gray.shape, np.uint8)
    mask[gray.shape[0] // 3 : gray.shape[0] // 2, gray.shape[1] // 3 : gray.shape[1] // 2] = 255
    cases = []
    for i in range(4):
        Image.fromarray(gray).save(tmp / f"frame{i}.png")
        Image.fromarray(mask).save(tmp / f"frame{i}_mask.png")
        cases.append(
            Case("sample", f"f{i}", f"f{i}", tmp / f"frame{i}.png", (tmp / f"frame{i}_mask.png",), "benign")
        )
    study = make_study(cases[:2], cases[2:], tmp / "study", 2, seed=0, mode="full", size_px=512)
    w = _window(app)
    reader = w.open_reader_study(study, "Reader 1")
    reader.start()
    reader.choose("synthetic")
    reader.set_confidence(4)
    _settle(app)
    path = save_screenshot(reader, out / "reader_study.png")
    reader.close()
    w.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from busstudio.main_window import make_application
    from busstudio.process_pool import shutdown_pool

    app = make_application()
    try:
        made = [
            shot_contour(app, args.out),
            *shot_describe_and_generate(app, args.out),
            shot_browser(app, args.out),
            shot_reader_study(app, args.out),
        ]
    finally:
        shutdown_pool()
    for path in made:
        if path is not None:
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
