import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from engine.errors import ModelError  # noqa: E402
from engine.language import LesionDescription, Margin  # noqa: E402
from engine.language.attributes import ATTRIBUTE_FIELDS, size_bin  # noqa: E402
from engine.language.encoder import (  # noqa: E402
    AttributeEmbedding,
    DescriptionConditioner,
    TextEncoder,
    description_to_indices,
    drop_attributes,
)

SENTENCE = "irregular, not parallel, hypoechoic mass with spiculated margin and posterior shadowing, 14 mm"


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder(max_tokens=32)


def test_text_tokens_shape_padding_and_determinism(encoder):
    tokens, mask = encoder.encode_with_mask([SENTENCE, "oval mass"])
    assert tokens.shape == (2, 32, 384) and tokens.dtype == torch.float32
    assert mask[1].sum() == 4  # [CLS] oval mass [SEP]
    assert torch.all(tokens[1, 4:] == 0) and tokens[1, :4].abs().sum() > 0
    encoder.clear_cache()
    again = encoder.encode([SENTENCE])
    assert torch.equal(again[0], tokens[0])  # recomputed, not cached: bit-identical
    assert not torch.allclose(tokens[0], encoder.encode(["round anechoic cyst"])[0])


def test_cache_is_lru_and_returns_the_same_values():
    enc = TextEncoder(max_tokens=16, cache_size=2)
    first = enc.encode(["a", "b"])
    enc.encode(["c"])  # evicts "a"
    assert list(enc._cache) == ["b", "c"]
    assert torch.equal(enc.encode(["a"])[0], first[0])


def test_missing_model_folder_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        TextEncoder(model_dir=tmp_path / "nowhere")
    with pytest.raises(ModelError, match="could not be loaded"):
        TextEncoder(model_dir=tmp_path)


def test_indices_of_descriptions():
    d = LesionDescription(
        shape="round", margin=Margin(False, {"angular", "indistinct"}), halo=False, size_mm=14
    )
    idx = description_to_indices([d, None])
    assert idx["shape"].tolist() == [2, 0]  # oval=1, round=2; 0 unspecified
    assert idx["margin"].tolist() == [2, 0]
    assert idx["margin_subtypes"].tolist() == [
        [0, 1, 0, 1],
        [0, 0, 0, 0],
    ]  # spiculated, angular, micro, indistinct
    assert idx["halo"].tolist() == [1, 0]
    assert (
        idx["size"].tolist() == [size_bin(14), 0]
        and size_bin(4) == 1
        and size_bin(80) == ATTRIBUTE_FIELDS["size"] - 1
    )
    dropped = drop_attributes(idx, p=1.0)
    assert all(int(v.abs().sum()) == 0 for v in dropped.values())
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = drop_attributes(idx, 0.5, g1), drop_attributes(idx, 0.5, g2)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_attribute_embedding_learns_and_separates_values():
    torch.manual_seed(0)
    emb = AttributeEmbedding()
    oval = emb(description_to_indices(LesionDescription(shape="oval")))
    irregular = emb(description_to_indices(LesionDescription(shape="irregular")))
    assert oval.shape == (1, len(ATTRIBUTE_FIELDS), 384)
    assert not torch.allclose(oval[0, 0], irregular[0, 0]) and torch.allclose(oval[0, 1:], irregular[0, 1:])
    irregular.sum().backward()
    assert emb.tables["shape"].weight.grad[3].abs().sum() > 0  # irregular's row was trained
    assert emb.tables["shape"].weight.grad[1].abs().sum() == 0  # oval's row was not


def test_conditioner_sequence_and_null(encoder):
    cond = DescriptionConditioner(text_tokens=32)
    d = LesionDescription(shape="irregular", echo_pattern="hypoechoic")
    seq = cond.condition(encoder, [SENTENCE, "oval mass"], [d, None])
    assert seq.shape == (2, 32 + len(ATTRIBUTE_FIELDS), 384) == (2, cond.sequence_length, 384)
    assert cond.null(3).shape == (3, cond.sequence_length, 384)
    with pytest.raises(ModelError, match=r"\[B, 32, 384\]"):
        cond(torch.zeros(1, 16, 384), description_to_indices(d))
    assert cond.config()["attribute_fields"] == ATTRIBUTE_FIELDS


def test_language_package_imports_without_torch():
    code = (
        "import sys, engine.language, engine.language.attributes;"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
