"""Denoiser and encoder calls on the torch model (CPU fp32, CUDA fp16/bf16), numpy in and out, so
the one sampling loop (engine.generator.loop) is the same on every backend."""

from __future__ import annotations

import numpy as np
import torch

from engine.language.description import LesionDescription

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchBackend:
    """torch-cpu (fp32) or torch-cuda (fp16 by default, or bf16): float32 numpy arrays in and out,
    so the sampler's arithmetic is the same on every backend."""

    note = None

    def __init__(self, model, device: str = "cpu", dtype: str = "fp32", text_encoder=None):
        if dtype not in DTYPES:
            raise ValueError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        self.name = "torch-cuda" if str(device).startswith("cuda") else "torch-cpu"
        self.device = torch.device(device)
        self.dtype = DTYPES[dtype]
        self.model = model.to(self.device, self.dtype).eval().requires_grad_(False)
        # The conditioner is tiny and feeds float index features (margin subtypes) to its tables:
        # it stays fp32 and only its output sequence takes the denoiser's dtype.
        self.model.conditioner.float()
        self._text_encoder = text_encoder

    @property
    def text_encoder(self):
        if self._text_encoder is None:
            from engine.language.encoder import TextEncoder

            self._text_encoder = TextEncoder(max_tokens=self.model.conditioner.text_tokens)
        return self._text_encoder

    def about(self) -> dict:
        """Entries for the synthesis record."""
        return {"torch": torch.__version__, "threads": torch.get_num_threads(), "dtype": str(self.dtype)[6:]}

    @torch.no_grad()
    def denoise(self, noisy, conditions, timestep, sequence) -> np.ndarray:
        """(noisy [B,1,S,S], conditions [B,C,S,S], timestep [B], sequence [B,L,W]) -> [B,1,S,S] float32."""

        def tensor(x):
            return torch.from_numpy(np.require(x, requirements=("C", "W")))  # broadcast views are read-only

        def put(x):
            return tensor(x).to(self.device, self.dtype)

        t = tensor(timestep).to(self.device)
        out = self.model(put(noisy), put(conditions), t, put(sequence))
        return out.float().cpu().numpy()

    @torch.no_grad()
    def encode(self, text: str, description: LesionDescription | None, batch: int):
        """(conditional [B, L, W], unconditional [B, L, W]) float32 cross-attention sequences, rounded
        to the model's dtype (so fp16/bf16 runs see what the model would)."""
        from engine.language.encoder import description_to_indices

        conditioner = self.model.conditioner
        tokens, token_mask = self.text_encoder.encode_with_mask([text])
        cond = conditioner(
            put_like(tokens, conditioner), description_to_indices([description]), token_mask.to(self.device)
        )
        null = conditioner.null(batch)

        def out(x):
            return x.to(self.dtype).float().cpu().numpy()

        return np.repeat(out(cond), batch, axis=0), out(null)


def put_like(x: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    p = next(module.parameters())
    return x.to(p.device, p.dtype)
