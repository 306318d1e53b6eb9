"""The denoiser: a small conditional UNet on a 64x64 window, run at 32x32 after a pixel unshuffle.

Input channels (model grid): the noisy window, the lesion mask (soft, area-resampled), the soft
boundary band, the generation region, and the known context (the window with the region blanked).
A 2x2 pixel unshuffle turns 64x64x5 into 32x32x20, so the diffusers UNet2DConditionModel runs on a
32x32 grid and cross-attention (on the DescriptionConditioner sequence) only at 16x16 and 8x8:
on this CPU that is about 4x cheaper than a UNet at 64x64 with the same widths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

CONDITION_CHANNELS = ("mask", "band", "region", "context")


@dataclass
class DenoiserConfig:
    size: int = 64
    patch: int = 2
    block_out_channels: tuple[int, ...] = (32, 64, 96)
    layers_per_block: int = 1
    attention_head_dim: int = 8
    norm_num_groups: int = 16
    cross_attention_dim: int = 384
    condition_channels: tuple[str, ...] = field(default_factory=lambda: CONDITION_CHANNELS)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["block_out_channels"] = list(self.block_out_channels)
        d["condition_channels"] = list(self.condition_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DenoiserConfig:
        d = dict(d)
        d["block_out_channels"] = tuple(d["block_out_channels"])
        d["condition_channels"] = tuple(d.get("condition_channels", CONDITION_CHANNELS))
        return cls(**d)


class WindowDenoiser(nn.Module):
    """(noisy [B,1,S,S], conditions [B,C,S,S], timestep [B], sequence [B,L,384]) -> prediction [B,1,S,S]."""

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        from diffusers import UNet2DConditionModel

        self.config = config
        p = config.patch
        levels = len(config.block_out_channels)
        in_ch = (1 + len(config.condition_channels)) * p * p
        self.unshuffle = nn.PixelUnshuffle(p)
        self.shuffle = nn.PixelShuffle(p)
        self.unet = UNet2DConditionModel(
            sample_size=config.size // p,
            in_channels=in_ch,
            out_channels=p * p,
            block_out_channels=tuple(config.block_out_channels),
            down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (levels - 1),
            up_block_types=("CrossAttnUpBlock2D",) * (levels - 1) + ("UpBlock2D",),
            layers_per_block=config.layers_per_block,
            cross_attention_dim=config.cross_attention_dim,
            attention_head_dim=config.attention_head_dim,
            norm_num_groups=config.norm_num_groups,
        )

    def forward(self, noisy, conditions, timestep, sequence):
        x = self.unshuffle(torch.cat([noisy, conditions], dim=1))
        if timestep.dim() == 0:
            timestep = timestep.expand(x.shape[0])
        out = self.unet(x, timestep, encoder_hidden_states=sequence, return_dict=False)[0]
        return self.shuffle(out)


class GeneratorModel(nn.Module):
    """Everything learned, saved in one safetensors file: the denoiser and the description conditioner."""

    def __init__(self, config: DenoiserConfig, text_tokens: int | None = None):
        super().__init__()
        from engine.language.encoder import DEFAULT_MAX_TOKENS, DescriptionConditioner

        self.denoiser = WindowDenoiser(config)
        self.conditioner = DescriptionConditioner(
            text_tokens or DEFAULT_MAX_TOKENS, config.cross_attention_dim
        )

    def forward(self, noisy, conditions, timestep, sequence):
        return self.denoiser(noisy, conditions, timestep, sequence)
