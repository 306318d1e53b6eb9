"""Semantic-curvature mask generator: clinical attributes + seed -> Contour and mask.

An outline is a body times a residual. The body is an ellipse whose aspect ratio and tilt are those of
one real BrEaST mask of the requested (shape, margin class), slightly jittered. The residual is a
log-radius of harmonics 1..32 at CONTROL_POINTS evenly spaced angles, amplitudes drawn from the spectrum
of real residuals of the same class (real outlines squeezed so their ellipse becomes a circle:
engine.masks.priors.ellipse_residual), random phases; it is made isotropic (whitened by its own second
moments, as the real residuals were) and stretched into the body. So an ellipse's own harmonics stay
locked to its axes (no kidney or peanut shapes), and each BI-RADS term acts through the curvature
spectrum as in real masks:

  shape        oval / round: the real bodies and quiet residuals; irregular: strong, asymmetric low
               harmonics (3-8) in the residual
  orientation  parallel: major axis near horizontal (wider than tall); not parallel: near vertical
  margin       circumscribed: a smooth residual; microlobulated: raised mid/high harmonics (small
               undulations) with narrow dents between them; angular: a polygon of 3-6 corners (tension 1) with straight sides takes
               over most of the low harmonics; spiculated: 2-4 tapered radial spikes with sharp tips
               on a rough residual; indistinct: a quieter residual with a few broad, shallow
               hand-drawn dents, plus a soft, uncertain boundary band (GeneratedMask.soft)

Randomness comes only from numpy's PCG64 Generator seeded with the given seed, so the same seed gives
the same mask on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from engine.contour.spline import FAST_FILL_INSET_PX, FAST_FILL_SHIFT, Contour, _segment_basis
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
        shape = Shape(_draw_key(rng, priors.shape_frequency))
    margin = desc.margin
    if margin is None or (not margin.circumscribed and not margin.subtypes):
        freq = priors.margin_frequency[shape.value]
        if margin is not None:  # "not circumscribed", subtype not given
            freq = {k: v for k, v in freq.items() if k != "circumscribed"}
        cls = _draw_key(rng, freq)
        margin = Margin(True) if cls == "circumscribed" else Margin(False, frozenset({MarginSubtype(cls)}))
    orientation = desc.orientation
    if orientation is None:
        parallel = rng.random() < priors.shapes[shape.value].get(
            "parallel_fraction", priors.parallel_fraction
        )
        orientation = Orientation.PARALLEL if parallel else Orientation.NOT_PARALLEL
    size = desc.size_mm if desc.size_mm is not None else _draw_lognormal(rng, priors.size_mm)
    if (shape, margin, orientation, size) == (desc.shape, desc.margin, desc.orientation, desc.size_mm):
        return desc  # nothing was open (the common case in batch generation): no copy
    return replace(desc, shape=shape, orientation=orientation, margin=margin, size_mm=size)


def _draw_key(rng: np.random.Generator, counts: dict) -> str:
    """One key of `counts`, drawn in proportion to its count. Keys are taken in sorted order, so the
    draw does not depend on the dict's order (priors read from JSON and freshly fitted ones differ)."""
    names = sorted(counts)
    p = np.array([counts[k] for k in names], float)
    return names[rng.choice(len(names), p=p / p.sum())]


_THETA = np.linspace(-np.pi, np.pi, CONTROL_POINTS, endpoint=False)
BODY_JITTER = (0.02, 8.0)  # log-sd of the aspect ratio, sd of the tilt in degrees: a new body, not a copy


def _polygon_log_radius(theta: np.ndarray, corner_idx: np.ndarray, corner_r: np.ndarray) -> np.ndarray:
    """Log-radius, at angles `theta`, of the polygon through corners at theta[corner_idx] with radii
    corner_r: straight sides between the corners."""
    ang = theta[corner_idx]
    p = corner_r[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    seg = np.searchsorted(ang, theta, side="right") - 1  # side from corner seg to seg + 1 (wrapping)
    a, b = p[seg], p[(seg + 1) % len(p)]
    d = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    e = b - a
    # ray t * d meets a + s * e: t = cross(a, e) / cross(d, e)
    t = (a[:, 0] * e[:, 1] - a[:, 1] * e[:, 0]) / (d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0])
    return np.log(np.maximum(t, 1e-3))


