"""Training and prediction loops of the downstream models (seeded: same seed, same weights).

Augmentation is a horizontal flip and a small brightness/contrast change only: ultrasound has a
top (the skin), so no vertical flips or rotations. Batches are drawn and augmented on the CPU with a
seeded generator and then moved to the device, so a seed picks the same batches on a CPU and a GPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from engine.errors import InputError
from engine.evaluation.arrays import ArraySet
from engine.evaluation.models import SmallCNN, UNet


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch: int = 16
    lr: float = 2e-3
    base: int = 8  # model width
    depth: int = 3  # UNet depth / CNN stages
    weight_decay: float = 1e-4

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_device(requested: str = "auto") -> str:
    """'cpu', or 'cuda' where asked for (or 'auto') and torch sees a GPU."""
    if requested not in ("auto", "cpu", "cuda"):
        raise InputError(f"device {requested!r} is not one of auto, cpu, cuda")
    if requested == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device cuda: this torch ({torch.__version__}) sees no usable CUDA GPU; use cpu")
    return "cuda" if requested != "cpu" and torch.cuda.is_available() else "cpu"


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _seed_all(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _augment(x: torch.Tensor, gen: torch.Generator, y: torch.Tensor | None = None):
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if y is not None:
        y = torch.where(flip[:, None, None], y.flip(-1), y)
    gain = 1 + 0.2 * (torch.rand(x.shape[0], 1, 1, 1, generator=gen) - 0.5)
    shift = 0.1 * (torch.rand(x.shape[0], 1, 1, 1, generator=gen) - 0.5)
    return (x * gain + shift).clamp(0, 1), y


def _batches(n: int, batch: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n, batch):
        yield order[i : i + batch]


def _check(data: ArraySet, size_multiple: int):
    if len(data) < 2:
        raise InputError(f"training set {data.name!r} has {len(data)} images; at least 2 are needed")
    if data.images.shape[-1] % size_multiple:
        raise InputError(f"image size {data.images.shape[-1]} must be divisible by {size_multiple}")


def train_segmentation(
    data: ArraySet, cfg: TrainConfig, seed: int, progress=None, device: str = "cpu"
) -> UNet:
    _check(data, 2**cfg.depth)
    gen = _seed_all(seed)
    model = UNet(cfg.base, cfg.depth).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x_all = torch.from_numpy(data.images)
    y_all = torch.from_numpy(data.masks.astype(np.float32))
    bce = nn.BCEWithLogitsLoss()
    model.train()
    for _ in progress(range(cfg.epochs)) if progress else range(cfg.epochs):
        for idx in _batches(len(data), cfg.batch, gen):
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            x, y = _augment(x_all[idx], gen, y_all[idx])
            x, y = x.to(device), y.to(device)
            logits = model(x)[:, 0]
            prob = torch.sigmoid(logits)
            soft_dice = 1 - (2 * (prob * y).sum((1, 2)) + 1) / (prob.sum((1, 2)) + y.sum((1, 2)) + 1)
            loss = bce(logits, y) + soft_dice.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def train_classifier(
    data: ArraySet, cfg: TrainConfig, seed: int, progress=None, device: str = "cpu"
) -> SmallCNN:
    _check(data, 2**cfg.depth)
    gen = _seed_all(seed)
    model = SmallCNN(cfg.base, cfg.depth).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x_all = torch.from_numpy(data.images)
    y_all = torch.from_numpy(data.labels.astype(np.float32))
    # class-balanced: benign images outnumber malignant ones about 2:1 in BUSI and BrEaST
    n_pos = float(y_all.sum())
    pos_weight = torch.tensor((len(y_all) - n_pos) / max(n_pos, 1.0))
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight.to(device))
    model.train()
    for _ in progress(range(cfg.epochs)) if progress else range(cfg.epochs):
        for idx in _batches(len(data), cfg.batch, gen):
            if len(idx) < 2:
                continue
            x, _ = _augment(x_all[idx], gen)
            loss = bce(model(x.to(device)), y_all[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def predict_masks(model: UNet, images: np.ndarray, batch: int = 32) -> np.ndarray:
    device = _device_of(model)
    out = [
        torch.sigmoid(model(torch.from_numpy(images[i : i + batch]).to(device)))[:, 0].cpu().numpy() >= 0.5
        for i in range(0, len(images), batch)
    ]
    return np.concatenate(out) if out else np.zeros((0, *images.shape[2:]), bool)


@torch.no_grad()
def predict_malignancy(model: SmallCNN, images: np.ndarray, batch: int = 64) -> np.ndarray:
    device = _device_of(model)
    out = [
        torch.sigmoid(model(torch.from_numpy(images[i : i + batch]).to(device))).cpu().numpy()
        for i in range(0, len(images), batch)
    ]
    return np.concatenate(out) if out else np.zeros(0, np.float32)
