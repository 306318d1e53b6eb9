"""BUS Studio responsiveness: the UI thread during a generation, and redraw while dragging a point.

1. Heartbeat: a 10 ms QTimer on the UI thread records the gap between its ticks while the app runs a
   physics-draft generation (8 variants) on a 1024x768 frame through the Generate panel's worker.
   Target: no gap over 100 ms. Baseline: the same timer with the app idle for the same time.
2. Drag redraw: one step of dragging a contour point on a 1024x768 frame with a 40-point lesion: the
   tool's move, then Qt processing the update (it repaints the region the overlay marked dirty).
   Target: under 16 ms. Baseline: a forced repaint of the whole view without an edit.

Run: .venv/bin/python -m benchmarks bench_app_ui   (offscreen; QT_QPA_PLATFORM is set here)
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

W, H = 1024, 768


def _window():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    from PySide6.QtCore import QSettings

    from busstudio.main_window import MainWindow, make_application

    app = make_application()
    ini = os.path.join(tempfile.mkdtemp(prefix="bench_app_"), "settings.ini")
    window = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    return app, window


def _frame(seed: int = 0):
    from engine.dicom import Calibration

    rng = np.random.default_rng(seed)
    gray = np.clip(rng.rayleigh(45, (H, W)), 0, 255).astype(np.uint8)
    return gray, Calibration.uniform(0.08)


def _lesion(window, n_points: int = 40):
    from busstudio.models.annotations import Lesion
    from engine.contour.spline import Contour

    t = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    pts = np.stack([W / 2 + 120 * np.cos(t), H / 2 + 80 * np.sin(t)], axis=1)
    lesion = Lesion(window.annotations.new_id(), window.annotations.frame, Contour(pts))
    window.annotations.add_lesion(lesion)
    return window.annotations.get(lesion.id)


def _heartbeat(app, seconds_or_until, interval_ms: int = 10) -> list[float]:
    from PySide6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    start = time.perf_counter()
    while True:
        app.processEvents()
        time.sleep(0.001)
        if callable(seconds_or_until):
            if seconds_or_until():
                break
        elif time.perf_counter() - start >= seconds_or_until:
            break
    timer.stop()
    return [1000 * (b - a) for a, b in zip(ticks, ticks[1:], strict=False)]


def bench_heartbeat(app, window) -> None:
    warm = window.warm_up_worker_process()  # as the app does at start
    started = time.perf_counter()
    startup_gaps = _heartbeat(app, lambda: warm not in window.workers.running)
    print(
        f"worker process warm-up at start: {time.perf_counter() - started:.2f} s, "
        f"UI gap max {max(startup_gaps):.1f} ms"
    )
    gray, cal = _frame()
    window.image.set_array(gray, calibration=cal)
    _lesion(window)
    panel = window.generate_panel
    panel.method.setCurrentText("physics")
    panel.variants.setValue(8)
    started = time.perf_counter()
    panel.start()
    gaps = _heartbeat(app, lambda: panel.worker is None)
    busy_s = time.perf_counter() - started
    idle = _heartbeat(app, busy_s)
    n = len(window.annotations.current.results)
    print(f"generation: {n} physics variants on {W}x{H} in {busy_s:.2f} s, heartbeat 10 ms")
    print(
        f"  UI gap during generation: max {max(gaps):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, "
        f"median {statistics.median(gaps):.1f} ms ({len(gaps)} ticks)  target max < 100 ms"
    )
    print(
        f"  UI gap idle (baseline):   max {max(idle):.1f} ms, p99 {np.percentile(idle, 99):.1f} ms, "
        f"median {statistics.median(idle):.1f} ms ({len(idle)} ticks)"
    )
    print(f"  ratio max gap generation/idle: {max(gaps) / max(idle):.2f}x")


def bench_drag(app, window, steps: int = 120) -> None:
    from busstudio.bindings.pointer import Pointer

    gray, cal = _frame(1)
    window.image.set_array(gray, calibration=cal)
    window.set_tool("contour")
    lesion = _lesion(window)
    tool = window.tools["contour"]
    viewport = window.view.viewport()
    scale = window.view.scale_factor()
    x0, y0 = lesion.contour.points[0]
    app.processEvents()
    viewport.repaint()
    base = []
    for _ in range(steps):
        t = time.perf_counter()
        viewport.repaint()
        base.append(1000 * (time.perf_counter() - t))
    tool.press(Pointer(x0, y0, scale=scale))
    drag = []
    for k in range(steps):
        t = time.perf_counter()
        tool.move(Pointer(x0 + k * 0.7, y0 + k * 0.4, scale=scale))
        app.processEvents()  # the posted update request: Qt repaints the dirty region
        drag.append(1000 * (time.perf_counter() - t))
    tool.release(Pointer(x0 + steps * 0.7, y0 + steps * 0.4, scale=scale))
    med, p95 = statistics.median(drag), float(np.percentile(drag, 95))
    bmed = statistics.median(base)
    print(f"drag a point of a 40-point lesion on {W}x{H} (view at {scale:.2f}x), {steps} steps:")
    print(f"  move + redraw: median {med:.2f} ms, p95 {p95:.2f} ms, max {max(drag):.2f} ms  target < 16 ms")
    print(f"  whole-view repaint (baseline): median {bmed:.2f} ms")
    print(f"  ratio drag step / whole-view repaint: {med / bmed:.2f}x")


def main() -> None:
    app, window = _window()
    try:
        bench_drag(app, window)
        bench_heartbeat(app, window)
    finally:
        window.close()


if __name__ == "__main__":
    main()
