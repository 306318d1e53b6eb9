"""Realism by a distance between feature distributions: FID and KID, on features of a network the
project trained on real ultrasound (the click segmenter's encoder), and on Inception v3 when the
user supplies its weights as a file.

The reference scale is a real-vs-real split half: the held-out images are split into two halves
by image, and a method's distance is taken between one half's real windows and the other half's
synthetic ones (both ways, averaged), so the real-vs-real figure and a method's figure come from
the same numbers of lesions and never compare a window with its own twin. FID is biased upwards
at small N; only figures at the same N are comparable.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.errors import InputError, ModelError

REAL_VS_REAL = "real vs real (split half)"


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^1/2) of two [N, D] feature sets."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InputError(f"FID needs two [N >= 2, D] feature sets, got {a.shape} and {b.shape}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    (na, d), nb = a.shape, len(b)
    xa, xb = a - a.mean(0), b - b.mean(0)
    diff = a.mean(0) - b.mean(0)
    if min(na, nb) <= d:
        # fewer samples than features: with C = X^T X / (n - 1), the non-zero eigenvalues of C_a C_b
        # are the squared singular values of X_a X_b^T / sqrt((na - 1)(nb - 1)), so the trace of the
        # root is their sum; exact, and small matrices (N x N instead of D x D)
        trace_root = np.linalg.svd(xa @ xb.T, compute_uv=False).sum() / np.sqrt((na - 1) * (nb - 1))
    else:
        # tr((C_a C_b)^1/2) is the sum of the square roots of C_a C_b's eigenvalues (real and >= 0
        # for a product of two covariances; round-off can leave tiny negative or imaginary parts)
        eigenvalues = np.linalg.eigvals((xa.T @ xa / (na - 1)) @ (xb.T @ xb / (nb - 1)))
        trace_root = np.sqrt(np.clip(eigenvalues.real, 0.0, None)).sum()
    trace_a, trace_b = (xa**2).sum() / (na - 1), (xb**2).sum() / (nb - 1)
    return float(diff @ diff + trace_a + trace_b - 2.0 * trace_root)


def kernel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """KID: the unbiased squared MMD with the cubic polynomial kernel (x.y / D + 1)^3."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InputError(f"KID needs two [N >= 2, D] feature sets, got {a.shape} and {b.shape}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    d = a.shape[1]
    k_aa = (a @ a.T / d + 1) ** 3
    k_bb = (b @ b.T / d + 1) ** 3
    k_ab = (a @ b.T / d + 1) ** 3
    m, n = len(a), len(b)
    return float(
        (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
        + (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
        - 2.0 * k_ab.mean()
    )


def split_half_distances(
    real: np.ndarray, methods: dict[str, np.ndarray], groups: list[str], splits: int = 10, seed: int = 0
) -> dict[str, dict]:
    """FID and KID (mean and sd over `splits` random halvings by image) of each method against real,
    and of real against real. `real` and every method's features are [N, D], item i from image
    groups[i]."""
    unique = sorted(set(groups))
    if len(unique) < 4:
        raise InputError(f"split-half distances need lesions of at least 4 images, got {len(unique)}")
    groups_arr = np.asarray(groups)
    rng = np.random.default_rng(seed)
    values: dict[str, dict[str, list[float]]] = {
        name: {"fid": [], "kid": []} for name in [REAL_VS_REAL, *methods]
    }
    for _ in range(splits):
        half = set(rng.permutation(unique)[: len(unique) // 2].tolist())
        a = np.isin(groups_arr, list(half))
        b = ~a
        values[REAL_VS_REAL]["fid"].append(frechet_distance(real[a], real[b]))
        values[REAL_VS_REAL]["kid"].append(kernel_distance(real[a], real[b]))
        for name, feats in methods.items():
            values[name]["fid"].append(
                0.5 * (frechet_distance(real[a], feats[b]) + frechet_distance(real[b], feats[a]))
            )
            values[name]["kid"].append(
                0.5 * (kernel_distance(real[a], feats[b]) + kernel_distance(real[b], feats[a]))
            )
    return {
        name: {
            "fid": float(np.mean(v["fid"])),
            "fid_sd": float(np.std(v["fid"])),
            "kid": float(np.mean(v["kid"])),
            "kid_sd": float(np.std(v["kid"])),
            "n_per_half": int(len(real) // 2),
            "splits": splits,
        }
        for name, v in values.items()
    }


# --- features ------------------------------------------------------------------------------------


def window_box(window_mask: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a model-grid mask's lesion (soft masks: above one half)."""
    ys, xs = np.nonzero(window_mask > 0.5)
    if ys.size == 0:
        raise InputError("the lesion vanished when its window was resampled; it is too small to measure")
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def segmenter_features(segmenter, windows: np.ndarray, boxes, batch: int = 64) -> np.ndarray:
    """[N, C] features: the click segmenter's encoder bottleneck, averaged over the window.

    The input is what the annotation tools give it: the window's gray values and a box prior on the
    lesion's box (`boxes`: (x0, y0, x1, y1) in window pixels). Windows of another size are resampled
    to the segmenter's own window.
    """
    import torch

    from engine.annotation.window import Window, box_prior, model_input

    px = segmenter.window_px
    inputs = []
    for window, box in zip(windows, boxes, strict=True):
        scale = px / window.shape[0]
        gray = cv2.resize(window.astype(np.float32) * 255.0, (px, px), interpolation=cv2.INTER_AREA)
        prior = box_prior(Window(0.0, 0.0, float(px)), [v * scale for v in box], px)
        inputs.append(model_input(gray, prior))
    net = segmenter.net
    out = []
    previous = torch.get_num_threads()
    torch.set_num_threads(segmenter.threads)
    try:
        with torch.inference_mode():
            for i in range(0, len(inputs), batch):
                x = torch.from_numpy(np.stack(inputs[i : i + batch]))
                for level, block in enumerate(net.down):  # the UNet's encoder, as in UNet.forward
                    x = block(x if level == 0 else net.pool(x))
                out.append(x.mean(dim=(2, 3)).numpy())
    finally:
        torch.set_num_threads(previous)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


class InceptionFeatures:
    """Inception v3 (torchvision's ImageNet weights, from a state-dict file): the 2048 pool
    features of each window, resized to 299 px, grey repeated on three channels, ImageNet-normalized."""

    SIZE = 299
    MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]

    def __init__(self, path: Path):
        import torch

        from engine.generator.inception import InceptionV3Features

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: no Inception weights file here")
        net = InceptionV3Features()
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
                state = state["state_dict"]
            net.load_torchvision_state({k: v.float() for k, v in state.items()})
        except (RuntimeError, OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            raise ModelError(f"{path}: not a torchvision inception_v3 state dict: {str(exc)[:300]}") from exc
        self.net = net.eval()
        self.path = path

    def __call__(self, windows: np.ndarray, batch: int = 16) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(windows), batch):
                x = np.stack(
                    [
                        cv2.resize(
                            w.astype(np.float32), (self.SIZE, self.SIZE), interpolation=cv2.INTER_LINEAR
                        )
                        for w in windows[i : i + batch]
                    ]
                )[:, None]
                x = (np.repeat(x, 3, axis=1) - self.MEAN) / self.STD
                out.append(self.net(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy())
        return np.concatenate(out) if out else np.zeros((0, 2048), np.float32)
