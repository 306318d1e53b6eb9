"""Sampling math without torch: torch's CPU `randn` and diffusers' DPM-Solver++ (2M) in numpy.

The torch-free generation mode needs both to give the same result as the torch pipeline for the same
seed: `torch_randn` reproduces torch.Generator().manual_seed(seed) + torch.randn bit for bit up to
float rounding (mt19937, 24-bit uniforms, Box-Muller in blocks of 16), and `DPMSolverPP` follows
diffusers' DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2) with its defaults
(linspace spacing, midpoint solver, lower-order final steps, final sigma zero).
"""

from __future__ import annotations

import math

import numpy as np

from engine.errors import InputError, ModelError


def torch_randn(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """float32 standard normal samples equal to torch.randn(shape, generator=manual_seed(seed)) on CPU."""
    n = int(np.prod(shape))
    if n < 16:
        # torch draws fewer than 16 values with a different (scalar) routine; the pipeline never does.
        raise InputError(f"torch_randn needs at least 16 values, got shape {shape}")
    bits = np.random.MT19937(0)
    bits._legacy_seeding(int(seed))  # mt19937 init_genrand(seed), as torch's CPU generator
    raw = bits.random_raw(n + (16 if n % 16 else 0)) & np.uint64((1 << 24) - 1)
    uniform = (raw.astype(np.float64) * 2.0**-24).astype(np.float32)
    out = uniform[:n].copy()
    _box_muller_16(out[: n - n % 16])
    if n % 16:
        # torch redraws the last 16 values with fresh uniforms when n is not a multiple of 16
        tail = uniform[n:].copy()
        _box_muller_16(tail)
        out[n - 16 :] = tail
    return out.reshape(shape)


def _box_muller_16(values: np.ndarray) -> None:
    blocks = values.reshape(-1, 16)
    u1 = np.float32(1.0) - blocks[:, :8]
    u2 = blocks[:, 8:]
    radius = np.sqrt(np.float32(-2.0) * np.log(u1))
    theta = np.float32(2.0 * math.pi) * u2
    blocks[:, :8], blocks[:, 8:] = radius * np.cos(theta), radius * np.sin(theta)


def _alphas_cumprod(schedule: dict) -> np.ndarray:
    n = int(schedule.get("num_train_timesteps", 1000))
    kind = schedule.get("beta_schedule", "squaredcos_cap_v2")
    if kind == "squaredcos_cap_v2":

        def alpha_bar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = np.array(
            [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)], np.float32
        )
    elif kind == "linear":
        betas = np.linspace(
            schedule.get("beta_start", 1e-4), schedule.get("beta_end", 0.02), n, dtype=np.float32
        )
    elif kind == "scaled_linear":
        start, end = schedule.get("beta_start", 1e-4) ** 0.5, schedule.get("beta_end", 0.02) ** 0.5
        betas = np.linspace(start, end, n, dtype=np.float32) ** 2
    else:
        raise ModelError(f"noise schedule {kind!r} is not supported without torch")
    return np.cumprod(np.float32(1.0) - betas, dtype=np.float32)


class DPMSolverPP:
    """Multistep DPM-Solver++ of order 2 over the model's training schedule, numpy only."""

    order = 1

    def __init__(self, schedule: dict):
        if schedule.get("prediction_type", "epsilon") not in ("v_prediction", "epsilon", "sample"):
            raise ModelError(f"prediction type {schedule.get('prediction_type')!r} is not supported")
        self.prediction_type = schedule.get("prediction_type", "epsilon")
        self.num_train_timesteps = int(schedule.get("num_train_timesteps", 1000))
        self.alphas_cumprod = _alphas_cumprod(schedule)
        self.init_noise_sigma = 1.0
        self.timesteps = np.zeros(0, np.int64)
        self.sigmas = np.zeros(1, np.float32)
        self._begin = 0

    def set_timesteps(self, steps: int) -> None:
        last = self.num_train_timesteps  # lambda_min_clipped is -inf in the default config
        self.timesteps = np.linspace(0, last - 1, steps + 1).round()[::-1][:-1].copy().astype(np.int64)
        all_sigmas = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
        sigmas = np.interp(self.timesteps, np.arange(len(all_sigmas)), all_sigmas)
        self.sigmas = np.concatenate([sigmas, [0.0]]).astype(np.float32)
        self._outputs: list[np.ndarray | None] = [None, None]
        self._lower_order_nums = 0
        self._index = None
        self._begin = 0

    def set_begin_index(self, begin: int) -> None:
        self._begin = int(begin)

    def scale_model_input(self, sample: np.ndarray, t) -> np.ndarray:
        return sample

    @staticmethod
    def _alpha_sigma(sigma):
        alpha = np.float32(1.0) / np.sqrt(np.float32(sigma) ** 2 + np.float32(1.0))
        return alpha, np.float32(sigma) * alpha

    def add_noise(self, original: np.ndarray, noise: np.ndarray, timestep=None) -> np.ndarray:
        """Noise the samples to the first timestep run: the one at the begin index (as diffusers
        does once a begin index is set; `timestep` is that one and is not looked up)."""
        alpha, sigma = self._alpha_sigma(self.sigmas[self._begin])
        return alpha * original + sigma * noise

    def step(self, model_output: np.ndarray, timestep, sample: np.ndarray) -> np.ndarray:
        """One solver step from the current index (`timestep` is the one at it, for the common call)."""
        if self._index is None:
            self._index = self._begin
        i, n = self._index, len(self.timesteps)
        alpha_s0, sigma_s0 = self._alpha_sigma(self.sigmas[i])
        if self.prediction_type == "v_prediction":
            x0 = alpha_s0 * sample - sigma_s0 * model_output
        elif self.prediction_type == "epsilon":
            x0 = (sample - sigma_s0 * model_output) / alpha_s0
        else:
            x0 = model_output
        self._outputs = [self._outputs[1], x0]
        final = i == n - 1  # the final sigma is zero: first order there, as diffusers
        alpha_t, sigma_t = self._alpha_sigma(self.sigmas[i + 1])
        with np.errstate(divide="ignore"):
            lambda_t = np.log(alpha_t) - np.log(sigma_t)
        lambda_s0 = np.log(alpha_s0) - np.log(sigma_s0)
        h = lambda_t - lambda_s0
        phi = alpha_t * (np.exp(-h) - np.float32(1.0))
        if self._lower_order_nums < 1 or final:
            prev = (sigma_t / sigma_s0) * sample - phi * x0
        else:
            alpha_s1, sigma_s1 = self._alpha_sigma(self.sigmas[i - 1])
            lambda_s1 = np.log(alpha_s1) - np.log(sigma_s1)
            r0 = (lambda_s0 - lambda_s1) / h
            d0, d1 = x0, (np.float32(1.0) / r0) * (x0 - self._outputs[0])
            prev = (sigma_t / sigma_s0) * sample - phi * d0 - np.float32(0.5) * phi * d1
        self._lower_order_nums = min(self._lower_order_nums + 1, 2)
        self._index += 1
        return prev.astype(np.float32)
