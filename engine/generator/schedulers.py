"""Interchangeable samplers: one noise schedule (saved with the model), any diffusers sampler over it."""

from __future__ import annotations

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


def make_sampler(name: str = DEFAULT_SAMPLER, schedule: dict | None = None):
    """A fresh diffusers scheduler `name` over `schedule` (default: the training schedule)."""
    import diffusers

    if name not in SAMPLERS:
        raise InputError(f"sampler {name!r} is not one of: {', '.join(SAMPLERS)}")
    cls_name, extra = SAMPLERS[name]
    cls = getattr(diffusers, cls_name)
    return cls.from_config({**(schedule or TRAINING_SCHEDULE), **extra})


def make_training_scheduler(schedule: dict | None = None):
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(schedule or TRAINING_SCHEDULE)
