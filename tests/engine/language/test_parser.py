import csv
import itertools
import json

import pytest

from engine.cli.main import main as cli_main
from engine.errors import InputError
from engine.language import LesionDescription, Margin
from engine.language.breast_vocabulary import description_from_breast_row
from engine.language.parser import parse_text
from engine.language.sentence import canonical_sentence

# (clinician phrasing, fields it must set, words it must leave unplaced)
CLINICIAN = [
    ("Ill-defined taller-than-wide hypoechoic lesion with acoustic shadow, BI-RADS 4C, 1.4 cm",
     {"orientation": "not parallel", "margin": {"circumscribed": False, "subtypes": ["indistinct"]},
      "echo_pattern": "hypoechoic", "posterior_features": "shadowing", "birads": "4c", "size_mm": 14.0}, []),
    ("Oval, well-circumscribed, anechoic cyst-like mass with posterior acoustic enhancement, 8x5mm",
     {"shape": "oval", "margin": {"circumscribed": True, "subtypes": []}, "echo_pattern": "anechoic",
      "posterior_features": "enhancement", "size_mm": 8.0, "perpendicular_mm": 5.0}, []),
    ("lobulated solid-cystic mass, no halo, no calcifications",
     {"shape": "oval", "echo_pattern": "complex cystic and solid", "halo": False, "calcifications": "no calcifications"}, []),
    ("irregular hypoechoic mass, no posterior shadowing", {"shape": "irregular", "echo_pattern": "hypoechoic",
     "posterior_features": "no posterior features"}, []),
    ("wider-than-tall isoechoic nodule, 12 mm", {"orientation": "parallel", "echo_pattern": "isoechoic", "size_mm": 12.0}, []),
    ("spiculated and angular margins, posterior attenuation", {"margin": {"circumscribed": False, "subtypes": ["spiculated", "angular"]},
     "posterior_features": "shadowing"}, []),
    ("microlobulated margin, heterogeneous echotexture", {"margin": {"circumscribed": False, "subtypes": ["microlobulated"]},
     "echo_pattern": "heterogeneous"}, ["echotexture"]),
    ("round hyperechoic mass with echogenic halo, BIRADS 3, benign", {"shape": "round", "echo_pattern": "hyperechoic",
     "halo": True, "birads": "3", "pathology": "benign"}, []),
    ("not well circumscribed oval mass", {"shape": "oval", "margin": {"circumscribed": False, "subtypes": []}}, []),
    ("mass in the left breast at 2 o'clock, 2,5 cm", {"size_mm": 25.0}, ["left", "2", "o", "clock"]),
    ("stellate carcinoma with shadowing and enhancement", {"margin": {"circumscribed": False, "subtypes": ["spiculated"]},
     "pathology": "malignant", "posterior_features": "combined pattern"}, []),
    ("non-parallel mass with microcalcifications, BI-RADS category 5", {"orientation": "not parallel",
     "calcifications": "calcifications in a mass", "birads": "5"}, []),
    ("complex cystic and solid mass, combined posterior features", {"echo_pattern": "complex cystic and solid",
     "posterior_features": "combined pattern"}, []),
    ("intraductal calcifications, markedly hypoechoic", {"calcifications": "intraductal calcifications", "echo_pattern": "hypoechoic"}, []),
    ("calcifications outside the mass, ovoid, parallel to the skin", {"calcifications": "calcifications outside of a mass",
     "shape": "oval", "orientation": "parallel"}, []),
    ("no spiculation, blurred margins", {"margin": {"circumscribed": False, "subtypes": ["indistinct"]}}, []),
    ("increased through transmission, circular anechoic lesion", {"posterior_features": "enhancement", "shape": "round",
     "echo_pattern": "anechoic"}, []),
    ("irregularly shaped inhomogeneous mass, pathology unknown", {"shape": "irregular", "echo_pattern": "heterogeneous",
     "pathology": "unknown"}, []),
    ("no posterior acoustic features, smooth margins", {"posterior_features": "no posterior features",
     "margin": {"circumscribed": True, "subtypes": []}}, []),
    ("vertically oriented angulated mass 9 mm", {"orientation": "not parallel", "size_mm": 9.0,
     "margin": {"circumscribed": False, "subtypes": ["angular"]}}, []),
    ("sharply defined egg-shaped mass, 1.2 x 0.8 cm", {"shape": "oval", "size_mm": 12.0, "perpendicular_mm": 8.0,
     "margin": {"circumscribed": True, "subtypes": []}}, []),
    ("hypoechogenic mass with fuzzy borders", {"echo_pattern": "hypoechoic",
     "margin": {"circumscribed": False, "subtypes": ["indistinct"]}}, ["borders"]),
    ("mass with no halo and no shadowing", {"halo": False, "posterior_features": "no posterior features"}, []),
    ("Spiculated irregular mass, malignancy, BI-RADS 4 b", {"birads": "4b", "pathology": "malignant", "shape": "irregular",
     "margin": {"circumscribed": False, "subtypes": ["spiculated"]}}, []),
    ("spherical isoechogenic nodule without calcification", {"shape": "round", "echo_pattern": "isoechoic",
     "calcifications": "no calcifications"}, []),
    ("mixed cystic and solid lesion, internal calcifications", {"echo_pattern": "complex cystic and solid",
     "calcifications": "calcifications in a mass"}, []),
    ("cystic lesion, antiparallel, 15 millimeters", {"echo_pattern": "anechoic", "orientation": "not parallel", "size_mm": 15.0}, []),
    ("indistinct and microlobulated margin", {"margin": {"circumscribed": False, "subtypes": ["microlobulated", "indistinct"]}}, []),
    ("banana shaped glowing thing", {}, ["banana", "glowing", "thing"]),
    ("", {}, []),
]  # fmt: skip


