"""Denoiser and encoder calls on the torch model (CPU fp32, CUDA fp16/bf16), and an adapter that lets
the torch pipeline call a numpy backend (onnxruntime) with the same code."""

from __future__ import annotations

import numpy as np
import torch

from engine.language.description import LesionDescription

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchBackend:
    """torch-cpu (fp32) or torch-cuda (fp16 by default, or bf16): returns float32 CPU tensors so the
    sampler's arithmetic is the same on every backend."""

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

    @torch.no_grad()
    def denoise(self, noisy, conditions, timestep, sequence) -> torch.Tensor:
        def put(x):
            return x.to(self.device, self.dtype)

        out = self.model(put(noisy), put(conditions), timestep.to(self.device), put(sequence))
        return out.float().cpu()

    @torch.no_grad()
    def encode(self, text: str, description: LesionDescription | None, batch: int):
        from engine.language.encoder import description_to_indices

        conditioner = self.model.conditioner
        tokens, token_mask = self.text_encoder.encode_with_mask([text])
        cond = conditioner(
            put_like(tokens, conditioner), description_to_indices([description]), token_mask.to(self.device)
        )
        return cond.to(self.dtype).expand(batch, -1, -1), conditioner.null(batch).to(self.dtype)


def put_like(x: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    p = next(module.parameters())
    return x.to(p.device, p.dtype)


class NumpyBackendAdapter:
    """Wraps a numpy backend (onnxruntime) so the torch pipeline calls it like a torch backend."""

    def __init__(self, backend):
        self.backend = backend
        self.name = backend.name
        self.note = getattr(backend, "note", None)

    def denoise(self, noisy, conditions, timestep, sequence) -> torch.Tensor:
        out = self.backend.denoise(noisy.numpy(), conditions.numpy(), timestep.numpy(), sequence.numpy())
        return torch.from_numpy(np.asarray(out))

    def encode(self, text: str, description: LesionDescription | None, batch: int):
        cond, uncond = self.backend.encode(text, description, batch)
        return torch.from_numpy(cond), torch.from_numpy(uncond)
