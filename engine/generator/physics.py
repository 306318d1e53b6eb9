"""The physics draft: insert a lesion into real tissue by the acoustics a radiologist reads.

No learning. Inside the mask the tissue is replaced by new speckle whose statistics (grain size
along x and y, log-amplitude spread) are measured on the real speckle around the lesion, at a mean
echogenicity relative to the local background set by the echo pattern, with low-frequency
heterogeneity for heterogeneous and complex patterns. The margin class sets how sharply the lesion
blends into the tissue (a soft mask from the mask generator overrides it); spicules are drawn for a
spiculated margin; a halo adds an echogenic rim; posterior shadowing or enhancement scales the
columns below the lesion. Everything random comes from one seeded generator.

It is a baseline of its own (`--method physics`) and the start of the diffusion sampler (SDEdit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.errors import InputError
from engine.generator.window import Window, choose_window, feather_weight, generation_region
from engine.language.description import LesionDescription
from engine.language.lexicon import (
    Calcifications,
    EchoPattern,
    MarginSubtype,
    PosteriorFeatures,
)

# Mean lesion amplitude over the local background amplitude (B-mode, after log compression the
# scanner applies: these are display-level ratios read off typical images).
ECHO_RATIO = {
    EchoPattern.ANECHOIC: 0.07,
    EchoPattern.HYPOECHOIC: 0.45,
    EchoPattern.ISOECHOIC: 0.95,
    EchoPattern.HYPERECHOIC: 1.55,
    EchoPattern.HETEROGENEOUS: 0.6,
    EchoPattern.COMPLEX_CYSTIC_SOLID: 0.55,
}
# Log-amplitude std of the low-frequency modulation inside the lesion.
HETEROGENEITY = {
    EchoPattern.ANECHOIC: 0.05,
    EchoPattern.HYPOECHOIC: 0.15,
    EchoPattern.ISOECHOIC: 0.12,
    EchoPattern.HYPERECHOIC: 0.15,
    EchoPattern.HETEROGENEOUS: 0.45,
    EchoPattern.COMPLEX_CYSTIC_SOLID: 0.3,
}
# Width of the lesion-to-tissue transition as a fraction of the lesion size.
MARGIN_BLUR = {
    "circumscribed": 0.008,
    MarginSubtype.ANGULAR: 0.02,
    MarginSubtype.MICROLOBULATED: 0.02,
    MarginSubtype.SPICULATED: 0.025,
    MarginSubtype.INDISTINCT: 0.07,
}
DEFAULT_MARGIN_BLUR = 0.03


@dataclass(frozen=True)
class SpeckleStats:
    """Measured on the real background: grain sigma along x and y (px) and log-amplitude std."""

    sigma_x: float
    sigma_y: float
    log_std: float
    background: float  # median background amplitude (0-255)


def margin_blur(description: LesionDescription) -> float:
    margin = description.margin
    if margin is None:
        return DEFAULT_MARGIN_BLUR
    if margin.circumscribed:
        return MARGIN_BLUR["circumscribed"]
    sub = margin.most_suspicious
    return MARGIN_BLUR.get(sub, 0.05) if sub else 0.05


def _ring(mask: np.ndarray, inner: int, outer: int) -> np.ndarray:
    grown_out = ndimage.binary_dilation(mask, iterations=max(outer, 1))
    grown_in = ndimage.binary_dilation(mask, iterations=max(inner, 1)) if inner > 0 else mask
    return grown_out & ~grown_in


def _half_width(profile: np.ndarray) -> float:
    """Distance (px) at which a normalised autocorrelation profile first drops below 1/e."""
    below = np.nonzero(profile < np.exp(-1.0))[0]
    return float(below[0]) if below.size else float(len(profile))


def measure_speckle(gray: np.ndarray, background: np.ndarray) -> SpeckleStats:
    """Grain size (from the autocorrelation of the normalised speckle) and spread, on `background`."""
    g = gray.astype(np.float64)
    if background.sum() < 32:
        raise InputError("too little tissue around the lesion to measure the speckle")
    local_mean = ndimage.gaussian_filter(g, 6.0) + 1.0
    speckle = np.where(background, g / local_mean - 1.0, 0.0)
    f = np.fft.fft2(speckle)
    ac = np.real(np.fft.ifft2(f * np.conj(f)))
    ac /= max(ac[0, 0], 1e-9)
    sx = _half_width(ac[0, : max(2, ac.shape[1] // 2)])
    sy = _half_width(ac[: max(2, ac.shape[0] // 2), 0])
    vals = g[background]
    # Spread of log(amplitude / local mean): the contrast the scanner's log compression left.
    logs = np.log((g / local_mean)[background & (g > 0)])
    return SpeckleStats(
        sigma_x=float(np.clip(sx / 1.4, 0.6, 8.0)),
        sigma_y=float(np.clip(sy / 1.4, 0.6, 8.0)),
        log_std=float(np.std(logs)) if logs.size > 8 else 0.4,
        background=float(np.median(vals)) if vals.size else 64.0,
    )


def speckle_around(gray: np.ndarray, mask: np.ndarray) -> SpeckleStats:
    """The speckle statistics of the tissue in a ring around the lesion (not touching it)."""
    ys, xs = np.nonzero(mask)
    size = float(max(np.ptp(ys), np.ptp(xs)) + 1)
    ring = _ring(mask, max(int(size * 0.08), 2), max(int(size * 0.5), 6)) & (gray > 2)
    return measure_speckle(gray, ring)


def rayleigh_speckle(shape, stats: SpeckleStats, rng: np.random.Generator) -> np.ndarray:
    """Fully developed speckle with the measured grain, mean 1: |PSF * complex white noise|."""
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    sig = (stats.sigma_y, stats.sigma_x)
    env = np.abs(ndimage.gaussian_filter(z.real, sig) + 1j * ndimage.gaussian_filter(z.imag, sig))
    env = env / max(env.mean(), 1e-9) + 1e-6
    # Match the measured log contrast (log compression flattens Rayleigh statistics).
    k = np.clip(stats.log_std / max(float(np.std(np.log(env))), 1e-6), 0.2, 1.5)
    env = env**k
    return env / max(env.mean(), 1e-9)


def _lowfreq(shape, scale: float, rng: np.random.Generator) -> np.ndarray:
    n = ndimage.gaussian_filter(rng.standard_normal(shape), max(scale, 1.0))
    return n / max(n.std(), 1e-9)


def _spicules(mask: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """Thin hypoechoic lines radiating from the boundary (alpha map in [0, 1])."""
    out = np.zeros(mask.shape, np.float32)
    edge = mask & ~ndimage.binary_erosion(mask)
    ys, xs = np.nonzero(edge)
    if ys.size == 0:
        return out
    cy, cx = ys.mean(), xs.mean()
    n = int(np.clip(size / 3, 6, 24))
    for i in rng.choice(ys.size, size=min(n, ys.size), replace=False):
        y, x = ys[i], xs[i]
        d = np.array([y - cy, x - cx], float)
        d /= max(np.hypot(*d), 1e-6)
        length = size * rng.uniform(0.12, 0.35)
        for t in np.linspace(0, length, int(length) + 2):
            py, px = int(round(y + d[0] * t)), int(round(x + d[1] * t))
            if 0 <= py < mask.shape[0] and 0 <= px < mask.shape[1]:
                out[py, px] = max(out[py, px], 1.0 - 0.7 * t / max(length, 1e-6))
    return np.clip(ndimage.gaussian_filter(out, 0.7) * 2.0, 0, 1)


def _posterior_factor(mask: np.ndarray, kind: PosteriorFeatures | None, size: float) -> np.ndarray:
    """Multiplicative gain for the columns below the lesion (1 = unchanged)."""
    factor = np.ones(mask.shape, np.float32)
    if kind is None or kind == PosteriorFeatures.NONE or not mask.any():
        return factor
    h, w = mask.shape
    thickness = mask.sum(axis=0).astype(np.float32)
    rows = np.arange(h)[:, None]
    bottom = np.where(mask.any(axis=0), h - 1 - np.argmax(mask[::-1], axis=0), -1)
    profile = ndimage.gaussian_filter1d(thickness / max(thickness.max(), 1.0), max(size * 0.05, 1.0))
    depth = rows - bottom[None, :]
    below = (depth > 0) & (bottom[None, :] >= 0)
    onset = 1.0 - np.exp(-np.clip(depth, 0, None) / max(size * 0.12, 1.0))
    # Fade out before the window's bottom so the effect never ends in a hard line.
    fade = np.clip((h - 1 - rows) / max(0.15 * h, 1.0), 0.0, 1.0)
    ramp = onset * fade * below
    if kind == PosteriorFeatures.SHADOWING:
        gain = -0.65 * profile[None, :]
    elif kind == PosteriorFeatures.ENHANCEMENT:
        gain = 0.55 * profile[None, :] * np.exp(-np.clip(depth, 0, None) / max(size * 1.5, 1.0))
    else:  # combined: enhancement behind the centre, edge shadows at the sides
        edges = np.clip(np.abs(np.gradient(profile)) * size * 0.8, 0, 1)
        gain = 0.45 * profile[None, :] - 0.8 * edges[None, :]
    # Smooth sideways so the effect has no hard vertical edge at the lesion's outer columns.
    effect = ndimage.gaussian_filter1d(gain * ramp, max(size * 0.06, 1.0), axis=1)
    return (1.0 + effect).astype(np.float32)


def draft_window(
    gray: np.ndarray,
    mask: np.ndarray,
    description: LesionDescription,
    rng: np.random.Generator,
    soft_mask: np.ndarray | None = None,
) -> np.ndarray:
    """The lesion drawn into a native-resolution window (float 0-255, same shape as `gray`)."""
    mask = mask.astype(bool)
    g = gray.astype(np.float64)
    ys, xs = np.nonzero(mask)
    size = float(max(np.ptp(ys), np.ptp(xs)) + 1)
    stats = speckle_around(gray, mask)
    echo = description.echo_pattern or EchoPattern.HYPOECHOIC
    hetero = _lowfreq(g.shape, size * 0.12, rng) * HETEROGENEITY[echo]
    mean_map = stats.background * ECHO_RATIO[echo] * np.exp(hetero)
    if echo == EchoPattern.COMPLEX_CYSTIC_SOLID:
        cystic = _lowfreq(g.shape, size * 0.15, rng) > 0.2
        mean_map = np.where(cystic, stats.background * ECHO_RATIO[EchoPattern.ANECHOIC], mean_map)
    speckle = rayleigh_speckle(g.shape, stats, rng)
    lesion = mean_map * speckle
    if description.calcifications == Calcifications.IN_MASS:
        inner = ndimage.binary_erosion(mask, iterations=2)
        iy, ix = np.nonzero(inner)
        if iy.size:
            dots = np.zeros_like(g)
            for i in rng.choice(iy.size, size=min(int(rng.integers(3, 9)), iy.size), replace=False):
                dots[iy[i], ix[i]] = 1.0
            dots = ndimage.gaussian_filter(dots, 0.8)
            lesion = lesion + 255.0 * np.clip(dots / max(dots.max(), 1e-9), 0, 1) * 0.8
    if soft_mask is not None:
        alpha = np.clip(soft_mask.astype(np.float64), 0, 1)
    else:
        alpha = ndimage.gaussian_filter(mask.astype(np.float64), max(size * margin_blur(description), 0.5))
    if description.margin is not None and MarginSubtype.SPICULATED in description.margin.subtypes:
        alpha = np.maximum(alpha, 0.6 * _spicules(mask, size, rng))
    out = g * (1.0 - alpha) + lesion * alpha
    if description.halo:
        halo = _ring(mask, 0, max(int(size * 0.07), 2)).astype(np.float64)
        out *= 1.0 + 0.5 * ndimage.gaussian_filter(halo, 1.0)
    out *= _posterior_factor(mask, description.posterior_features, size)
    return np.clip(out, 0.0, 255.0)


def physics_draft(
    frame: np.ndarray,
    mask: np.ndarray,
    description: LesionDescription,
    seed: int = 0,
    soft_mask: np.ndarray | None = None,
    window: Window | None = None,
) -> tuple[np.ndarray, Window]:
    """The whole frame with the lesion drawn in; pixels outside the generation region are the frame's own."""
    if frame.dtype != np.uint8 or frame.ndim != 2:
        raise InputError(f"the physics draft needs a uint8 grayscale frame, got {frame.dtype} {frame.shape}")
    if mask.shape != frame.shape:
        raise InputError(f"mask size {mask.shape[::-1]} differs from the frame {frame.shape[::-1]}")
    mask = mask.astype(bool)
    window = window or choose_window(mask)
    rng = np.random.default_rng(seed)
    sub_mask = mask[window.slices]
    sub_soft = soft_mask[window.slices] if soft_mask is not None else None
    drawn = draft_window(frame[window.slices], sub_mask, description, rng, sub_soft)
    size = max(window.width, window.height)
    band = max(size * 0.06, 2.0)
    weight = feather_weight(generation_region(sub_mask, band), band)
    original = frame[window.slices].astype(np.float64)
    blended = np.clip(np.rint(original * (1 - weight) + drawn * weight), 0, 255).astype(np.uint8)
    keep = weight <= 0
    blended[keep] = frame[window.slices][keep]
    out = frame.copy()
    out[window.slices] = blended
    return out, window
