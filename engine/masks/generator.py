"""Semantic-curvature mask generator: clinical attributes + seed -> Contour and mask.

The outline is a log-radius function around the centre, sampled at CONTROL_POINTS angles and joined
by the Kochanek-Bartels contour. Its harmonics 1..16 are drawn from the spectrum fitted to real
BrEaST outlines of the requested (shape, margin class) (engine.masks.priors): amplitudes log-normal
with the real covariance, random phases. So each BI-RADS term acts through the outline's curvature
spectrum as it does in real masks:

  shape        oval / round: the elongation (harmonic 2) and a quiet body; irregular: strong,
               asymmetric low harmonics (3-8)
  orientation  parallel: major axis near horizontal (wider than tall); not parallel: near vertical
  margin       circumscribed: a smooth spectrum; microlobulated: raised mid/high harmonics (small
               undulations); angular: the most prominent maxima become corners (tension 1);
               spiculated: narrow radial spikes (one tension-1 control point each) on a rough body;
               indistinct: its rough spectrum plus a soft, uncertain boundary band (GeneratedMask.soft)

Randomness comes only from numpy's PCG64 Generator seeded with the given seed, so the same seed gives
the same mask on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from engine.contour.spline import Contour, fill_polygon_fast, sample_closed
from engine.errors import InputError
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import MARGIN_SUSPICION, MarginSubtype, Orientation, Shape
from engine.masks.priors import MARGIN_CLASSES, Priors, load_priors

CONTROL_POINTS = 96  # control points of a generated outline (3 per harmonic of the log-radius)
RASTER_SAMPLES_PER_SEGMENT = 4  # ~1-2 px steps on a 150 px lesion: well under a pixel of chord error


@dataclass
class GeneratedMask:
    contour: Contour
    mask: np.ndarray  # bool (rows, cols)
    soft: np.ndarray | None  # float32 in [0, 1]: the indistinct margin's uncertain band, else None
    band_px: float  # width of that band in pixels (0 when the margin is not indistinct)
    description: LesionDescription  # the request with every free choice filled in


def margin_class(margin: Margin | None) -> str | None:
    """'circumscribed', the most suspicious subtype's value, or None when not given."""
    if margin is None:
        return None
    if margin.circumscribed:
        return "circumscribed"
    s = margin.most_suspicious
    return s.value if s is not None else None


def _draw_lognormal(rng: np.random.Generator, p: dict) -> float:
    return float(np.exp(rng.normal(p["log_mean"], p["log_sd"])))


def _complete(desc: LesionDescription, priors: Priors, rng: np.random.Generator) -> LesionDescription:
    """Fill in the attributes the request left open, drawn from the priors."""
    shape = desc.shape
    if shape is None:
        names = list(priors.shape_frequency)
        shape = Shape(names[rng.choice(len(names), p=_norm(priors.shape_frequency.values()))])
    margin = desc.margin
    if margin is None or (not margin.circumscribed and not margin.subtypes):
        freq = priors.margin_frequency[shape.value]
        if margin is not None:  # "not circumscribed", subtype not given
            freq = {k: v for k, v in freq.items() if k != "circumscribed"}
        names = list(freq)
        cls = names[rng.choice(len(names), p=_norm(freq.values()))]
        margin = Margin(True) if cls == "circumscribed" else Margin(False, frozenset({MarginSubtype(cls)}))
    orientation = desc.orientation
    if orientation is None:
        parallel = rng.random() < priors.parallel_fraction
        orientation = Orientation.PARALLEL if parallel else Orientation.NOT_PARALLEL
    size = desc.size_mm if desc.size_mm is not None else _draw_lognormal(rng, priors.size_mm)
    return replace(desc, shape=shape, orientation=orientation, margin=margin, size_mm=size)


def _norm(values) -> np.ndarray:
    v = np.asarray(list(values), float)
    return v / v.sum()


