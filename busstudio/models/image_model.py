"""The image being viewed: study, current frame, window/level, and what lies under the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from busstudio.events import EventGroup
from busstudio.models.window_level import FULL_RANGE, WindowLevel


@dataclass(frozen=True)
class ArrayFrame:
    """A display frame held in memory (a generated result, a benchmark frame): same fields as engine.dicom's Frame."""

    gray: np.ndarray
    color: np.ndarray | None = None
    calibration: object | None = None


class ArrayStudy:
    """Frames held in memory, shaped like an engine.dicom study (n_frames, frame_time_ms, info, frame(i))."""

    def __init__(self, frames: list[ArrayFrame], frame_time_ms: float | None = None):
        self._frames = frames
        self.n_frames = len(frames)
        self.frame_time_ms = frame_time_ms
        self.info = None

    def frame(self, index: int) -> ArrayFrame:
        return self._frames[index]


@dataclass(frozen=True)
class Readout:
    """What lies under the cursor: pixel position, gray value, colour, and mm where calibrated."""

    x: int
    y: int
    gray: int
    rgb: tuple[int, int, int] | None
    mm: tuple[float, float] | None  # position in mm from the region's reference pixel

    def text(self) -> str:
        parts = [f"x {self.x}  y {self.y}", f"value {self.gray}"]
        if self.rgb is not None:
            parts.append("RGB {} {} {}".format(*self.rgb))
        parts.append(
            f"{self.mm[0]:.1f} mm, {self.mm[1]:.1f} mm" if self.mm else "no mm (not in a calibrated region)"
        )
        return "   ".join(parts)


def mm_position(calibration, x: float, y: float) -> tuple[float, float] | None:
    """Millimetres from the calibrated region's reference pixel (its origin when none), or None outside one."""
    if calibration is None:
        return None
    scale = calibration.at(x, y)
    if scale is None:
        return None
    ox = oy = 0.0
    region = scale.region
    if region is not None:
        ox = region.x0 + (region.reference_x0 or 0)
        oy = region.y0 + (region.reference_y0 or 0)
    return ((x - ox) * scale.mm_per_pixel_x, (y - oy) * scale.mm_per_pixel_y)


class ImageModel:
    """Events: `study` (a new study opened), `frame` (frame index changed), `window_level`."""

    def __init__(self):
        self.events = EventGroup("study", "frame", "window_level", "display")
        self.study = None
        self.path: Path | None = None
        self.frame_index = 0
        self.current = None
        self.window_level: WindowLevel = FULL_RANGE
        self.substitute: np.ndarray | None = None  # shown instead of the frame (a compare view)

    @property
    def is_empty(self) -> bool:
        return self.study is None

    @property
    def n_frames(self) -> int:
        return 0 if self.study is None else int(self.study.n_frames)

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self.current is None else self.current.gray.shape[:2]

    @property
    def calibration(self):
        return None if self.current is None else self.current.calibration

    def set_study(self, study, path: Path | None = None, frame: int = 0) -> None:
        if study.n_frames < 1:
            from engine.errors import InputError

            raise InputError(f"{path or 'the study'} holds no frames")
        self.study = study
        self.path = Path(path) if path is not None else None
        self.frame_index = -1
        self.substitute = None
        self.events.study.emit(study=study)
        self.set_frame(min(max(frame, 0), study.n_frames - 1))

    def set_array(self, gray: np.ndarray, color: np.ndarray | None = None, calibration=None) -> None:
        self.set_study(ArrayStudy([ArrayFrame(gray, color, calibration)]))

    def set_frame(self, index: int) -> None:
        if self.study is None:
            return
        index = min(max(int(index), 0), self.n_frames - 1)
        if index == self.frame_index:
            return
        self.current = self.study.frame(index)
        self.frame_index = index
        self.events.frame.emit(index=index)

    def set_window_level(self, wl: WindowLevel) -> None:
        wl = wl.clamped()
        if wl != self.window_level:
            self.window_level = wl
            self.events.window_level.emit(window_level=wl)

    def set_substitute(self, image: np.ndarray | None) -> None:
        """Show `image` (uint8) instead of the frame, e.g. a generated result; None shows the frame."""
        if image is self.substitute:
            return
        self.substitute = image
        self.events.display.emit()

    def display_image(self) -> np.ndarray | None:
        """The current frame as displayed: colour if the study has colour, window/level applied."""
        if self.current is None:
            return None
        if self.substitute is not None:
            return self.window_level.apply(self.substitute)
        src = self.current.color if self.current.color is not None else self.current.gray
        return self.window_level.apply(src)

    def readout(self, x: float, y: float) -> Readout | None:
        """The pixel under (x, y) in image coordinates, or None outside the image."""
        if self.current is None:
            return None
        h, w = self.current.gray.shape[:2]
        ix, iy = int(np.floor(x)), int(np.floor(y))
        if not (0 <= ix < w and 0 <= iy < h):
            return None
        rgb = None
        if self.current.color is not None:
            rgb = tuple(int(v) for v in self.current.color[iy, ix, :3])
        return Readout(ix, iy, int(self.current.gray[iy, ix]), rgb, mm_position(self.calibration, x, y))
