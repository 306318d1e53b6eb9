"""The local window a click or a box is segmented in, and the segmenter's two input channels.

A window is a square in image pixels (x0, y0, side) resampled to `px` x `px`; the same mapping
carries points back. The prior channel tells the model what the user gave: a Gaussian dot for a
click, a filled rectangle for a box. Training and inference both go through these functions, so
they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.errors import InputError

BOX_MARGIN = 0.25  # a box's window grows it by this fraction of its longer side on every side
CLICK_SIGMA = 0.06  # the click dot's sigma as a fraction of the window side


@dataclass(frozen=True)
class Window:
    x0: float
    y0: float
    side: float

    def to_window(self, points: np.ndarray, px: int) -> np.ndarray:
        return (np.asarray(points, float) - [self.x0, self.y0]) * (px / self.side)

    def to_image(self, points: np.ndarray, px: int) -> np.ndarray:
        return np.asarray(points, float) * (self.side / px) + [self.x0, self.y0]

    def matrix(self, px: int) -> np.ndarray:
        s = px / self.side
        return np.array([[s, 0, -self.x0 * s], [0, s, -self.y0 * s]], np.float64)

    def crop(self, image: np.ndarray, px: int) -> np.ndarray:
        """The window resampled to px x px (float32); outside the image is mirrored, which keeps the
        texture statistics. Shrinking blurs first so speckle does not alias."""
        scale = px / self.side
        src = image.astype(np.float32)
        if scale < 0.5:
            src = cv2.GaussianBlur(src, (0, 0), 0.5 / scale)
        return cv2.warpAffine(
            src, self.matrix(px), (px, px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )

    def paste(self, window_values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """Window values (px x px float) resampled back onto an image of `shape`, 0 outside."""
        px = window_values.shape[0]
        inverse = cv2.invertAffineTransform(self.matrix(px))
        return cv2.warpAffine(
            window_values.astype(np.float32),
            inverse,
            (shape[1], shape[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )


def box_window(box) -> Window:
    x0, y0, x1, y1 = check_box(box)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * BOX_MARGIN)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Window(cx - side / 2, cy - side / 2, side)


def click_window(x: float, y: float, side: float) -> Window:
    return Window(x - side / 2, y - side / 2, side)


def check_box(box) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 - x0 >= 2 and y1 - y0 >= 2):
        raise InputError(f"a box must be (x0, y0, x1, y1) with x1 > x0 + 2 and y1 > y0 + 2, got {tuple(box)}")
    return x0, y0, x1, y1


def click_prior(window: Window, x: float, y: float, px: int) -> np.ndarray:
    cx, cy = window.to_window([[x, y]], px)[0]
    yy, xx = np.mgrid[0:px, 0:px].astype(np.float32)
    sigma = CLICK_SIGMA * px
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def box_prior(window: Window, box, px: int) -> np.ndarray:
    (ax, ay), (bx, by) = window.to_window([box[:2], box[2:]], px)
    yy, xx = np.mgrid[0:px, 0:px].astype(np.float32) + 0.5
    return ((xx >= ax) & (xx <= bx) & (yy >= ay) & (yy <= by)).astype(np.float32)


def model_input(gray_window: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """(2, px, px) float32: the window's gray values standardized within the window, and the prior."""
    g = gray_window.astype(np.float32)
    g = (g - g.mean()) / max(float(g.std()), 1.0)
    return np.stack([g, prior.astype(np.float32)])
