"""Hand-made features of one lesion: its outline (engine.masks.descriptors) and the image around it.

Intensities are compared with the lesion's own surroundings, never with absolute gray levels, so
gain and dynamic range of the scanner matter little:
- echo pattern: the lesion core against a ring of surrounding tissue (mean, spread, dark and bright
  fractions, coarse heterogeneity);
- margin: contrast and gradient across the outline, and how evenly that contrast runs around it;
- posterior features: the columns below the lesion against the same depths beside it, as a curve
  over depth and split across the width (a combined pattern is part shadow, part enhancement);
  and (`below_*`) the same band against the whole image's depth-gain curve, as a lateral profile.
Distances scale with the lesion's equivalent radius R, so the features do not depend on pixel size.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import InputError
from engine.masks.descriptors import largest_region, shape_descriptors

SECTORS = 16


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


POSTERIOR_DEPTH_BINS = 6  # a quarter of the lesion's height each: down to 1.5 heights below it
POSTERIOR_MIN_PIXELS = 4


def _median_log_ratio(values: np.ndarray, reference: float) -> float:
    return _log_ratio(float(np.median(values)), reference) if values.size >= POSTERIOR_MIN_PIXELS else 0.0


def _posterior(img: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """What lies below the lesion against the same depths beside it (left and right, half the lesion's
    width each, a tenth of it away), as log ratios of medians (speckle and bright specks do not sway a
    median). Depth is counted from the lesion's own lower outline in each column and in units of its
    height, so the features do not depend on lesion size or pixel size:
    - the ratio curve over depth (quarter heights to 1.5 heights): enhancement > 0, shadowing < 0;
    - the same comparison above the lesion, subtracted: column-wise gain (fan edges, TGC) shows there too;
    - a lateral split: thirds and fifths of the width, and each outer third against its own side. A
      combined pattern is shadow under one part and enhancement under another: `*_both` is positive
      only when one part is brighter and another darker than the side;
    - edge shadows: narrow columns under the lesion's lateral edges (refraction);
    - percentiles of the band below against the side's median and quartiles.
    Rows or columns beyond the image are left out; a comparison with too few pixels reads 0 (no
    difference), and `posterior_room` says how much of the depth range the image holds."""
    h_img, w_img = img.shape
    ys, xs = np.nonzero(region)
    x0, x1, y0 = int(xs.min()), int(xs.max()) + 1, int(ys.min())
    w, h = x1 - x0, int(ys.max()) + 1 - y0
    bottom = np.full(w, -1)
    np.maximum.at(bottom, xs - x0, ys)  # lower outline, per column
    gap, side_w = max(2, round(0.1 * w)), max(6, round(0.5 * w))
    left = np.arange(max(0, x0 - gap - side_w), max(0, x0 - gap))
    right = np.arange(min(w_img, x1 + gap), min(w_img, x1 + gap + side_w))
    reference_row = int(np.median(bottom)) + 1

    def under(cols: np.ndarray, d0: float, d1: float) -> np.ndarray:
        parts = []
        for c in cols:
            r0 = min(h_img, int(bottom[c - x0] + 1 + d0 * h))
            parts.append(img[r0 : min(h_img, max(r0 + 1, int(bottom[c - x0] + 1 + d1 * h))), c])
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def beside(cols: np.ndarray, d0: float, d1: float) -> np.ndarray:
        r0 = min(h_img, int(reference_row + d0 * h))
        return img[r0 : min(h_img, max(r0 + 1, int(reference_row + d1 * h)))][:, cols].ravel()

    sides = np.concatenate([left, right])
    inset = max(1, round(0.1 * w))
    inner = np.arange(x0, x1)[inset : max(inset + 1, w - inset)]
    curve = []
    for k in range(POSTERIOR_DEPTH_BINS):
        below, side = under(inner, k / 4, (k + 1) / 4), beside(sides, k / 4, (k + 1) / 4)
        ok = below.size >= POSTERIOR_MIN_PIXELS and side.size >= POSTERIOR_MIN_PIXELS
        curve.append(_log_ratio(float(np.median(below)), float(np.median(side))) if ok else np.nan)
    curve = np.array(curve)
    valid = np.isfinite(curve)
    c = np.where(valid, curve, 0.0)
    near, mid, far = float(c[:2].mean()), float(c[2:4].mean()), float(c[4:].mean())

    above_rows = slice(max(0, y0 - max(4, h // 2)), max(0, y0 - 1))
    above_below, above_side = img[above_rows][:, inner].ravel(), img[above_rows][:, sides].ravel()
    above = _median_log_ratio(above_below, float(np.median(above_side))) if above_side.size >= 4 else 0.0

    side = beside(sides, 0.0, 1.0)
    if side.size < POSTERIOR_MIN_PIXELS:
        side = img[~region].ravel()
    side_med = float(np.median(side))
    split3 = np.array([_median_log_ratio(under(p, 0.0, 1.0), side_med) for p in np.array_split(inner, 3)])
    split5 = np.array([_median_log_ratio(under(p, 0.0, 1.0), side_med) for p in np.array_split(inner, 5)])
    own = []  # each outer third against the side next to it
    for part, cols in zip(np.array_split(np.arange(x0, x1), 3)[::2], (left, right), strict=True):
        own_side = beside(cols, 0.0, 1.0)
        own.append(
            _median_log_ratio(under(part, 0.0, 1.0), float(np.median(own_side)))
            if own_side.size >= 4
            else 0.0
        )
    own = np.array(own)
    edge_w = max(2, round(0.12 * w))
    edges = [
        _median_log_ratio(under(cols, 0.0, 1.0), side_med)
        for cols in (np.arange(x0, min(x1, x0 + edge_w)), np.arange(max(x0, x1 - edge_w), x1))
    ]

    below = under(inner, 0.0, 1.0)
    out = {
        "near": near,
        "mid": mid,
        "far": far,
        "curve_min": float(c[valid].min()) if valid.any() else 0.0,
        "curve_max": float(c[valid].max()) if valid.any() else 0.0,
        "slope": far - near,
        "near_minus_above": near - above,
        "mid_minus_above": mid - above,
        "sub_min": float(split3.min()),
        "sub_max": float(split3.max()),
        "sub_spread": float(split3.max() - split3.min()),
        "sub_both": float(min(split3.max(), -split3.min())),
        "sub5_spread": float(split5.max() - split5.min()),
        "sub5_both": float(min(split5.max(), -split5.min())),
        "sub5_std": float(split5.std()),
        "own_side_min": float(own.min()),
        "own_side_max": float(own.max()),
        "own_side_both": float(min(own.max(), -own.min())),
        "edge_min": float(min(edges)),
        "edge_minus_centre": float(min(edges) - split3[1]),
        "room": float(valid.mean()),
        "vs_lesion": _median_log_ratio(below, float(np.median(img[region]))),
    }
    if below.size >= POSTERIOR_MIN_PIXELS:
        p10, p25, p75, p90 = np.percentile(below, [10, 25, 75, 90])
        s25, s75 = np.percentile(side, [25, 75])
        out.update(
            p10=_log_ratio(p10, side_med),
            p25=_log_ratio(p25, side_med),
            p75=_log_ratio(p75, side_med),
            p90=_log_ratio(p90, side_med),
            iqr_ratio=_log_ratio(p75 - p25, s75 - s25),
            dark_frac=float((below < s25).mean()),
            bright_frac=float((below > s75).mean()),
        )
    else:  # nothing below the lesion in the image: read as no difference
        out.update(p10=0.0, p25=0.0, p75=0.0, p90=0.0, iqr_ratio=0.0, dark_frac=0.25, bright_frac=0.25)
    return {f"posterior_{k}": float(v) for k, v in out.items()}


BELOW_BANDS = {"near": (0.1, 0.6), "full": (0.1, 1.0), "deep": (0.5, 1.5)}  # in depth units D below


def _scan_area(img: np.ndarray) -> np.ndarray:
    """Pixels of the scan itself: not the black border around a sector or a letterbox."""
    area = cv2.medianBlur(np.clip(img, 0, 255).astype(np.uint8), 5) > 6
    return cv2.morphologyEx(area.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8)).astype(bool)


def _depth_curve(smooth: np.ndarray, reference: np.ndarray, fallback: float) -> np.ndarray:
    """Median gray level per row over the `reference` pixels (the time-gain curve as the scanner set it
    and the tissue shaped it), rows without enough pixels interpolated, smoothed over 5 % of the height;
    flat at `fallback` when fewer than two rows have enough (a lesion as wide as the image)."""
    h_img = smooth.shape[0]
    values = np.where(reference, smooth, np.nan)
    enough = reference.sum(axis=1) >= 8
    curve = np.full(h_img, np.nan)
    if enough.any():
        curve[enough] = np.nanmedian(values[enough], axis=1)
    if enough.sum() < 2:
        return np.full(h_img, fallback, np.float32)
    rows = np.nonzero(enough)[0]
    curve = np.interp(np.arange(h_img), rows, curve[rows]).astype(np.float32)
    k = max(3, int(0.05 * h_img)) | 1
    return cv2.blur(curve.reshape(-1, 1), (1, k)).ravel()


def _below(img: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """The band below the lesion against the image's own depth-gain curve (row medians of the scan
    area away from the lesion's columns), as a lateral profile from half a width left of the lesion
    to half a width right of it. Each column's median over a depth band below the lesion's own lower
    outline (beside the lesion: below its median bottom) is a log ratio to the curve; under the
    lesion's inner columns against the columns beside it: median, lowest and highest (smoothed over
    a sixth of the profile), and the fractions darker or brighter by more than 0.25. Three bands
    (near, full, deep: `BELOW_BANDS`) in units D = max(height, 0.6 width), since flat lesions cast
    their pattern deeper than their height. Outside the scan area (sector borders) and below the
    image nothing is read; a band with too few columns reads 0 (no difference)."""
    h_img, w_img = img.shape
    ys, xs = np.nonzero(region)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    w, h = x1 - x0, y1 - y0
    bottom = np.full(w_img, -1)
    np.maximum.at(bottom, xs, ys)
    scan = _scan_area(img) & ~cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    lesion_cols = np.zeros(w_img, bool)
    lesion_cols[max(0, x0 - w // 4) : min(w_img, x1 + w // 4)] = True
    smooth = cv2.GaussianBlur(img, (0, 0), 2.0)
    curve = _depth_curve(smooth, scan & ~lesion_cols[None, :], float(np.median(img)))
    norm = np.log((smooth + 4.0) / (curve[:, None] + 4.0))
    depth = max(h, int(0.6 * w))
    side_row = int(np.median(bottom[x0:x1])) + 1
    cols = np.arange(max(0, x0 - w // 2), min(w_img, x1 + w // 2))
    inner = (cols >= x0 + w // 10) & (cols < x1 - w // 10)
    outer = (cols < x0) | (cols >= x1)
    out = {}
    for name, (d0, d1) in BELOW_BANDS.items():
        profile = np.full(len(cols), np.nan)
        for i, c in enumerate(cols):
            base = bottom[c] + 1 if x0 <= c < x1 else side_row
            r0 = min(h_img, int(base + d0 * depth))
            r1 = min(h_img, max(r0 + 1, int(base + d1 * depth)))
            seen = scan[r0:r1, c]
            if r1 - r0 >= 3 and seen.sum() >= 3:
                profile[i] = np.median(norm[r0:r1, c][seen])
        under, beside = profile[inner], profile[outer]
        under, beside = under[np.isfinite(under)], beside[np.isfinite(beside)]
        if under.size < 3:
            out.update(
                {f"{name}_{k}": 0.0 for k in ("level", "vs_side", "low", "high", "dark", "bright", "both")}
            )
            continue
        side = float(np.median(beside)) if beside.size >= 3 else 0.0
        smooth_profile = cv2.blur(
            under.reshape(1, -1).astype(np.float32), (max(1, under.size // 6), 1)
        ).ravel()
        dark, bright = (
            float((smooth_profile < side - 0.25).mean()),
            float((smooth_profile > side + 0.25).mean()),
        )
        out.update(
            {
                f"{name}_level": float(np.median(under)),
                f"{name}_vs_side": float(np.median(under)) - side,
                f"{name}_low": float(smooth_profile.min()) - side,
                f"{name}_high": float(smooth_profile.max()) - side,
                f"{name}_dark": dark,
                f"{name}_bright": bright,
                f"{name}_both": min(dark, bright),
            }
        )
    above = norm[max(0, y0 - h // 2) : y0, x0:x1]
    out["lesion"] = float(np.median(norm[region]))
    out["above"] = float(np.median(above)) if above.size else 0.0
    out["room"] = float(min(1.0, (h_img - y1) / depth))
    return {f"below_{k}": float(v) for k, v in out.items()}


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
    out.update(_below(img, region))
    return out
