"""Shape descriptors of a lesion mask, shared by the mask generator's priors and the evaluation.

Every mask is first scaled so that its equivalent radius (radius of the disc of equal area) is
REFERENCE_RADIUS_PX, so descriptors that depend on resolution (perimeter, curvature, fractal
dimension, concavity depth) compare lesions of any size and any pixel spacing. Only the largest
connected region counts (a lesion is one region; stray specks are annotation noise).
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import InputError

REFERENCE_RADIUS_PX = 48.0
BOUNDARY_SAMPLES = 256
CONCAVITY_MIN_DEPTH = 0.06  # fraction of the equivalent radius: shallower dents are outline noise
LOW_FREQUENCIES = (2, 8)  # radial Fourier harmonics, inclusive: lobes and global asymmetry
HIGH_FREQUENCIES = (9, 64)  # undulations, microlobules, spicules

# Descriptors compared between real and generated masks (the realism list).
REALISM_DESCRIPTORS = (
    "circularity",
    "solidity",
    "concavities",
    "aspect_ratio",
    "curvature_energy",
    "fractal_dimension",
    "fourier_low",
    "fourier_high",
)


def largest_region(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        raise InputError("the mask is empty: no lesion to describe")
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == k


def normalized_mask(mask: np.ndarray, radius: float = REFERENCE_RADIUS_PX) -> np.ndarray:
    """The largest region, cropped and resampled so its equivalent radius is `radius` pixels."""
    region = largest_region(mask)
    ys, xs = np.nonzero(region)
    crop = region[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    factor = radius / np.sqrt(region.sum() / np.pi)
    crop = np.pad(crop, 2)
    h, w = crop.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    if factor >= 1:
        # an enlarged pixel staircase is not the lesion's outline: blur it over about one source pixel
        big = cv2.GaussianBlur(cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR), (0, 0), 0.5 * factor)
    else:
        big = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    out = np.pad(big >= 0.5, 2)
    return largest_region(out)


def boundary(region: np.ndarray) -> np.ndarray:
    """Outer boundary of a region as an (M, 2) float array of (x, y), counter-clockwise in image axes."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    return c


def resample_closed(poly: np.ndarray, n: int) -> np.ndarray:
    """n points evenly spaced by arc length along a closed polyline."""
    closed = np.vstack([poly, poly[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, s[-1], n, endpoint=False)
    return np.stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])], axis=1)


def _smooth_closed(poly: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(poly, sigma, axis=0, mode="wrap")


def _fractal_dimension(region: np.ndarray) -> float:
    """Box-counting dimension of the boundary pixels over boxes of 2..32 pixels."""
    edge = region & ~cv2.erode(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    sizes = np.array([2, 3, 4, 6, 8, 12, 16, 24, 32])
    counts = []
    for s in sizes:
        h, w = -(-edge.shape[0] // s) * s, -(-edge.shape[1] // s) * s
        padded = np.zeros((h, w), bool)
        padded[: edge.shape[0], : edge.shape[1]] = edge
        counts.append(padded.reshape(h // s, s, w // s, s).any(axis=(1, 3)).sum())
    slope = np.polyfit(np.log(1.0 / sizes), np.log(np.maximum(counts, 1)), 1)[0]
    return float(slope)


def shape_descriptors(mask: np.ndarray) -> dict[str, float]:
    """Descriptors of the mask's largest region after scaling to REFERENCE_RADIUS_PX.

    circularity       4 pi area / perimeter^2 of the smoothed outline (1 for a disc)
    solidity          area / convex hull area
    concavities       number of convexity defects deeper than CONCAVITY_MIN_DEPTH of the radius
    aspect_ratio      major / minor axis of the second-moment ellipse (>= 1, orientation-free)
    width_height      horizontal / vertical extent of the bounding box ("parallel": > 1)
    orientation_deg   angle of the major axis from horizontal, 0..90
    curvature_energy  mean squared curvature times radius^2 (1 for a disc)
    fractal_dimension box-counting dimension of the boundary (1 for a smooth curve)
    fourier_low/high  energy of the radius-vs-arc-length signal (relative to its mean) in harmonics
                      LOW_FREQUENCIES / HIGH_FREQUENCIES
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise InputError(f"a mask must be a 2-D array, got shape {mask.shape}")
    region = normalized_mask(mask.astype(bool))
    area = float(region.sum())
    radius = np.sqrt(area / np.pi)
    outline = boundary(region)
    # smoothing over ~3 px removes the pixel staircase, which would otherwise dominate curvature
    even = _smooth_closed(resample_closed(outline, BOUNDARY_SAMPLES), 3.0)
    closed = np.vstack([even, even[:1]])
    perimeter = float(np.hypot(*np.diff(closed, axis=0).T).sum())
    poly_area = 0.5 * abs(
        float(np.dot(even[:, 0], np.roll(even[:, 1], -1)) - np.dot(even[:, 1], np.roll(even[:, 0], -1)))
    )

    hull_idx = cv2.convexHull(outline.astype(np.int32), returnPoints=False)
    hull_area = float(cv2.contourArea(outline[hull_idx.ravel()].astype(np.float32)))
    solidity = float(cv2.contourArea(outline.astype(np.float32)) / hull_area) if hull_area > 0 else 1.0
    concavities = 0
    if len(hull_idx) > 3:
        hull_idx = np.sort(hull_idx.ravel())[:, None].astype(np.int32)
        try:
            defects = cv2.convexityDefects(outline.astype(np.int32), hull_idx)
        except cv2.error:
            defects = None
        if defects is not None:
            concavities = int((defects.reshape(-1, 4)[:, 3] / 256.0 > CONCAVITY_MIN_DEPTH * radius).sum())

    ys, xs = np.nonzero(region)
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    evals, evecs = np.linalg.eigh(cov)
    aspect = float(np.sqrt(evals[1] / max(evals[0], 1e-9)))
    major = evecs[:, 1]
    orientation = float(np.degrees(np.arctan2(abs(major[1]), abs(major[0]))))
    width_height = float((xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1))

    # curvature from the turning angle between successive evenly spaced samples
    d = np.diff(closed, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.angle(np.exp(1j * (np.roll(heading, -1) - heading)))
    step = perimeter / BOUNDARY_SAMPLES
    curvature_energy = float(np.mean((turn / step) ** 2) * radius**2)

    centre = even.mean(axis=0)
    r = np.hypot(*(even - centre).T)
    spectrum = np.abs(np.fft.rfft(r / r.mean() - 1.0) / len(r)) ** 2
    lo, hi = LOW_FREQUENCIES, HIGH_FREQUENCIES
    return {
        "circularity": float(4 * np.pi * poly_area / perimeter**2),
        "solidity": solidity,
        "concavities": float(concavities),
        "aspect_ratio": aspect,
        "width_height": width_height,
        "orientation_deg": orientation,
        "curvature_energy": curvature_energy,
        "fractal_dimension": _fractal_dimension(region),
        "fourier_low": float(spectrum[lo[0] : lo[1] + 1].sum()),
        "fourier_high": float(spectrum[hi[0] : hi[1] + 1].sum()),
    }
