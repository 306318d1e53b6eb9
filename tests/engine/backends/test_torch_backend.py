import numpy as np
import pytest
import torch

from engine.backends.torch_backend import TorchBackend
from tests.engine.generator.tiny import HashTextEncoder, tiny_model


def test_reduced_precision_path_runs_and_stays_close_to_fp32():
    """torch-cuda runs the model in fp16/bf16; the same code path on CPU (bf16) gives fp32 CPU results."""
    g = torch.Generator().manual_seed(0)
    x, c = torch.randn(2, 1, 64, 64, generator=g).numpy(), torch.rand(2, 4, 64, 64, generator=g).numpy()
    t = np.array([900, 900])
    full = TorchBackend(tiny_model(), text_encoder=HashTextEncoder())
    half = TorchBackend(tiny_model(), dtype="bf16", text_encoder=HashTextEncoder())
    cond_f, null_f = full.encode("oval mass", None, 2)
    cond_h, null_h = half.encode("oval mass", None, 2)
    # numpy float32 out, holding bf16 values (what the model sees), on every backend
    assert cond_h.dtype == np.float32 and cond_h.shape == cond_f.shape
    assert np.array_equal(cond_h, torch.from_numpy(cond_h).bfloat16().float().numpy())
    out_f = full.denoise(x, c, t, np.concatenate([cond_f[:1], null_f[:1]]))
    out_h = half.denoise(x, c, t, np.concatenate([cond_h[:1], null_h[:1]]))
    assert out_h.dtype == np.float32 and isinstance(out_h, np.ndarray)
    err = np.abs(out_h - out_f).max()
    assert 0 < err < 0.1 * np.abs(out_f).max()


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="fp16"):
        TorchBackend(tiny_model(), dtype="int4")
