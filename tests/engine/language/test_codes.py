import engine.language.codes as codes
from engine.language import LesionDescription, Margin
from engine.language.codes import (
    CIRCUMSCRIBED,
    CONCEPT,
    NOT_CIRCUMSCRIBED,
    PRIVATE_SCHEME,
    VALUE_CODES,
    Code,
    description_to_coded_pairs,
    description_to_measurements,
    is_standard,
    to_highdicom,
)
from engine.language.lexicon import (
    BiradsCategory,
    Calcifications,
    EchoPattern,
    MarginSubtype,
    Orientation,
    Pathology,
    PosteriorFeatures,
    Shape,
)

_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]  # fmt: skip
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]  # fmt: skip


def _verhoeff_ok(number: str) -> bool:
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = _D[check][_P[i % 8][int(digit)]]
    return check == 0


def test_every_lexicon_value_has_one_distinct_code():
    for enum in (Shape, Orientation, MarginSubtype, EchoPattern, PosteriorFeatures, Calcifications,
                 BiradsCategory, Pathology):  # fmt: skip
        for member in enum:
            assert isinstance(VALUE_CODES[member], Code)
    all_codes = [*VALUE_CODES.values(), CIRCUMSCRIBED, NOT_CIRCUMSCRIBED, *CONCEPT.values()]
    keys = [(c.value, c.scheme) for c in all_codes]
    assert len(keys) == len(set(keys))
    assert all(len(c.value) <= 16 and len(c.meaning) <= 64 for c in all_codes)  # DICOM SH / LO limits


def test_snomed_codes_pass_the_verhoeff_check_digit():
    sct = [c for c in vars(codes).values() if isinstance(c, Code) and c.scheme == "SCT"]
    sct += [c for c in VALUE_CODES.values() if c.scheme == "SCT"]
    assert len(sct) >= 10
    assert all(c.value.isdigit() and _verhoeff_ok(c.value) for c in sct), [
        c for c in sct if not _verhoeff_ok(c.value)
    ]


def test_coded_pairs_of_a_description():
    d = LesionDescription(shape="irregular", margin=Margin(False, {"indistinct", "spiculated"}), halo=False,
                          pathology="malignant", size_mm=14, perpendicular_mm=9)  # fmt: skip
    pairs = description_to_coded_pairs(d)
    meanings = [(c.meaning, v.meaning) for c, v in pairs]
    assert meanings == [
        ("Shape", "irregular"), ("Margin", "not circumscribed"), ("Margin", "spiculated"),
        ("Margin", "indistinct"), ("Echogenic halo", "No"), ("Pathology", "Malignant neoplasm, primary"),
    ]  # fmt: skip
    assert is_standard(pairs[-1][1]) and pairs[0][1].scheme == PRIVATE_SCHEME
    assert [(c.meaning, v) for c, v, _ in description_to_measurements(d)] == [
        ("Long axis", 14.0),
        ("Short axis", 9.0),
    ]
    assert description_to_coded_pairs(LesionDescription()) == []
    concept = to_highdicom(pairs[0][1])
    assert (concept.value, concept.scheme_designator, concept.meaning) == pairs[0][1]
