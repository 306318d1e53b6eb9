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