def _outline(desc: LesionDescription, priors: Priors, rng: np.random.Generator):
    """Unit-scale outline: (angles, log-radius, tensions) before orientation, plus the band width.

    The log-radius is a sum of SPECTRUM_HARMONICS harmonics whose amplitudes are drawn from the
    fitted distribution of real outlines of the same shape and margin class (log-normal with their
    covariance), with random phases; harmonic 2 is the elongation, its phase puts the major axis on
    the x axis so that orientation is a rotation."""
    cls = "circumscribed" if desc.margin.circumscribed else desc.margin.most_suspicious.value
    mean, chol = priors.spectrum(desc.shape.value, cls)
    k = mean.size
    amp = np.exp(mean + chol @ rng.normal(size=k))
    phase = rng.uniform(0, 2 * np.pi, k)
    phase[1] = 0.0
    if desc.perpendicular_mm:
        # exp(2 a2) is the ratio of the longest to the shortest radius of the elongation
        amp[1] = 0.5 * np.log(max(1.0, desc.size_mm / desc.perpendicular_mm))
    offset = rng.uniform(0, 2 * np.pi / CONTROL_POINTS)
    theta = np.linspace(-np.pi, np.pi, CONTROL_POINTS, endpoint=False) + offset
    # sum_k amp_k cos(k theta_j + phase_k) at the evenly spaced theta_j, as one inverse real FFT
    harmonics = np.arange(1, k + 1)
    spectrum = np.zeros(CONTROL_POINTS // 2 + 1, complex)
    spectrum[1 : k + 1] = 0.5 * CONTROL_POINTS * amp * np.exp(1j * (phase + harmonics * (offset - np.pi)))
    logr = np.fft.irfft(spectrum, CONTROL_POINTS)
    tension = np.zeros(CONTROL_POINTS)
    corners = priors.margins[cls].get("corners")
    if cls in ("angular", "spiculated") and corners:
        # corners / spike tips: the most prominent local maxima become curvature spikes (tension 1)
        ring = np.concatenate((logr[-2:], logr, logr[:2]))  # neighbours around the closed outline
        prev2, prev1, next1, next2 = ring[:-4], ring[1:-3], ring[3:-1], ring[4:]
        peak = (logr > prev1) & (logr >= next1)
        prominence = np.where(peak, logr - 0.5 * (prev2 + next2), -np.inf)
        n = int(rng.integers(corners[0], corners[1] + 1))
        tips = np.argsort(-prominence, kind="stable")[:n]
        tension[tips[np.isfinite(prominence[tips])]] = 1.0
    spikes = priors.margins[cls].get("spikes")
    if spikes:
        # spicules: narrow radial spikes, one control point each with a tension-1 tip
        n = int(rng.integers(spikes[0], spikes[1] + 1))
        tips = rng.choice(CONTROL_POINTS, size=n, replace=False)
        length = priors.margins[cls]["spike_len"] * rng.lognormal(0.0, 0.35, n)
        logr[tips] = np.log(np.exp(logr[tips]) + length)
        tension[tips] = 1.0
    indistinct = not desc.margin.circumscribed and MarginSubtype.INDISTINCT in desc.margin.subtypes
    band = priors.margins["indistinct"]["band"] * rng.uniform(0.7, 1.3) if indistinct else 0.0
    return theta, logr, tension, band


def generate_contour(
    description: LesionDescription,
    seed: int,
    mm_per_pixel: float,
    center: tuple[float, float],
    priors: Priors | None = None,
) -> tuple[Contour, LesionDescription, float]:
    """Contour in pixels centred at `center` (x, y), the completed description, and the indistinct
    band width in pixels (0 when not indistinct)."""
    if not mm_per_pixel or mm_per_pixel <= 0:
        raise InputError(f"mm_per_pixel must be a positive number, got {mm_per_pixel!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    priors = priors or load_priors()
    rng = np.random.default_rng(int(seed))
    desc = _complete(description, priors, rng)
    theta, logr, tension, band = _outline(desc, priors, rng)
    spread = np.radians(priors.shapes[desc.shape.value].get("orientation_sd_deg", priors.orientation_sd_deg))
    angle = rng.normal(0, spread) + (0.0 if desc.orientation is Orientation.PARALLEL else np.pi / 2)
    r = np.exp(logr)
    pts = np.stack([r * np.cos(theta + angle), r * np.sin(theta + angle)], axis=1)
    # scale so the longest diameter (over control points) is the requested size
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    d2 = ((hull[:, None] - hull[None]) ** 2).sum(-1).max()
    scale = desc.size_mm / mm_per_pixel / np.sqrt(d2)
    pts = pts * scale + np.asarray(center, float)
    return Contour(pts, np.clip(tension, -1, 1)), desc, band * scale


def generate_mask(
    description: LesionDescription,
    seed: int,
    mm_per_pixel: float,
    shape: tuple[int, int] = (256, 256),
    center: tuple[float, float] | None = None,
    priors: Priors | None = None,
    soft: bool = True,
) -> GeneratedMask:
    """A generated lesion on a (rows, cols) canvas, centred unless `center` (x, y) is given."""
    if center is None:
        center = ((shape[1] - 1) / 2, (shape[0] - 1) / 2)
    contour, desc, band_px = generate_contour(description, seed, mm_per_pixel, center, priors)
    # the fast sub-pixel fill of a polyline fine enough for the raster (Contour.raster is the exact one)
    mask = fill_polygon_fast(
        sample_closed(contour.points, contour.tensions, RASTER_SAMPLES_PER_SEGMENT), shape
    )
    if not mask.any():
        raise InputError(
            f"the generated lesion ({desc.size_mm:.1f} mm at {mm_per_pixel} mm/pixel) is smaller than a pixel"
        )
    soft_mask = None
    if band_px > 0 and soft:
        # a blurred mask whose 0.5 level is the outline: the band where the boundary is uncertain
        sigma = max(band_px / 2, 0.5)
        soft_mask = np.zeros(mask.shape, np.float32)
        # blur only around the lesion: beyond the kernel's reach (4 sigma) everything stays 0
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        reach = int(np.ceil(4 * sigma)) + 2
        r0, r1 = max(rows[0] - reach, 0), min(rows[-1] + reach + 1, mask.shape[0])
        c0, c1 = max(cols[0] - reach, 0), min(cols[-1] + reach + 1, mask.shape[1])
        soft_mask[r0:r1, c0:c1] = cv2.GaussianBlur(mask[r0:r1, c0:c1].astype(np.float32), (0, 0), sigma)
    return GeneratedMask(contour, mask, soft_mask, float(band_px), desc)


def description_for_class(
    shape: str | None, margin_cls: str | None, orientation: str | None = None, size_mm=None
):
    """A request built from a shape value and a margin class name ('circumscribed' or a subtype)."""
    margin = None
    if margin_cls == "circumscribed":
        margin = Margin(True)
    elif margin_cls is not None:
        if margin_cls not in MARGIN_CLASSES:
            raise InputError(f"margin {margin_cls!r} is not one of: {', '.join(MARGIN_CLASSES)}")
        margin = Margin(False, frozenset({MarginSubtype(margin_cls)}))
    return LesionDescription(shape=shape, margin=margin, orientation=orientation, size_mm=size_mm)


__all__ = [
    "GeneratedMask",
    "MARGIN_SUSPICION",
    "description_for_class",
    "generate_contour",
    "generate_mask",
    "margin_class",
]
