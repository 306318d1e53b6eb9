import engine.language.codes as codes
from engine.language import LesionDescription, Margin
from engine.language.codes import (
    CIRCUMSCRIBED,
    CONCEPT,
    CONTEXT_GROUP,
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
        ("Shape", "Irregular"), ("Margins", "Not circumscribed"), ("Margins", "Spiculated lesion"),
        ("Margins", "Indistinct lesion"), ("Echogenic halo", "No"),
        ("Pathology", "Malignant neoplasm, primary (morphologic abnormality)"),
    ]  # fmt: skip
    assert pairs[0][1] == ("49608001", "SCT", "Irregular") and is_standard(pairs[0][1])
    assert pairs[1][1].scheme == PRIVATE_SCHEME and not is_standard(pairs[1][1])
    assert [(c.meaning, v) for c, v, _ in description_to_measurements(d)] == [
        ("Long axis", 14.0),
        ("Short axis", 9.0),
    ]
    assert description_to_coded_pairs(LesionDescription()) == []
    concept = to_highdicom(pairs[0][1])
    assert (concept.value, concept.scheme_designator, concept.meaning) == pairs[0][1]


def _dicom_cids(code: Code) -> list[int]:
    """The context groups PS3.16 (as shipped by pydicom) lists `code` in; [] when it is not there."""
    from pydicom.sr._concepts_dict import concepts

    entries = [e[code.value] for e in concepts.get(code.scheme, {}).values() if code.value in e]
    if entries:
        assert code.meaning in {meaning for meaning, _ in entries}  # one code may have several keywords
    return sorted({cid for _, cids in entries for cid in cids})


# Values with no code in PS3.16: each is named here, with its reason in engine.language.codes.
NO_STANDARD_CODE = {EchoPattern.HETEROGENEOUS, Calcifications.NONE, Calcifications.INTRADUCTAL}


def test_every_descriptor_value_is_coded_from_its_context_group():
    assert {Shape: 6005, MarginSubtype: 6007, Orientation: 6152, EchoPattern: 6154,
                             PosteriorFeatures: 6155, Calcifications: 6013} == CONTEXT_GROUP  # fmt: skip
    for enum, cid in CONTEXT_GROUP.items():
        for member in enum:
            code = VALUE_CODES[member]
            if member in NO_STANDARD_CODE:
                assert code.scheme == PRIVATE_SCHEME and not is_standard(code), member
            else:
                assert is_standard(code) and cid in _dicom_cids(code), (member, code)
    assert 6007 in _dicom_cids(CIRCUMSCRIBED) and not is_standard(NOT_CIRCUMSCRIBED)
    # heterogeneous must not borrow the background-echotexture code of CID 6151
    assert VALUE_CODES[EchoPattern.HETEROGENEOUS].value != "111353"
    assert all(not is_standard(VALUE_CODES[c]) for c in BiradsCategory)  # CID 6027 is empty in PS3.16


def test_concept_names_are_the_dicom_breast_ultrasound_concepts():
    expected = {"orientation": "111354", "margin": "111037", "echo_pattern": "111360",
                "posterior_features": "111366", "calcifications": "111008", "halo": "111359",
                "birads": "111005", "pathology": "111042"}  # fmt: skip
    for name, value in expected.items():
        assert CONCEPT[name].scheme == "DCM" and CONCEPT[name].value == value, name
        assert _any_dicom_entry(CONCEPT[name]), name
    assert CONCEPT["shape"] == ("300842002", "SCT", "Shape")
    assert 6153 in _dicom_cids(CONCEPT["halo"])
    standard = [
        c for c in [*VALUE_CODES.values(), *CONCEPT.values(), codes.MASS, codes.LONG_AXIS] if is_standard(c)
    ]
    unknown_to_pydicom = [c for c in standard if c.scheme != "UCUM" and not _any_dicom_entry(c)]
    assert unknown_to_pydicom == [codes.NEOPLASM_BENIGN]  # the one hand-typed code (Verhoeff-checked above)


def _any_dicom_entry(code: Code) -> bool:
    from pydicom.sr._concepts_dict import concepts

    return any(code.value in entry for entry in concepts.get(code.scheme, {}).values())
