"""A simulated B-mode breast ultrasound frame (no patient data, no licence strings attached).

Layers from the probe down, as a radiologist reads them: skin (bright double line), subcutaneous fat
(dark lobules parted by bright Cooper's ligaments), fibroglandular tissue (bright, heterogeneous, with
dark ducts), retromammary fat, pectoralis muscle (striated) and the chest wall fascia. Speckle comes
from a complex Gaussian scatterer field convolved with an anisotropic point-spread function, then
envelope detection and log compression, which gives the Rayleigh statistics of real B-mode images.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class PhantomGeometry:
    rows: int = 480
    columns: int = 640
    mm_per_pixel: float = 0.1
    # The calibrated B-mode region (inclusive pixel bounds), as in a Sequence of Ultrasound Regions.
    region_x0: int = 70
    region_y0: int = 48
    region_x1: int = 569
    region_y1: int = 447

    @property
    def region_shape(self) -> tuple[int, int]:
        return self.region_y1 - self.region_y0 + 1, self.region_x1 - self.region_x0 + 1


def _smooth_profile(
    rng: np.random.Generator, width: int, mean_mm: float, amp_mm: float, mm_per_pixel: float
) -> np.ndarray:
    """A slowly wavy layer boundary (depth in pixels per column)."""
    noise = ndimage.gaussian_filter1d(rng.standard_normal(width), sigma=width / 10, mode="wrap")
    noise /= np.abs(noise).max() + 1e-9
    return (mean_mm + amp_mm * noise) / mm_per_pixel


def _echogenicity(rng: np.random.Generator, shape: tuple[int, int], mm: float) -> np.ndarray:
    """Mean backscatter of each tissue, 0 (anechoic) to 1 (bright), before speckle."""
    h, w = shape
    depth = np.arange(h)[:, None].astype(np.float32)
    skin = _smooth_profile(rng, w, 2.0, 0.2, mm)
    fat_end = _smooth_profile(rng, w, 10.0, 2.5, mm)
    gland_end = _smooth_profile(rng, w, 26.0, 3.0, mm)
    retro_end = _smooth_profile(rng, w, 30.0, 1.0, mm)
    muscle_end = _smooth_profile(rng, w, 37.0, 0.8, mm)

    e = np.full(shape, 0.15, np.float32)  # behind the chest wall
    e = np.where(depth < muscle_end, 0.45, e)
    e = np.where(depth < retro_end, 0.3, e)
    texture = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=(4, 10))
    texture /= texture.std() + 1e-9
    gland = np.clip(0.72 + 0.12 * texture, 0.35, 1.0)
    e = np.where(depth < gland_end, gland, e)
    e = np.where(depth < fat_end, 0.3, e)
    e = np.where(depth < skin, 0.9, e)
    e = np.where(np.abs(depth - skin) < 0.4 / mm, 1.0, e)  # dermis line

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Cooper's ligaments: thin bright arcs crossing the fat.
    for _ in range(7):
        cx, span, tilt = rng.uniform(0, w), rng.uniform(60, 160), rng.uniform(-0.5, 0.5)
        curve = (
            fat_end[np.clip(xx.astype(int), 0, w - 1)]
            - (1 - ((xx - cx) / span) ** 2) * 6 / mm
            + tilt * (xx - cx) / 10
        )
        band = (
            (np.abs(yy - curve) < 0.25 / mm)
            & (np.abs(xx - cx) < span)
            & (yy > skin[None, :] + 1)
            & (yy < fat_end[None, :])
        )
        e = np.where(band, 0.85, e)
    # Ducts: dark tubes running roughly parallel to the skin inside the gland.
    for _ in range(3):
        y0 = rng.uniform(14, 22) / mm
        slope, radius = rng.uniform(-0.08, 0.08), rng.uniform(0.6, 1.2) / mm
        x_start, x_len = rng.uniform(0, w * 0.6), rng.uniform(w * 0.2, w * 0.5)
        tube = (np.abs(yy - (y0 + slope * (xx - x_start))) < radius) & (xx > x_start) & (xx < x_start + x_len)
        e = np.where(tube & (yy < gland_end[None, :]), 0.12, e)
    # Pectoralis striations and the bright fascia at the chest wall.
    stripes = 0.5 + 0.5 * np.sin((yy + 0.15 * xx) * 2 * np.pi / (1.2 / mm))
    muscle = (yy >= retro_end[None, :]) & (yy < muscle_end[None, :])
    e = np.where(muscle, 0.35 + 0.3 * stripes**4, e)
    e = np.where(np.abs(yy - muscle_end[None, :]) < 0.5 / mm, 1.0, e)
    return ndimage.gaussian_filter(e, 0.7)


def _speckle_envelope(rng: np.random.Generator, echo: np.ndarray, mm: float) -> np.ndarray:
    # Echogenicity 0..1 spans about 35 dB of backscatter, the contrast between fat and gland on B-mode.
    amplitude = 10 ** ((echo - 1.0) * 35.0 / 20.0)
    scatter = (rng.standard_normal(echo.shape) + 1j * rng.standard_normal(echo.shape)) * amplitude
    # Axial resolution is finer than lateral on linear probes (about 0.2 mm vs 0.5 mm at 12 MHz).
    psf_axial, psf_lateral = 0.18 / mm, 0.45 / mm
    field = ndimage.gaussian_filter(scatter.real, (psf_axial, psf_lateral)) + 1j * ndimage.gaussian_filter(
        scatter.imag, (psf_axial, psf_lateral)
    )
    return np.abs(field)


def simulate_frame(seed: int = 20251130, geometry: PhantomGeometry | None = None) -> np.ndarray:
    """Return an 8-bit MONOCHROME2 frame (rows x columns) with the B-mode image inside the region."""
    g = geometry or PhantomGeometry()
    rng = np.random.default_rng(seed)
    h, w = g.region_shape
    echo = _echogenicity(rng, (h, w), g.mm_per_pixel)
    env = _speckle_envelope(rng, echo, g.mm_per_pixel)
    depth_mm = np.arange(h)[:, None] * g.mm_per_pixel
    env = env * np.exp(-0.012 * depth_mm)  # residual attenuation after time-gain compensation
    db = 20 * np.log10(env / np.percentile(env, 99.8) + 1e-6)
    dynamic_range = 48.0
    bmode = np.clip((db + dynamic_range) / dynamic_range, 0, 1) ** 1.6 * 255
    lateral = np.clip(np.minimum(np.arange(w), w - 1 - np.arange(w)) / 12.0, 0, 1)  # probe edge fall-off
    bmode = bmode * lateral[None, :]

    frame = np.zeros((g.rows, g.columns), np.uint8)
    frame[g.region_y0 : g.region_y1 + 1, g.region_x0 : g.region_x1 + 1] = np.round(bmode).astype(np.uint8)
    _burn_in_annotations(frame, g)
    return frame


def _burn_in_annotations(frame: np.ndarray, g: PhantomGeometry) -> None:
    """Scanner-style text and a depth scale outside the calibrated region, as real exports carry.

    They are there so that de-identification's Clean Pixel Data has something to blank.
    """
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(frame, "BUS STUDIO PHANTOM  L12-5  12 MHz", (8, 20), font, 0.5, 220, 1, cv2.LINE_AA)
    cv2.putText(frame, "SIMULATED - NOT A PATIENT", (8, 38), font, 0.45, 200, 1, cv2.LINE_AA)
    cv2.putText(frame, "LEFT BREAST 2:00", (8, g.rows - 12), font, 0.45, 200, 1, cv2.LINE_AA)
    x = g.region_x1 + 8
    for cm in range(0, 5):
        y = g.region_y0 + int(round(cm * 10 / g.mm_per_pixel))
        if y > g.region_y1:
            break
        cv2.line(frame, (x, y), (x + 8, y), 200, 1)
        cv2.putText(frame, str(cm), (x + 12, y + 5), font, 0.4, 200, 1, cv2.LINE_AA)
