import numpy as np
import pytest

from engine.errors import InputError
from engine.generator.physics import measure_speckle, physics_draft, rayleigh_speckle
from engine.language import LesionDescription, Margin


def _tissue(shape=(200, 260), seed=0):
    """Speckled tissue: Rayleigh amplitude from filtered complex noise, like a B-mode frame."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    from scipy import ndimage

    env = np.abs(
        ndimage.gaussian_filter(z.real, (1.5, 2.5)) + 1j * ndimage.gaussian_filter(z.imag, (1.5, 2.5))
    )
    return np.clip(env / env.mean() * 110, 0, 255).astype(np.uint8)


def _mask(shape=(200, 260)):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - 70) / 18) ** 2 + ((xx - 130) / 26) ** 2 <= 1


def _stats(out, frame, mask):
    inside = out[mask].mean()
    ring = ~mask.copy()
    return inside, frame[ring].mean()


def test_echogenicity_follows_the_echo_pattern():
    frame, mask = _tissue(), _mask()
    means = {}
    for echo in ("anechoic", "hypoechoic", "isoechoic", "hyperechoic"):
        out, _ = physics_draft(frame, mask, LesionDescription(echo_pattern=echo), seed=3)
        means[echo] = out[mask].mean()
    bg = frame[~mask].mean()
    assert means["anechoic"] < 0.2 * bg
    assert 0.3 * bg < means["hypoechoic"] < 0.65 * bg
    assert 0.8 * bg < means["isoechoic"] < 1.2 * bg
    assert means["hyperechoic"] > 1.3 * bg


def test_posterior_shadowing_and_enhancement_act_below_the_lesion_only():
    frame, mask = _tissue(), _mask()
    below = np.zeros_like(mask)
    below[95:125, 115:145] = True
    above = np.zeros_like(mask)
    above[20:45, 115:145] = True
    none, _ = physics_draft(
        frame, mask, LesionDescription(posterior_features="no posterior features"), seed=1
    )
    shadow, _ = physics_draft(frame, mask, LesionDescription(posterior_features="shadowing"), seed=1)
    enh, _ = physics_draft(frame, mask, LesionDescription(posterior_features="enhancement"), seed=1)
    assert shadow[below].mean() < 0.7 * none[below].mean()
    assert enh[below].mean() > 1.15 * none[below].mean()
    assert abs(float(shadow[above].mean()) - float(none[above].mean())) < 2


def test_margin_sharpness_from_the_margin_class():
    frame, mask = _tissue(), _mask()
    from scipy import ndimage

    edge = ndimage.binary_dilation(mask, iterations=4) & ~ndimage.binary_erosion(mask, iterations=4)

    def edge_gradient(margin):
        desc = LesionDescription(echo_pattern="anechoic", margin=margin)
        out, _ = physics_draft(frame, mask, desc, seed=2)
        smooth = ndimage.gaussian_filter(out.astype(float), 1.0)
        return np.hypot(*np.gradient(smooth))[edge].mean()

    sharp = edge_gradient(Margin(True))
    soft = edge_gradient(Margin(False, {"indistinct"}))
    assert sharp > 1.3 * soft


def test_seeded_and_only_the_window_changes():
    frame, mask = _tissue(), _mask()
    desc = LesionDescription(echo_pattern="heterogeneous", posterior_features="combined pattern", halo=True)
    a, w = physics_draft(frame, mask, desc, seed=7)
    b, _ = physics_draft(frame, mask, desc, seed=7)
    c, _ = physics_draft(frame, mask, desc, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    outside = np.ones(frame.shape, bool)
    outside[w.slices] = False
    assert np.array_equal(a[outside], frame[outside])
    assert a.dtype == np.uint8 and a.shape == frame.shape


def test_speckle_statistics_are_measured_and_reproduced():
    frame = _tissue((256, 256))
    stats = measure_speckle(frame, np.ones(frame.shape, bool))
    assert stats.sigma_x > stats.sigma_y  # the tissue grain is wider along x
    syn = rayleigh_speckle((256, 256), stats, np.random.default_rng(0))
    again = measure_speckle(np.clip(syn * 110, 0, 255).astype(np.uint8), np.ones((256, 256), bool))
    assert abs(again.sigma_x - stats.sigma_x) < 0.35 * stats.sigma_x
    assert abs(again.log_std - stats.log_std) < 0.25 * stats.log_std


def test_bad_inputs_are_clear_errors():
    frame, mask = _tissue(), _mask()
    with pytest.raises(InputError, match="uint8"):
        physics_draft(frame.astype(np.float32), mask, LesionDescription())
    with pytest.raises(InputError, match="differs"):
        physics_draft(frame, mask[:-1], LesionDescription())