def _breast_rows(breast_dir):
    return list(csv.DictReader((breast_dir / "clinical-data.csv").open(encoding="utf-8")))


def _raw_phrasing(row: dict) -> str:
    """The radiologists' own words from the CSV cells, as a clinician would dictate them."""
    parts = [f"{row['Shape']} mass", f"margin {row['Margin'].replace('&', ' and ')}"]
    echo = row["Echogenicity"].replace("/", " and ")
    parts.append(echo)
    parts.append(
        {"no": "no posterior features", "combined": "combined posterior pattern"}.get(
            row["Posterior_features"], f"posterior {row['Posterior_features']}"
        )
    )
    parts.append({"yes": "with a halo", "no": "no halo"}[row["Halo"]])
    calcs = row["Calcifications"]
    if calcs != "indefinable":
        parts.append(
            {
                "no": "no calcifications",
                "in a mass": "calcifications in a mass",
                "intraductal": "intraductal calcifications",
            }[calcs]
        )
    parts.append(f"BI-RADS {row['BIRADS']}")
    parts.append(row["Classification"])
    return ", ".join(parts)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected", "unplaced"), CLINICIAN, ids=[c[0][:40] or "empty" for c in CLINICIAN]
)
def test_clinician_phrasings(text, expected, unplaced):
    result = parse_text(text)
    got = result.description.to_dict()
    for name, value in expected.items():
        assert got[name] == value, (name, got)
    assert all(got[k] is None for k in got if k not in expected), got
    assert result.unplaced == unplaced


def test_every_distinct_breast_row_round_trips(breast_dir):
    rows = [r for r in _breast_rows(breast_dir) if r["Classification"] != "normal"]
    distinct = {tuple(r[c] for c in list(r)[9:]): r for r in rows}
    checked = 0
    for row in distinct.values():
        desc = description_from_breast_row(row)
        sentence = canonical_sentence(desc)
        back = parse_text(sentence)
        assert back.description == desc, sentence
        assert (back.unplaced, back.negated, back.conflicts) == ([], [], []), sentence
        raw = parse_text(_raw_phrasing(row))
        assert raw.description == desc, _raw_phrasing(row)
        assert raw.conflicts == [] and raw.unplaced == [], (_raw_phrasing(row), raw.unplaced)
        checked += 2
    assert len(CLINICIAN) + checked >= 100


def test_canonical_sentence_of_the_issue_example_and_every_combination_round_trips():
    d = LesionDescription(shape="irregular", orientation="not parallel", margin=Margin(False, {"spiculated"}),
                          echo_pattern="hypoechoic", posterior_features="shadowing", size_mm=14)  # fmt: skip
    assert canonical_sentence(d) == (
        "irregular, not parallel, hypoechoic mass with spiculated margin and posterior shadowing, 14 mm"
    )
    assert canonical_sentence(LesionDescription()) == "mass"
    margins = [None, Margin(True), Margin(False), Margin(False, {"angular", "microlobulated"})]
    for shape, orient, echo, post, margin, halo, size in itertools.product(
        [None, "oval", "round"], [None, "parallel", "not parallel"],
        [None, "anechoic", "complex cystic and solid", "isoechoic"],
        [None, "no posterior features", "combined pattern", "enhancement"], margins, [None, True, False],
        [None, (7.5, 4.0)],
    ):  # fmt: skip
        d = LesionDescription(shape=shape, orientation=orient, echo_pattern=echo, posterior_features=post,
                              margin=margin, halo=halo, size_mm=size and size[0], perpendicular_mm=size and size[1])  # fmt: skip
        result = parse_text(canonical_sentence(d))
        assert result.description == d and result.unplaced == [], canonical_sentence(d)


def test_conflicts_and_bad_categories_are_reported():
    result = parse_text("oval mass, round mass")
    assert result.description.shape.value == "oval" and "round" in result.conflicts[0]
    with pytest.raises(InputError, match="BI-RADS category '7'"):
        parse_text("BI-RADS 7")


def test_parse_text_command_prints_json(capsys):
    assert cli_main(["parse-text", "ill-defined hypoechoic mass, 3 cm, left breast", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["description"]["size_mm"] == 30.0 and out["unplaced"] == ["left"]
    assert out["sentence"] == "hypoechoic mass with indistinct margin, 30 mm"
