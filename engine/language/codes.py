"""Coded concepts of a LesionDescription, for the DICOM SR (TID 1500 qualitative evaluations).

Codes are (value, scheme designator, meaning) triples. Standard codes are used only where we are
sure of them: SNOMED CT (SCT) for mass, breast, finding site, diameter, long/short axis, yes/no/
unknown, benign/malignant neoplasm; DICOM (DCM) 121071 Finding; UMLS C0034375 Qualitative
Evaluations; UCUM mm. The BI-RADS descriptor values themselves are NOT given standard codes here:
we could not verify their SNOMED CT / RadLex / DCM identifiers offline, so they use the
project-private scheme 99BUSSTUDIO (private schemes start with '99' per DICOM PS3.3 8.2) until
someone maps them against the published context groups. `is_standard(code)` tells them apart.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.language.description import LesionDescription
from engine.language.lexicon import (
    MARGIN_SUSPICION,
    BiradsCategory,
    Calcifications,
    EchoPattern,
    MarginSubtype,
    Orientation,
    Pathology,
    PosteriorFeatures,
    Shape,
)

PRIVATE_SCHEME = "99BUSSTUDIO"
STANDARD_SCHEMES = ("SCT", "DCM", "UMLS", "UCUM")


class Code(NamedTuple):
    value: str
    scheme: str
    meaning: str


def _private(value: str, meaning: str) -> Code:
    return Code(value, PRIVATE_SCHEME, meaning)


def is_standard(code: Code) -> bool:
    return code.scheme in STANDARD_SCHEMES


# Standard codes (SNOMED CT identifiers also pass the Verhoeff check digit; a test checks).
MASS = Code("4147007", "SCT", "Mass")
BREAST = Code("76752008", "SCT", "Breast")
FINDING_SITE = Code("363698007", "SCT", "Finding site")
FINDING = Code("121071", "DCM", "Finding")
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")
DIAMETER = Code("81827009", "SCT", "Diameter")
LONG_AXIS = Code("103339001", "SCT", "Long axis")
SHORT_AXIS = Code("103340004", "SCT", "Short axis")
YES = Code("373066001", "SCT", "Yes")
NO = Code("373067005", "SCT", "No")
UNKNOWN = Code("261665006", "SCT", "Unknown")
MILLIMETER = Code("mm", "UCUM", "millimeter")

# Concept names of the qualitative evaluations (private: see the module docstring).
CONCEPT = {
    "shape": _private("SHAPE", "Shape"),
    "orientation": _private("ORIENTATION", "Orientation"),
    "margin": _private("MARGIN", "Margin"),
    "echo_pattern": _private("ECHO-PATTERN", "Echo pattern"),
    "posterior_features": _private("POSTERIOR", "Posterior features"),
    "calcifications": _private("CALCIFICATIONS", "Calcifications"),
    "halo": _private("HALO", "Echogenic halo"),
    "birads": _private("BIRADS", "BI-RADS assessment category"),
    "pathology": _private("PATHOLOGY", "Pathology"),
}


def _enum_codes(enum, prefix: str) -> dict:
    # Code Value is VR SH: at most 16 characters.
    return {m: _private(f"{prefix}-{m.name.replace('_', '')}"[:16], m.value) for m in enum}


VALUE_CODES: dict = {
    **_enum_codes(Shape, "SHP"),
    **_enum_codes(Orientation, "ORI"),
    **_enum_codes(MarginSubtype, "MRG"),
    **_enum_codes(EchoPattern, "ECH"),
    **_enum_codes(PosteriorFeatures, "PST"),
    **_enum_codes(Calcifications, "CAL"),
    **{c: _private(f"BIRADS-{c.value.upper()}", f"BI-RADS {c.value.upper()}") for c in BiradsCategory},
    Pathology.BENIGN: Code("3898006", "SCT", "Neoplasm, benign"),
    Pathology.MALIGNANT: Code("86049000", "SCT", "Malignant neoplasm, primary"),
    Pathology.UNKNOWN: UNKNOWN,
}
CIRCUMSCRIBED = _private("MRG-CIRCUMSCR", "circumscribed")
NOT_CIRCUMSCRIBED = _private("MRG-NOTCIRCUMSCR", "not circumscribed")


def description_to_coded_pairs(desc: LesionDescription) -> list[tuple[Code, Code]]:
    """Qualitative evaluations as (concept, value) pairs; unspecified fields are left out.

    A not-circumscribed margin gives one pair for 'not circumscribed' and one per subtype (most
    suspicious first). Sizes are numeric: see `description_to_measurements`.
    """
    pairs: list[tuple[Code, Code]] = []
    for name in ("shape", "orientation"):
        value = getattr(desc, name)
        if value is not None:
            pairs.append((CONCEPT[name], VALUE_CODES[value]))
    if desc.margin is not None:
        pairs.append((CONCEPT["margin"], CIRCUMSCRIBED if desc.margin.circumscribed else NOT_CIRCUMSCRIBED))
        pairs += [(CONCEPT["margin"], VALUE_CODES[s]) for s in MARGIN_SUSPICION if s in desc.margin.subtypes]
    for name in ("echo_pattern", "posterior_features", "calcifications"):
        value = getattr(desc, name)
        if value is not None:
            pairs.append((CONCEPT[name], VALUE_CODES[value]))
    if desc.halo is not None:
        pairs.append((CONCEPT["halo"], YES if desc.halo else NO))
    for name in ("birads", "pathology"):
        value = getattr(desc, name)
        if value is not None:
            pairs.append((CONCEPT[name], VALUE_CODES[value]))
    return pairs


def description_to_measurements(desc: LesionDescription) -> list[tuple[Code, float, Code]]:
    """Numeric measurements as (concept, value, unit): long axis and short axis diameters in mm."""
    out = []
    if desc.size_mm is not None:
        out.append((LONG_AXIS, float(desc.size_mm), MILLIMETER))
    if desc.perpendicular_mm is not None:
        out.append((SHORT_AXIS, float(desc.perpendicular_mm), MILLIMETER))
    return out


def to_highdicom(code: Code):
    """The same code as a highdicom CodedConcept (imports highdicom only when called)."""
    from highdicom.sr import CodedConcept

    return CodedConcept(value=code.value, scheme_designator=code.scheme, meaning=code.meaning)
