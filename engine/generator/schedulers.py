"""Interchangeable samplers: one noise schedule (saved with the model), any sampler over it.

The sampling loop (engine.generator.loop) takes a numpy sampler from `make_loop_sampler`: the numpy
DPM-Solver++ (engine.backends.sampling, equal to diffusers') for "dpm++", the default, on every
backend and without torch; diffusers' other samplers through `DiffusersSampler` where torch is
installed. `make_sampler` gives the diffusers scheduler itself (training, tests).
"""

from __future__ import annotations

import numpy as np

from engine.errors import InputError

# The schedule the model is trained on; every sampler below is built from the same numbers.
TRAINING_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "prediction_type": "v_prediction",
    "clip_sample": False,
}

SAMPLERS = {
    "dpm++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
}
DEFAULT_SAMPLER = "dpm++"
TORCH_FREE_SAMPLERS = ("dpm++",)


def make_sampler(name: str = DEFAULT_SAMPLER, schedule: dict | None = None):
    """A fresh diffusers scheduler `name` over `schedule` (default: the training schedule)."""
    import diffusers

    if name not in SAMPLERS:
        raise InputError(f"sampler {name!r} is not one of: {', '.join(SAMPLERS)}")
    cls_name, extra = SAMPLERS[name]
    cls = getattr(diffusers, cls_name)
    return cls.from_config({**(schedule or TRAINING_SCHEDULE), **extra})


def make_loop_sampler(name: str = DEFAULT_SAMPLER, schedule: dict | None = None):
    """A fresh numpy sampler for engine.generator.loop: DPM-Solver++ in numpy, or a diffusers one."""
    from engine.backends.sampling import DPMSolverPP

    if name not in SAMPLERS:
        raise InputError(f"sampler {name!r} is not one of: {', '.join(SAMPLERS)}")
    if name in TORCH_FREE_SAMPLERS:
        return DPMSolverPP(schedule or TRAINING_SCHEDULE)
    from engine.backends.select import torch_available

    if not torch_available():
        raise InputError(
            f"sampler {name!r} needs torch (diffusers), which is not installed here; "
            f"without torch the generator samples with: {', '.join(TORCH_FREE_SAMPLERS)}"
        )
    return DiffusersSampler(make_sampler(name, schedule))


class DiffusersSampler:
    """A diffusers scheduler behind the numpy calls of engine.generator.loop (needs torch)."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.order = getattr(scheduler, "order", 1)

    @property
    def init_noise_sigma(self) -> float:
        return float(self.scheduler.init_noise_sigma)

    @property
    def timesteps(self) -> np.ndarray:
        return self.scheduler.timesteps.numpy()

    def set_timesteps(self, steps: int) -> None:
        self.scheduler.set_timesteps(steps)

    def set_begin_index(self, begin: int) -> None:
        if hasattr(self.scheduler, "set_begin_index"):
            self.scheduler.set_begin_index(begin)

    def add_noise(self, original: np.ndarray, noise: np.ndarray, timestep) -> np.ndarray:
        import torch

        t = torch.as_tensor(timestep).reshape(1).repeat(original.shape[0])
        return self.scheduler.add_noise(torch.from_numpy(original), torch.from_numpy(noise), t).numpy()

    def scale_model_input(self, sample: np.ndarray, timestep) -> np.ndarray:
        import torch

        return self.scheduler.scale_model_input(torch.from_numpy(sample), torch.as_tensor(timestep)).numpy()

    def step(self, model_output: np.ndarray, timestep, sample: np.ndarray) -> np.ndarray:
        import torch

        out = self.scheduler.step(
            torch.from_numpy(np.ascontiguousarray(model_output)),
            torch.as_tensor(timestep),
            torch.from_numpy(np.ascontiguousarray(sample)),
        )
        return out.prev_sample.numpy()


def make_training_scheduler(schedule: dict | None = None):
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(schedule or TRAINING_SCHEDULE)
