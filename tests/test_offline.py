"""Nothing in the product opens a network connection: models and data load from local files only."""

import pytest

from engine.cli.main import main
from engine.settings import sample_study_path
from tests.network_trap import NetworkAttempt, no_network


def test_trap_catches_a_connection():
    import urllib.request

    with (
        pytest.raises(AssertionError, match="tried to reach the network"),
        no_network(),
        pytest.raises(NetworkAttempt),
    ):
        urllib.request.urlopen("http://example.org", timeout=1)


def test_text_encoder_loads_and_encodes_offline():
    pytest.importorskip("engine.language.encoder")
    from engine.language.encoder import TextEncoder

    with no_network():
        tokens = TextEncoder().encode(["irregular hypoechoic mass with posterior shadowing"])
    assert tokens.shape[-1] == 384 and float(tokens.abs().sum()) > 0


def test_commands_run_offline(tmp_path, capsys):
    with no_network():
        assert main(["inspect", str(sample_study_path())]) == 0
        assert main(["settings"]) == 0
    assert "phantom_breast_us.dcm" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["physics", "diffusion"])
def test_main_job_runs_offline(tmp_path, method):
    """The main job on the bundled sample with the default model: no connection attempt at all."""
    out = tmp_path / method
    with no_network():
        code = main(
            ["synthesize", "--method", method, "--steps", "2", "--seed", "3", "--out", str(out),
             "--text", "irregular hypoechoic mass with posterior shadowing, 12 mm"]
        )  # fmt: skip
    assert code == 0
    assert (out / "synthetic_0_image.dcm").stat().st_size > 0
    assert (out / "preview_0.png").stat().st_size > 0


def test_generation_and_augment_run_offline(tmp_path):
    """A generation through the public pipeline API and a batch augment, connections trapped."""
    import numpy as np

    from engine.augment import AugmentConfig, run_augment
    from engine.generator.pipeline import BusTumorPipeline
    from engine.settings import get_settings
    from tests.augment.conftest import write_folder_dataset

    frame = np.full((128, 128), 90, np.uint8)
    mask = np.zeros_like(frame, bool)
    mask[50:70, 45:80] = True
    dataset = write_folder_dataset(tmp_path / "dataset", n_normal=1)
    with no_network():
        pipe = BusTumorPipeline.from_pretrained(get_settings().model_dir)
        result = pipe(frame, mask, seed=1, steps=2)
        summary = run_augment(AugmentConfig(dataset, tmp_path / "aug", method="physics"))
    assert result.pixels[0].shape == frame.shape
    assert int(np.abs(result.pixels[0].astype(int) - frame)[mask].mean()) > 0  # a tumor was drawn
    assert summary["written"] == 2
