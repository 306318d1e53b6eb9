"""Semantic-curvature mask generator: clinical attributes + seed -> Contour and mask.

The outline is a radius function around the centre, sampled at control angles and joined by the
Kochanek-Bartels contour, so each BI-RADS term acts through curvature:

  shape        oval / round: ellipse of the prior's aspect ratio; irregular: asymmetric low-frequency
               deformation (harmonics 2-5 of the log-radius) on top
  orientation  parallel: major axis near horizontal (wider than tall); not parallel: near vertical
  margin       circumscribed: smooth, low curvature (only the hand-drawn roughness of real outlines)
               microlobulated: many small scallops (lobes, 4 control points each)
               angular: a few corners (tension 1: curvature spikes) joined by straightened edges
               spiculated: narrow radiating spikes (tension-1 tips on 3-point wedges)
               indistinct: rougher outline plus a soft, uncertain boundary band (GeneratedMask.soft)

Free choices (aspect, deformation strength, lobe count, spike length, ...) are drawn from the priors
fitted to real masks (engine.masks.priors). Randomness comes only from numpy's PCG64 Generator
seeded with the given seed, so the same seed gives the same mask on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.contour.spline import Contour
from engine.errors import InputError
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import MARGIN_SUSPICION, MarginSubtype, Orientation, Shape
from engine.masks.priors import MARGIN_CLASSES, Priors, load_priors

BASE_POINTS = 40  # control points of the body outline before margin features add their own


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
    values = desc.to_dict()
    values.update(shape=shape.value, orientation=orientation.value, margin=margin.to_dict(), size_mm=size)
    return LesionDescription.from_dict(values)


def _norm(values) -> np.ndarray:
    v = np.asarray(list(values), float)
    return v / v.sum()


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _outline(desc: LesionDescription, priors: Priors, rng: np.random.Generator):
    """Unit-scale outline: (angles, log-radius, tensions) before orientation, plus the band width."""
    shape_p = priors.shapes[desc.shape.value]
    subtypes = set() if desc.margin.circumscribed else set(desc.margin.subtypes)
    # the margin class's prior carries the roughness of real outlines of that class
    cls = "circumscribed" if desc.margin.circumscribed else desc.margin.most_suspicious.value
    mp = priors.margins[cls]

    if desc.perpendicular_mm:
        aspect = max(1.0, desc.size_mm / desc.perpendicular_mm)
    else:
        aspect = max(1.0, _draw_lognormal(rng, shape_p["aspect"]))

    n_lobes = (
        int(rng.integers(mp["lobes"][0], mp["lobes"][1] + 1))
        if MarginSubtype.MICROLOBULATED in subtypes
        else 0
    )
    k = max(BASE_POINTS, 4 * n_lobes)
    theta = np.linspace(-np.pi, np.pi, k, endpoint=False) + rng.uniform(0, 2 * np.pi / k)
    theta = _wrap(theta)
    tension = np.zeros(k)

    def radius(t):
        return -0.5 * np.log(np.cos(t) ** 2 + (aspect * np.sin(t)) ** 2)  # log-radius of the ellipse

    # irregular shape: asymmetric low-frequency deformation
    low_amp = shape_p["low_amp"]
    harmonics = np.arange(2, 6)
    coef = rng.normal(0, low_amp / harmonics)
    phase = rng.uniform(0, 2 * np.pi, harmonics.size)

    def low(t):
        return (coef[None] * np.cos(harmonics[None] * t[:, None] + phase[None])).sum(1)

    logr = radius(theta) + low(theta)
    logr += rng.normal(0, mp["rough"], k)  # hand-drawn roughness

    if n_lobes:
        phi = rng.uniform(0, 2 * np.pi)
        amp = mp["lobe_amp"] * rng.uniform(0.7, 1.3)
        # scallops: rounded lobes meeting in inward cusps
        logr += amp * (np.abs(np.sin(0.5 * n_lobes * theta + phi)) ** 0.6 - 0.7)

    extra_t, extra_r, extra_tension = [], [], []
    if MarginSubtype.ANGULAR in subtypes:
        n = int(rng.integers(mp["corners"][0], mp["corners"][1] + 1))
        centres = _wrap(rng.uniform(-np.pi, np.pi) + np.arange(n) * 2 * np.pi / n + rng.normal(0, 0.25, n))
        width = 0.8 * np.pi / n
        for c in centres:
            d = np.abs(_wrap(theta - c))
            near = d < width
            logr[near] += mp["corner_amp"] * (1 - d[near] / width)
            tension[near] = np.maximum(tension[near], 0.7)  # straighter edges between corners
            extra_t.append(c)
            extra_r.append(radius(np.array([c]))[0] + low(np.array([c]))[0] + mp["corner_amp"])
            extra_tension.append(1.0)
    keep = np.ones(k, bool)
    if MarginSubtype.SPICULATED in subtypes:
        n = int(rng.integers(mp["spikes"][0], mp["spikes"][1] + 1))
        centres = _wrap(rng.uniform(-np.pi, np.pi) + np.arange(n) * 2 * np.pi / n + rng.normal(0, 0.3, n))
        for c in centres:
            half = mp["spike_width"] * rng.uniform(0.6, 1.4)
            length = mp["spike_len"] * rng.lognormal(0, 0.35)
            keep &= np.abs(_wrap(theta - c)) > half
            base = np.array([c - half, c + half])
            base_r = np.interp(_wrap(base), *_periodic(theta, logr))
            extra_t += [c - half, c, c + half]
            extra_r += [base_r[0], float(np.log(np.exp(base_r.mean()) + length)), base_r[1]]
            extra_tension += [0.3, 1.0, 0.3]
    theta, logr, tension = theta[keep], logr[keep], tension[keep]
    if extra_t:
        theta = np.concatenate([theta, _wrap(np.array(extra_t))])
        logr = np.concatenate([logr, extra_r])
        tension = np.concatenate([tension, extra_tension])
    order = np.argsort(theta)
    band = mp["band"] * rng.uniform(0.7, 1.3) if MarginSubtype.INDISTINCT in subtypes else 0.0
    return theta[order], logr[order], tension[order], band


def _periodic(theta: np.ndarray, values: np.ndarray):
    order = np.argsort(theta)
    t, v = theta[order], values[order]
    return np.concatenate([t - 2 * np.pi, t, t + 2 * np.pi]), np.tile(v, 3)


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
    if desc.orientation is Orientation.PARALLEL:
        angle = rng.normal(0, np.radians(priors.orientation_sd_deg))
    else:
        angle = np.pi / 2 + rng.normal(0, np.radians(priors.orientation_sd_deg))
    r = np.exp(logr)
    pts = np.stack([r * np.cos(theta + angle), r * np.sin(theta + angle)], axis=1)
    # scale so the longest diameter (over control points) is the requested size
    d2 = ((pts[:, None] - pts[None]) ** 2).sum(-1).max()
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
    mask = contour.raster(shape)
    if not mask.any():
        raise InputError(
            f"the generated lesion ({desc.size_mm:.1f} mm at {mm_per_pixel} mm/pixel) is smaller than a pixel"
        )
    soft_mask = None
    if band_px > 0 and soft:
        import cv2

        # a blurred coverage whose 0.5 level is the outline: the band where the boundary is uncertain
        cover = contour.raster(shape, antialias=True)
        soft_mask = cv2.GaussianBlur(cover, (0, 0), max(band_px / 2, 0.5))
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