def _outline(desc: LesionDescription, priors: Priors, rng: np.random.Generator):
    """Unit-scale outline in the body's frame: (log-radius at _THETA, tensions, band, aspect ratio,
    tilt of the major axis from the orientation's axis in radians).

    The body is an ellipse (aspect ratio and tilt drawn near a real one of the same shape and margin
    class, jointly: near-round real masks are tilted anyhow, elongated ones little);
    on it, a residual log-radius of harmonics 1..SPECTRUM_HARMONICS whose amplitudes are drawn from
    the fitted distribution of real outlines' residuals after removing their ellipse (log-normal with
    their covariance), with random phases: the residual carries lobes, margin and roughness, and the
    ellipse's own harmonics stay locked to its axes."""
    cls = "circumscribed" if desc.margin.circumscribed else desc.margin.most_suspicious.value
    mean, chol, bodies = priors.spectrum(desc.shape.value, cls)
    k = mean.size
    noise = rng.normal(size=k + 3)
    amp, jitter = np.exp(mean + chol @ noise[:k]), noise[k:]
    phase = rng.uniform(0, 2 * np.pi, k)
    # the body: the aspect ratio and tilt of one real mask of the class, a little jittered
    body = int(rng.integers(len(bodies)))
    aspect, tilt = bodies[body]
    aspect = max(1.0, aspect * np.exp(BODY_JITTER[0] * jitter[0]))
    tilt = np.radians(tilt + BODY_JITTER[1] * jitter[1]) * (1 if jitter[2] > 0 else -1)
    if desc.perpendicular_mm:
        aspect = max(1.0, desc.size_mm / desc.perpendicular_mm)
    margin = priors.margins[cls]
    polygon = margin.get("polygon")
    if polygon:
        # angular: a polygon of few corners takes over part of the low-frequency body, so the outline
        # has straight sides between sharp corners
        weight = rng.uniform(*polygon["weight"][desc.shape.value])
        amp[: polygon["harmonics"]] *= 1.0 - weight
    # sum_k amp_k cos(k theta_j + phase_k) at the evenly spaced theta_j, as one inverse real FFT
    spectrum = np.zeros(CONTROL_POINTS // 2 + 1, complex)
    spectrum[1 : k + 1] = (0.5 * CONTROL_POINTS) * amp * np.exp(1j * (phase - _HARMONIC_PI[:k]))
    logr = np.fft.irfft(spectrum, CONTROL_POINTS)
    tension = np.zeros(CONTROL_POINTS)
    if polygon:
        n = int(rng.integers(polygon["corners"][0], polygon["corners"][1] + 1))
        # corners at least a few control points apart: sides of uneven length, none degenerate
        gaps = rng.dirichlet(np.full(n, 3.0)) * CONTROL_POINTS
        # no side may span half the outline (the origin must see every side): pull gaps to even
        even, widest = CONTROL_POINTS / n, 0.4 * CONTROL_POINTS
        if gaps.max() > widest:
            gaps = even + (gaps - even) * (widest - even) / (gaps.max() - even)
        gaps = np.maximum(gaps, 4.0)
        idx = int(rng.integers(CONTROL_POINTS)) + np.concatenate(([0.0], np.cumsum(gaps)[:-1])).astype(int)
        idx = np.sort(idx % CONTROL_POINTS)
        radii = np.exp(rng.normal(0.0, polygon["radius_sd"], n))
        poly = _polygon_log_radius(_THETA, idx, radii)
        logr += weight * (poly - poly.mean())
        tension[idx] = 1.0
    spikes = margin.get("spikes")
    if spikes:
        # spicules: narrow radial spikes, one control point each with a tension-1 tip
        n = int(rng.integers(spikes[0], spikes[1] + 1))
        tips = rng.choice(CONTROL_POINTS, size=n, replace=False)
        length = margin["spike_len"] * rng.lognormal(0.0, 0.35, n)
        # tapered: the neighbours of each tip rise a little too, so the spike has a base, not a kink
        r = np.exp(logr)
        for offset, share in ((-1, margin.get("taper", 0.0)), (1, margin.get("taper", 0.0)), (0, 1.0)):
            at = (tips + offset) % CONTROL_POINTS
            r[at] += share * length
        logr = np.log(r)
        tension[tips] = margin.get("tip_tension", 1.0)
    dents = priors.shapes[desc.shape.value].get("dents") or margin.get("dents")
    if dents:
        # hand-drawn dents: localized inward bumps, as many as the real outline the body came from has
        # concavities (round: real outlines carry 0-5 small dents that a smooth spectrum never makes,
        # the elongated ones most; indistinct: broad shallow ones where the boundary was uncertain;
        # microlobulated: narrow ones between the small lobes)
        n = int(priors.dent_counts(desc.shape.value, cls)[body])
        at = rng.uniform(-np.pi, np.pi, n)
        depth = rng.uniform(*dents["depth"], n)
        width = rng.uniform(*dents["width"], n)
        # (points, dents) angle from each dent, wrapped to [-pi, pi) (arithmetic: a complex exp costs more)
        gap = (_THETA[:, None] - at[None, :] + np.pi) % (2 * np.pi) - np.pi
        logr = logr - (depth * np.exp(-0.5 * (gap / width) ** 2)).sum(axis=1)
    indistinct = not desc.margin.circumscribed and MarginSubtype.INDISTINCT in desc.margin.subtypes
    band = priors.margins["indistinct"]["band"] * rng.uniform(0.7, 1.3) if indistinct else 0.0
    return logr, tension, band, aspect, tilt


def _polygon_moments(x: np.ndarray, y: np.ndarray):
    """Centroid (cx, cy) and central second moments (cxx, cyy, cxy) per unit area of each polygon,
    for (K, N) vertex arrays: each a (K,) array."""
    x1, y1 = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
    cross = x * y1 - x1 * y
    area6 = 3.0 * cross.sum(1)  # 6 * area
    sx, sy = x + x1, y + y1
    cx, cy = (sx * cross).sum(1) / area6, (sy * cross).sum(1) / area6
    ixx = ((x * x + x * x1 + x1 * x1) * cross).sum(1) / (2 * area6)
    iyy = ((y * y + y * y1 + y1 * y1) * cross).sum(1) / (2 * area6)
    ixy = ((sx * sy + x * y + x1 * y1) * cross).sum(1) / (4 * area6)
    return cx, cy, ixx - cx * cx, iyy - cy * cy, ixy - cx * cy


_HARMONIC_PI = np.arange(1, CONTROL_POINTS // 2 + 1) * np.pi  # theta starts at -pi
_COS, _SIN = np.cos(_THETA), np.sin(_THETA)


def _check(seed, mm_per_pixel) -> None:
    if not mm_per_pixel or mm_per_pixel <= 0:
        raise InputError(f"mm_per_pixel must be a positive number, got {mm_per_pixel!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")


def _contours(descriptions, seeds, mm_per_pixel: float, centers, priors: Priors):
    """Control points (K, N, 2) in pixels, tensions (K, N), completed descriptions and band widths
    in pixels (K,) of K requests: the random draws one request at a time (each its own seeded
    stream), the geometry for all K at once (row-wise arithmetic only, so a request's outline does
    not depend on the others in the batch)."""
    drawn, descs = [], []
    for description, seed in zip(descriptions, seeds, strict=True):
        _check(seed, mm_per_pixel)
        rng = np.random.default_rng(int(seed))
        desc = _complete(description, priors, rng)
        descs.append(desc)
        drawn.append(_outline(desc, priors, rng))
    logr = np.array([d[0] for d in drawn])
    tension = np.array([d[1] for d in drawn])
    band, aspect, tilt = (np.array([d[i] for d in drawn], float) for i in (2, 3, 4))
    parallel = np.array([d.orientation is Orientation.PARALLEL for d in descs])
    angle = tilt + np.where(parallel, 0.0, np.pi / 2)
    # the residual outline made isotropic (as the real residuals were measured: whitened by their own
    # second moments), stretched into the body's ellipse and turned to its orientation; so the mask's
    # aspect ratio is the drawn real one
    r = np.exp(logr)
    x, y = r * _COS, r * _SIN
    cx, cy, cxx, cyy, cxy = _polygon_moments(x, y)
    x, y = x - cx[:, None], y - cy[:, None]
    # inverse square root of [[cxx, cxy], [cxy, cyy]] in closed form: (C + sqrt(det) I) / (sqrt(det) * t)
    root_det = np.sqrt(cxx * cyy - cxy * cxy)
    t = np.sqrt(cxx + cyy + 2 * root_det)
    wxx, wyy, wxy = (
        ((cyy + root_det) / (root_det * t))[:, None],
        ((cxx + root_det) / (root_det * t))[:, None],
        (-cxy / (root_det * t))[:, None],
    )
    stretch = np.sqrt(aspect)[:, None]
    x, y = (wxx * x + wxy * y) * stretch, (wxy * x + wyy * y) / stretch
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    pts = np.stack([x * c - y * s, x * s + y * c], axis=2)
    # scale so the longest diameter (over control points) is the requested size: the longest chord
    # between hull points (a few dozen of the 96), one outline at a time
    longest = np.empty(len(pts))
    for k, outline in enumerate(pts):
        hull = cv2.convexHull(outline.astype(np.float32)).reshape(-1, 2).astype(np.float64)
        longest[k] = np.sqrt(((hull[:, None] - hull[None]) ** 2).sum(-1).max())
    size = np.array([d.size_mm for d in descs], float)
    scale = size / mm_per_pixel / longest
    pts = pts * scale[:, None, None] + np.asarray(centers, float)[:, None, :]
    return pts, tension, descs, band * scale * stretch[:, 0]


def generate_contour(
    description: LesionDescription,
    seed: int,
    mm_per_pixel: float,
    center: tuple[float, float],
    priors: Priors | None = None,
) -> tuple[Contour, LesionDescription, float]:
    """Contour in pixels centred at `center` (x, y), the completed description, and the indistinct
    band width in pixels (0 when not indistinct)."""
    pts, tension, descs, band = _contours(
        [description], [seed], mm_per_pixel, [center], priors or load_priors()
    )
    return Contour(pts[0], tension[0]), descs[0], float(band[0])


def _sample_and_inset(pts: np.ndarray, tension: np.ndarray, per_segment: int) -> np.ndarray:
    """The polylines of K contours (K, N * per_segment, 2), moved FAST_FILL_INSET_PX inwards as
    engine.contour.spline.fill_polygon_fast does, in fixed point for cv2.fillPoly: the batch form of
    fill_polygon_fast(sample_closed(...)), one array pass for all K."""
    nxt, prv = np.roll(pts, -1, axis=1), np.roll(pts, 1, axis=1)
    tangents = 0.5 * (1.0 - tension)[:, :, None] * (nxt - prv)
    b = _segment_basis(int(per_segment))
    line = (
        pts[:, :, None] * b[:, 0, None]
        + nxt[:, :, None] * b[:, 1, None]
        + tangents[:, :, None] * b[:, 2, None]
        + np.roll(tangents, -1, axis=1)[:, :, None] * b[:, 3, None]
    ).reshape(len(pts), -1, 2)
    after = np.roll(line, -1, axis=1)
    chord = after - np.roll(line, 1, axis=1)
    normal = np.stack([chord[..., 1], -chord[..., 0]], axis=2)
    normal /= np.maximum(np.hypot(normal[..., 0], normal[..., 1]), 1e-12)[..., None]
    # outward for a counter-clockwise (in x, y) polygon; flip for a clockwise one
    signed = (line[..., 0] * after[..., 1] - line[..., 1] * after[..., 0]).sum(1)
    inset = line - np.where(signed > 0, FAST_FILL_INSET_PX, -FAST_FILL_INSET_PX)[:, None, None] * normal
    return np.round(inset * (1 << FAST_FILL_SHIFT)).astype(np.int32)


def generate_masks(
    descriptions,
    seeds,
    mm_per_pixel: float,
    shape: tuple[int, int] = (256, 256),
    centers=None,
    priors: Priors | None = None,
    soft: bool = True,
) -> list[GeneratedMask]:
    """Generated lesions for many (description, seed) pairs at once: the same masks, bit for bit, as
    generate_mask gives one at a time, several times faster (one array pass for the geometry of all).
    `centers`: one (x, y) per request, or None for the canvas centre."""
    descriptions, seeds = list(descriptions), list(seeds)
    if len(descriptions) != len(seeds):
        raise InputError(f"{len(descriptions)} descriptions but {len(seeds)} seeds: give one seed each")
    if not descriptions:
        return []
    if centers is None:
        centers = [((shape[1] - 1) / 2, (shape[0] - 1) / 2)] * len(seeds)
    elif np.shape(centers) != (len(seeds), 2):
        raise InputError(
            f"centers must be one (x, y) per request ({len(seeds)}), got shape {np.shape(centers)}"
        )
    pts, tension, descs, band = _contours(descriptions, seeds, mm_per_pixel, centers, priors or load_priors())
    fixed = _sample_and_inset(pts, tension, RASTER_SAMPLES_PER_SEGMENT)
    out = []
    for k in range(len(descs)):
        mask = np.zeros((int(shape[0]), int(shape[1])), np.uint8)
        cv2.fillPoly(mask, [fixed[k]], 1, lineType=cv2.LINE_8, shift=FAST_FILL_SHIFT)
        mask = mask.view(bool)
        if not mask.any():
            raise InputError(
                f"the generated lesion ({descs[k].size_mm:.1f} mm at {mm_per_pixel} mm/pixel) is smaller "
                "than a pixel"
            )
        band_px = float(band[k])
        soft_mask = _soft_band(mask, band_px) if band_px > 0 and soft else None
        out.append(GeneratedMask(Contour(pts[k], tension[k]), mask, soft_mask, band_px, descs[k]))
    return out


def _soft_band(mask: np.ndarray, band_px: float) -> np.ndarray:
    """A blurred mask whose 0.5 level is the outline: the band where the boundary is uncertain."""
    sigma = max(band_px / 2, 0.5)
    soft_mask = np.zeros(mask.shape, np.float32)
    # blur only around the lesion: beyond the kernel's reach (4 sigma) everything stays 0
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    reach = int(np.ceil(4 * sigma)) + 2
    r0, r1 = max(rows[0] - reach, 0), min(rows[-1] + reach + 1, mask.shape[0])
    c0, c1 = max(cols[0] - reach, 0), min(cols[-1] + reach + 1, mask.shape[1])
    soft_mask[r0:r1, c0:c1] = cv2.GaussianBlur(mask[r0:r1, c0:c1].astype(np.float32), (0, 0), sigma)
    return soft_mask


def generate_mask(
    description: LesionDescription,
    seed: int,
    mm_per_pixel: float,
    shape: tuple[int, int] = (256, 256),
    center: tuple[float, float] | None = None,
    priors: Priors | None = None,
    soft: bool = True,
) -> GeneratedMask:
    """A generated lesion on a (rows, cols) canvas, centred unless `center` (x, y) is given. The fill
    is cv2.fillPoly of a polyline fine enough for the raster, moved half a pixel inwards
    (engine.contour.spline.fill_polygon_fast; Contour.raster is the exact one)."""
    centers = None if center is None else [center]
    return generate_masks([description], [seed], mm_per_pixel, shape, centers, priors, soft)[0]


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
    "generate_masks",
    "margin_class",
]
