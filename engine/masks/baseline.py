"""The baseline the paper's authors used before: an ellipse with a random elastic deformation.

Kept only to measure the semantic-curvature generator against (figures 2 and 4). The ellipse gets
the same size, aspect and orientation priors as the generator; the deformation is a smooth random
displacement field (Gaussian-filtered uniform noise, as in Simard et al. 2003) whose strength and
smoothness are tuned per class on the same real masks (`tune_elastic`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.masks.priors import Priors


@dataclass(frozen=True)
class Elastic:
    alpha: float  # displacement strength, in pixels of a 256-pixel canvas
    sigma: float  # smoothness of the displacement field, pixels


def elastic_ellipse(
    shape_name: str, seed: int, priors: Priors, elastic: Elastic, size_px: float = 150.0, canvas: int = 256
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    aspect = max(1.0, float(np.exp(rng.normal(**_normal(priors.shapes[shape_name]["aspect"])))))
    parallel = rng.random() < priors.parallel_fraction
    angle = (0.0 if parallel else 90.0) + rng.normal(0, priors.orientation_sd_deg)
    mask = np.zeros((canvas, canvas), np.uint8)
    c = (canvas // 2, canvas // 2)
    cv2.ellipse(mask, c, (int(size_px / 2), max(1, int(size_px / 2 / aspect))), angle, 0, 360, 1, -1)
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (canvas, canvas)).astype(np.float32), (0, 0), elastic.sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (canvas, canvas)).astype(np.float32), (0, 0), elastic.sigma)
    # normalise the field so alpha is the typical displacement whatever the smoothness
    scale = elastic.alpha / max(float(np.sqrt((dx**2 + dy**2).mean())), 1e-9)
    yy, xx = np.mgrid[:canvas, :canvas].astype(np.float32)
    warped = cv2.remap(mask.astype(np.float32), xx + dx * scale, yy + dy * scale, cv2.INTER_LINEAR)
    return warped >= 0.5


def _normal(p: dict) -> dict:
    return {"loc": p["log_mean"], "scale": p["log_sd"]}


ALPHAS = (1.0, 3.0, 6.0, 10.0, 16.0)
SIGMAS = (4.0, 8.0, 16.0)


def tune_elastic(loss_of) -> tuple[Elastic, float]:
    """Grid search: the Elastic with the lowest `loss_of(elastic)`."""
    best = None
    for sigma in SIGMAS:
        for alpha in ALPHAS:
            e = Elastic(alpha, sigma)
            loss = loss_of(e)
            if best is None or loss < best[1]:
                best = (e, loss)
    return best
