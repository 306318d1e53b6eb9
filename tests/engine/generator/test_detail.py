import numpy as np
from scipy import ndimage

from engine.generator.detail import masked_lowpass, native_detail
from engine.generator.window import Window
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import EchoPattern

SIDE = 192


def _tissue(seed: int) -> np.ndarray:
    """Speckle-like tissue: grainy log-Rayleigh texture around grey 120."""
    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.standard_normal((SIDE, SIDE)), 1.2) + 1j * ndimage.gaussian_filter(
        rng.standard_normal((SIDE, SIDE)), 1.2
    )
    env = np.abs(z)
    return np.clip(120 * env / env.mean(), 0, 255).astype(np.uint8)


def _disk() -> np.ndarray:
    yy, xx = np.mgrid[:SIDE, :SIDE]
    return (yy - 90) ** 2 + (xx - 96) ** 2 <= 40**2


def _contrast(values: np.ndarray, region: np.ndarray) -> float:
    """Speckle contrast: std of the high-pass ratio inside `region`."""
    ratio = values / np.maximum(ndimage.gaussian_filter(values, 4.0), 1.0)
    return float(ratio[region].std())


WINDOW = Window(0, 0, SIDE, SIDE, 64)  # 3 native px per grid px
DESCRIPTION = LesionDescription(echo_pattern=EchoPattern.HYPOECHOIC, margin=Margin(True))


def test_lesion_gets_native_speckle_where_the_upsampled_model_has_none():
    gray, mask = _tissue(0), _disk()
    smooth_model = np.where(mask, 50.0, 120.0)  # what an upsampled grid output looks like: no grain
    out = native_detail(gray, mask, smooth_model, WINDOW, DESCRIPTION, seed=0)
    inner = ndimage.binary_erosion(mask, iterations=12)
    tissue = ~ndimage.binary_dilation(mask, iterations=12)
    assert _contrast(smooth_model, inner) < 0.01
    # Inside: fresh speckle of about the tissue's contrast; the lesion's mean stays the model's.
    assert 0.4 < _contrast(out, inner) / _contrast(gray.astype(float), tissue) < 2.5
    assert abs(out[inner].mean() - 50.0) < 8.0
    # Outside: the tissue's own speckle, scaled to the model's level (here the same level).
    far = tissue & (ndimage.distance_transform_edt(~mask) > 30)
    assert np.corrcoef(out[far], gray[far].astype(float))[0, 1] > 0.9


def test_nothing_under_the_mask_survives():
    mask = _disk()
    a, b = _tissue(0), _tissue(0)
    b[mask] = _tissue(5)[mask] // 3  # a different, darker "real lesion" under the same mask
    model = np.where(mask, 60.0, 120.0)
    out_a = native_detail(a, mask, model, WINDOW, DESCRIPTION, seed=3)
    out_b = native_detail(b, mask, model, WINDOW, DESCRIPTION, seed=3)
    np.testing.assert_allclose(out_a[mask], out_b[mask], rtol=0, atol=1e-9)


def test_same_seed_same_output_and_another_seed_another_speckle():
    gray, mask = _tissue(1), _disk()
    model = np.where(mask, 60.0, 120.0)
    first = native_detail(gray, mask, model, WINDOW, DESCRIPTION, seed=7)
    again = native_detail(gray, mask, model, WINDOW, DESCRIPTION, seed=7)
    other = native_detail(gray, mask, model, WINDOW, DESCRIPTION, seed=8)
    assert np.array_equal(first, again)
    assert not np.allclose(first[mask], other[mask])


def test_masked_lowpass_does_not_mix_across_the_edge():
    values = np.where(_disk(), 10.0, 200.0)
    outside = (~_disk()).astype(float)
    low = masked_lowpass(values, outside, 6.0)
    assert np.allclose(low[~_disk()], 200.0)


def test_tissue_keeps_its_structure_and_takes_the_models_broad_level():
    gray, mask = _tissue(2), _disk()
    yy, xx = np.mgrid[:SIDE, :SIDE]
    shadow = (yy > 150) & (np.abs(xx - 96) < 30)  # the model darkened the columns below the lesion
    model = np.where(mask, 50.0, np.where(shadow, 60.0, 120.0))
    out = native_detail(gray, mask, model, WINDOW, DESCRIPTION, seed=0)
    core = (yy > 165) & (np.abs(xx - 96) < 12)
    assert abs(out[core].mean() - 60.0) < 12.0  # the model's level ...
    assert np.corrcoef(out[core], gray[core].astype(float))[0, 1] > 0.8  # ... on the tissue's own grain
