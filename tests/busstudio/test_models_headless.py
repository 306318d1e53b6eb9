"""The Qt-free models: window/level, image model events and the cursor readout."""

from __future__ import annotations

import numpy as np
import pytest

from busstudio.events import EventGroup
from busstudio.models.image_model import ImageModel, mm_position
from busstudio.models.window_level import FULL_RANGE, PRESETS, WindowLevel, drag_window_level


def test_full_range_is_identity_and_narrow_window_stretches():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert FULL_RANGE.apply(img) is img
    narrow = WindowLevel(window=100, level=100).apply(img)
    assert narrow[0, 0] == 0 and narrow.flat[49] == 0  # below level - w/2 = 50 is black
    assert narrow.flat[150] == 255 and narrow.flat[255] == 255
    assert 120 <= narrow.flat[100] <= 135  # the level maps to mid-gray


def test_window_level_applies_to_colour_per_channel():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 200
    out = PRESETS["Dark lesions"].apply(rgb)
    assert out.shape == rgb.shape and out[0, 0, 0] == 255 and out[0, 0, 1] == 0


def test_drag_widens_and_raises_and_clamps():
    wl = drag_window_level(FULL_RANGE, dx=40, dy=-20)
    assert wl.window == pytest.approx(296) and wl.level == pytest.approx(107.5)
    assert drag_window_level(FULL_RANGE, dx=-10_000, dy=0).window == 1.0


def test_event_group_emits_and_blocks():
    got = []
    events = EventGroup("changed")
    events.changed.connect(lambda value: got.append(value))
    events.changed.emit(value=1)
    with events.changed.blocker():
        events.changed.emit(value=2)
    assert got == [1]


def test_image_model_emits_frame_and_window_level_events():
    model = ImageModel()
    seen = []
    model.events.study.connect(lambda study: seen.append("study"))
    model.events.frame.connect(lambda index: seen.append(("frame", index)))
    model.events.window_level.connect(lambda window_level: seen.append("wl"))
    gray = np.full((30, 40), 7, np.uint8)
    model.set_array(gray)
    assert seen == ["study", ("frame", 0)]
    model.set_window_level(WindowLevel(50, 20))
    assert seen[-1] == "wl"
    assert model.display_image()[0, 0] == model.window_level.lut()[7]
    assert model.readout(39.9, 29.9).gray == 7
    assert model.readout(40, 0) is None and model.readout(-0.5, 3) is None


def test_mm_only_inside_a_calibrated_region():
    from engine.dicom import Calibration, Region

    region = Region(
        0,
        x0=10,
        y0=20,
        x1=109,
        y1=219,
        spatial_format=1,
        data_type=1,
        units_x=3,
        units_y=3,
        delta_x=0.01,
        delta_y=0.02,
        reference_x0=50,
        reference_y0=0,
    )
    doppler = Region(
        1,
        x0=0,
        y0=230,
        x1=199,
        y1=299,
        spatial_format=4,
        data_type=3,
        units_x=4,
        units_y=0,
        delta_x=0.005,
        delta_y=0.0,
    )
    cal = Calibration(regions=(region, doppler))
    assert mm_position(cal, 60, 20) == pytest.approx((0.0, 0.0))  # the reference pixel
    assert mm_position(cal, 70, 120) == pytest.approx((1.0, 20.0))  # 0.1 mm/px in x, 0.2 in y
    assert mm_position(cal, 5, 5) is None  # outside every region
    assert mm_position(cal, 50, 250) is None  # inside the waveform region: seconds, not mm
    model = ImageModel()
    model.set_array(np.zeros((300, 200), np.uint8), calibration=cal)
    assert "mm" in model.readout(70, 120).text() and model.readout(70, 120).mm is not None
    assert model.readout(50, 250).mm is None
    assert "not in a calibrated region" in model.readout(50, 250).text()
