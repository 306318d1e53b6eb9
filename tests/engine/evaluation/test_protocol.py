from pathlib import Path

import pytest

from engine.errors import InputError
from engine.evaluation.protocol import EvaluationConfig


def test_protocols_set_size_and_models_and_choices_override_them():
    reduced = EvaluationConfig.for_protocol("reduced", train="busi", test=[], out=Path("o"))
    full = EvaluationConfig.for_protocol("full", train="busi", test=[], out=Path("o"), epochs=3, size=128)
    assert reduced.size == 64 and full.size == 128 and full.train_config.epochs == 3
    assert full.train_config.base > reduced.train_config.base and full.canvas_px > reduced.canvas_px
    # None means "the protocol's value"
    assert EvaluationConfig.for_protocol("reduced", train="b", test=[], out=Path("o"), size=None).size == 64
    assert reduced.to_dict()["train_config"]["epochs"] == reduced.train_config.epochs


def test_unknown_protocol_is_an_input_error():
    with pytest.raises(InputError, match="protocol"):
        EvaluationConfig.for_protocol("huge", train="busi", test=[], out=Path("o"))
