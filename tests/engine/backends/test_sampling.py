import numpy as np
import pytest
import torch

from engine.backends.sampling import DPMSolverPP, torch_randn
from engine.errors import InputError
from engine.generator.schedulers import TRAINING_SCHEDULE, make_sampler


@pytest.mark.parametrize(
    "shape, seed", [((1, 1, 64, 64), 0), ((3, 1, 64, 64), 7), ((2, 17), 123), ((5, 5), 1)]
)
def test_torch_randn_matches_torch(shape, seed):
    expected = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).numpy()
    got = torch_randn(shape, seed)
    assert got.dtype == np.float32 and got.shape == shape
    assert np.abs(got - expected).max() < 1e-5


def test_torch_randn_refuses_what_it_cannot_reproduce():
    with pytest.raises(InputError, match="at least 16"):
        torch_randn((3, 5), 0)


@pytest.mark.parametrize("steps, begin", [(20, 8), (20, 0), (5, 2), (1, 0)])
def test_dpm_solver_matches_diffusers(steps, begin):
    ref = make_sampler("dpm++", TRAINING_SCHEDULE)
    ref.set_timesteps(steps)
    ours = DPMSolverPP(TRAINING_SCHEDULE)
    ours.set_timesteps(steps)
    assert np.array_equal(ref.timesteps.numpy(), ours.timesteps)
    ref.set_begin_index(begin)
    ours.set_begin_index(begin)
    x0, noise = torch_randn((2, 1, 8, 8), 1), torch_randn((2, 1, 8, 8), 2)
    timesteps = ref.timesteps[begin:]
    a = ref.add_noise(torch.from_numpy(x0), torch.from_numpy(noise), timesteps[:1].repeat(2))
    b = ours.add_noise(x0, noise, timesteps[0].item())
    assert np.abs(a.numpy() - b).max() < 1e-5
    rng = np.random.default_rng(0)
    for t in timesteps:
        # a stand-in model output that depends on the sample, as a real one does
        out = rng.standard_normal(a.shape).astype(np.float32) * 0.3 + 0.2 * a.numpy()
        a = ref.step(torch.from_numpy(out), t, a).prev_sample
        b = ours.step(out, t.item(), b)
    assert np.abs(a.numpy() - b).max() < 1e-4
    assert np.abs(b - x0).max() > 0  # it moved
