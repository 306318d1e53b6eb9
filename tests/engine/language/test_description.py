import csv

import pytest

from engine.errors import InputError
from engine.language import EchoPattern, LesionDescription, Margin, MarginSubtype, Shape
from engine.language.breast_vocabulary import description_from_breast_row, margin_from_breast


def test_json_round_trip_keeps_every_field():
    d = LesionDescription(
        shape="irregular",
        orientation="not parallel",
        margin=Margin(False, {"spiculated", "indistinct"}),
        echo_pattern="hypoechoic",
        posterior_features="shadowing",
        halo=True,
        birads="4c",
        pathology="malignant",
        size_mm=14,
        perpendicular_mm=9.5,
    )
    back = LesionDescription.from_json(d.to_json())
    assert back == d
    assert back.shape is Shape.IRREGULAR and back.margin.most_suspicious is MarginSubtype.SPICULATED


def test_unknown_values_are_one_clear_error():
    with pytest.raises(InputError, match="echo_pattern 'glowing'"):
        LesionDescription(echo_pattern="glowing")
    with pytest.raises(InputError, match="unknown description fields: colour"):
        LesionDescription.from_dict({"colour": "red"})
    with pytest.raises(InputError, match="size_mm"):
        LesionDescription(size_mm=-3)
    with pytest.raises(InputError, match="circumscribed margin has no subtypes"):
        Margin(True, {"angular"})


def test_breast_margin_vocabulary():
    m = margin_from_breast("not circumscribed - spiculated&angular&microlobulated&indistinct")
    assert not m.circumscribed and len(m.subtypes) == 4 and m.most_suspicious is MarginSubtype.SPICULATED
    assert margin_from_breast("circumscribed") == Margin(True)
    assert margin_from_breast("not applicable") is None
    with pytest.raises(InputError):
        margin_from_breast("wobbly")


def test_every_breast_row_maps(breast_dir):
    rows = list(csv.DictReader((breast_dir / "clinical-data.csv").open(encoding="utf-8")))
    described = [description_from_breast_row(r) for r in rows]
    assert sum(d is None for d in described) == 4  # the normal cases
    lesions = [d for d in described if d]
    assert sum(d.echo_pattern is EchoPattern.HYPOECHOIC for d in lesions) == 148
    assert sum(d.margin is not None and d.margin.circumscribed for d in lesions) == 115
