"""Hand-made features of one lesion: its outline (engine.masks.descriptors) and the image around it.

Intensities are compared with the lesion's own surroundings, never with absolute gray levels, so
gain and dynamic range of the scanner matter little:
- echo pattern: the lesion core against a ring of surrounding tissue (mean, spread, dark and bright
  fractions, coarse heterogeneity);
- margin: contrast and gradient across the outline, and how evenly that contrast runs around it;
- posterior features: the band below the lesion against the same rows beside it, overall and in
  column strips (a combined pattern is part shadow, part enhancement).
Distances scale with the lesion's equivalent radius R, so the features do not depend on pixel size.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import InputError
from engine.masks.descriptors import largest_region, shape_descriptors

SECTORS = 16
POSTERIOR_STRIPS = 4


def _disk(radius: float) -> np.ndarray:
    r = max(1, int(round(radius)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _dilate(region: np.ndarray, radius: float) -> np.ndarray:
    return cv2.dilate(region.astype(np.uint8), _disk(radius)).astype(bool)


def _erode(region: np.ndarray, radius: float) -> np.ndarray:
    return cv2.erode(region.astype(np.uint8), _disk(radius)).astype(bool)


def _mean(values: np.ndarray, default: float) -> float:
    return float(values.mean()) if values.size else default


def _log_ratio(a: float, b: float) -> float:
    return float(np.log((a + 4.0) / (b + 4.0)))  # +4: dark speckle near 0 must not explode the ratio


def _intensity(img: np.ndarray, region: np.ndarray, radius: float) -> dict[str, float]:
    core = _erode(region, 0.15 * radius)
    if core.sum() < 10:
        core = region
    ring = _dilate(region, max(4.0, 0.6 * radius)) & ~_dilate(region, max(2.0, 0.15 * radius))
    lesion, around = img[core], img[ring]
    if around.size == 0:
        around = img[~region]
    s_mean, s_std, s_med = float(around.mean()), float(around.std()), float(np.median(around))
    l_mean, l_std = float(lesion.mean()), float(lesion.std())
    p10, p50, p90 = np.percentile(lesion, [10, 50, 90])
    coarse = cv2.GaussianBlur(img, (0, 0), max(1.0, 0.15 * radius))[core]
    hist = np.histogram(lesion, bins=16, range=(0, 256))[0] / max(1, lesion.size)
    return {
        "echo_log_ratio": _log_ratio(l_mean, s_mean),
        "echo_median_log_ratio": _log_ratio(float(p50), s_med),
        "echo_contrast": (l_mean - s_mean) / (s_std + 1.0),
        "echo_cv": l_std / (l_mean + 4.0),
        "echo_spread_vs_ring": _log_ratio(l_std, s_std),
        "echo_p10_ratio": _log_ratio(float(p10), s_med),
        "echo_p90_ratio": _log_ratio(float(p90), s_med),
        "echo_dark_fraction": float((lesion < 0.35 * s_med).mean()),
        "echo_very_dark_fraction": float((lesion < 12).mean()),
        "echo_bright_fraction": float((lesion > s_med).mean()),
        "echo_coarse_spread": float(coarse.std()) / (s_std + 1.0),
        "echo_entropy": float(-(hist[hist > 0] * np.log(hist[hist > 0])).sum()),
        "echo_vs_image": _log_ratio(l_mean, float(img.mean())),
    }


def _margin(img: np.ndarray, region: np.ndarray, radius: float, centre: np.ndarray) -> dict[str, float]:
    band = max(2.0, 0.12 * radius)
    inside = region & ~_erode(region, band)
    outside = _dilate(region, band) & ~region
    smooth = cv2.GaussianBlur(img, (0, 0), 1.5)
    grad = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    edge = _dilate(region, 1.5) & ~_erode(region, 1.5)
    step = abs(_mean(img[outside], 0.0) - _mean(img[inside], 0.0))
    ys, xs = np.nonzero(inside | outside)
    angle = np.arctan2(ys - centre[1], xs - centre[0])
    sector = ((angle + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
    is_out = outside[ys, xs]
    values = img[ys, xs]
    contrasts = []
    for k in range(SECTORS):
        sel = sector == k
        o, i = values[sel & is_out], values[sel & ~is_out]
        if o.size and i.size:
            contrasts.append(float(o.mean() - i.mean()))
    c = np.array(contrasts) if contrasts else np.zeros(1)
    scale = abs(float(np.median(c))) + 4.0
    return {
        "margin_step": step / (float(img[outside].std()) + 1.0) if outside.any() else 0.0,
        "margin_gradient": float(grad[edge].mean()) / (step + 4.0),
        "margin_gradient_abs": float(np.log1p(grad[edge].mean())),
        "margin_sector_spread": float(c.std()) / scale,
        "margin_weak_sectors": float((c < 0.4 * np.median(c)).mean()),
        "margin_min_sector": float(c.min()) / scale,
    }


def _band_stats(img: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    return img[rows, cols].ravel()


def _posterior(img: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """The band under the lesion against the same rows beside it (left and right, half the lesion's
    width each), near (down to half the lesion's height) and far (to 1.5 heights). The same
    comparison above the lesion is subtracted: it cancels column-wise gain (fan edges, TGC)."""
    h_img, w_img = img.shape
    ys, xs = np.nonzero(region)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    w, h = x1 - x0, y1 - y0
    inset = int(0.15 * w)
    side_w = max(4, w // 2)
    centre_cols = slice(x0 + inset, max(x0 + inset + 1, x1 - inset))
    left_cols = slice(max(0, x0 - side_w), max(0, x0 - inset))
    right_cols = slice(min(w_img, x1 + inset), min(w_img, x1 + side_w))

    def ratio(rows: slice) -> tuple[float, float, list[float]]:
        below = _band_stats(img, rows, centre_cols)
        side = np.concatenate([_band_stats(img, rows, left_cols), _band_stats(img, rows, right_cols)])
        if below.size < 4 or side.size < 4:
            return 0.0, 0.0, [0.0]
        side_med = float(np.median(side))
        strips = [s for s in np.array_split(img[rows, centre_cols], POSTERIOR_STRIPS, axis=1) if s.size]
        return (
            _log_ratio(float(np.median(below)), side_med),
            (float(below.mean()) - float(side.mean())) / (float(side.std()) + 1.0),
            [_log_ratio(float(np.median(s)), side_med) for s in strips],
        )

    near_rows = slice(y1 + 1, min(h_img, y1 + 1 + max(6, h // 2)))
    far_rows = slice(min(h_img, y1 + 1 + max(6, h // 2)), min(h_img, y1 + 1 + max(12, 3 * h // 2)))
    above_rows = slice(max(0, y0 - max(6, h // 2)), max(0, y0 - 1))
    near, near_c, strips = ratio(near_rows)
    far, far_c, _ = ratio(far_rows)
    above, _, _ = ratio(above_rows)
    lesion_med = float(np.median(img[region]))
    below_all = _band_stats(img, near_rows, centre_cols)
    return {
        "posterior_near": near,
        "posterior_far": far,
        "posterior_near_contrast": near_c,
        "posterior_far_contrast": far_c,
        "posterior_near_minus_above": near - above,
        "posterior_far_minus_above": far - above,
        "posterior_strip_min": float(min(strips)),
        "posterior_strip_max": float(max(strips)),
        "posterior_strip_range": float(max(strips) - min(strips)),
        "posterior_vs_lesion": _log_ratio(float(np.median(below_all)), lesion_med) if below_all.size else 0.0,
        "posterior_room": float(far_rows.stop - near_rows.start) / max(1, h),
    }


_LOG_SHAPE = ("aspect_ratio", "width_height", "curvature_energy", "fourier_low", "fourier_high")


def lesion_features(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """All features of the largest lesion region of `mask` in the grayscale `image` (same size)."""
    image = np.asarray(image)
    mask = np.asarray(mask).astype(bool)
    if image.ndim != 2 or image.shape != mask.shape:
        raise InputError(f"image {image.shape} and mask {mask.shape} must be 2-D arrays of the same size")
    region = largest_region(mask)
    img = image.astype(np.float32)
    radius = float(np.sqrt(region.sum() / np.pi))
    ys, xs = np.nonzero(region)
    centre = np.array([xs.mean(), ys.mean()])
    shape = shape_descriptors(region)
    out = {f"shape_{k}": (float(np.log(v + 1e-6)) if k in _LOG_SHAPE else float(v)) for k, v in shape.items()}
    out["shape_relative_radius"] = radius / image.shape[0]
    out["shape_relative_depth"] = float(centre[1]) / image.shape[0]
    out.update(_intensity(img, region, radius))
    out.update(_margin(img, region, radius, centre))
    out.update(_posterior(img, region))
    return out
