"""Tiny seeded stand-ins for generator tests: a small denoiser and a hashing text encoder."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from engine.generator.unet import DenoiserConfig, GeneratorModel

TEXT_TOKENS = 4
WIDTH = 384


class HashTextEncoder:
    """Deterministic [B, T, W] tokens from a hash of each text (stands in for the frozen MiniLM)."""

    def __init__(self, tokens: int = TEXT_TOKENS, width: int = WIDTH):
        self.max_tokens, self.width = tokens, width

    def encode_with_mask(self, texts):
        out, masks = [], []
        for t in texts:
            seed = int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)
            g = torch.Generator().manual_seed(seed)
            out.append(torch.randn(self.max_tokens, self.width, generator=g))
            masks.append(torch.ones(self.max_tokens, dtype=torch.bool))
        return torch.stack(out), torch.stack(masks)

    def encode(self, texts):
        return self.encode_with_mask(texts)[0]


def tiny_config() -> DenoiserConfig:
    return DenoiserConfig(block_out_channels=(8, 16), norm_num_groups=8, attention_head_dim=8)


def tiny_model(seed: int = 0) -> GeneratorModel:
    torch.manual_seed(seed)
    model = GeneratorModel(tiny_config(), TEXT_TOKENS)
    # Give the null sequence and the output layer some weight so guidance and conditions matter.
    with torch.no_grad():
        model.conditioner.null_sequence.normal_(0, 1)
        for p in model.denoiser.unet.conv_out.parameters():
            p.normal_(0, 0.2)
    return model


def tissue(shape=(180, 240), seed=0) -> np.ndarray:
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    env = np.abs(ndimage.gaussian_filter(z.real, 1.5) + 1j * ndimage.gaussian_filter(z.imag, 1.5))
    return np.clip(env / env.mean() * 100, 0, 255).astype(np.uint8)


def ellipse(shape=(180, 240), cy=60, cx=120, ry=16, rx=24) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
