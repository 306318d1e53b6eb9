"""Coded concepts of a LesionDescription, for the DICOM SR (TID 1500 qualitative evaluations).

Codes are (value, scheme designator, meaning) triples taken from pydicom's copy of the DICOM PS3.16
context groups (`pydicom.sr.codedict.codes`), never typed by hand: a value code is looked up in the
context group it must belong to (`codes.CID6005.OvoidShapeOval` fails unless it is in CID 6005), so
a wrong code cannot be written. The BI-RADS ultrasound groups used:
  CID 6005 shape, CID 6007 margin, CID 6152 orientation, CID 6154 echo pattern, CID 6155 posterior
  acoustic features, CID 6013 calcification distribution; concept names DCM 111354 Orientation,
  111037 Margins, 111360 Echo pattern, 111366 Posterior acoustic features, 111008 Calcification
  Distribution, 111359 Echogenic halo (CID 6153), 111005 Assessment Category, 111042 Pathology, and
  SCT 300842002 Shape (DICOM has no DCM concept name for shape).
Where PS3.16 has no code, a private code (scheme 99BUSSTUDIO; private schemes start with '99', PS3.3
8.2) is used and `is_standard` says so:
  - echo pattern 'heterogeneous' (BI-RADS 5th edition; CID 6154 predates it, and DCM 111353
    'Heterogeneous echotexture' is breast *background* echotexture, CID 6151, not a mass);
  - margin 'not circumscribed' (CID 6007 lists only the subtypes);
  - calcifications 'none' and 'intraductal' (CID 6013 has only within / outside of a mass);
  - the BI-RADS assessment categories (CID 6027 is empty in PS3.16: the ACR's codes are not in DICOM).
One SNOMED CT code is not in pydicom's tables and stays typed here, checked by its Verhoeff check
digit in the tests: 3898006 'Neoplasm, benign' (pydicom's SCT 'Benign' 30807003 is an interventional
procedure result, CID 6063, not a neoplasm).
"""

from __future__ import annotations

from typing import NamedTuple

from pydicom.sr.codedict import codes as _dicom

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
STANDARD_SCHEMES = ("SCT", "DCM", "UCUM")


class Code(NamedTuple):
    value: str
    scheme: str
    meaning: str


def _from_dicom(code) -> Code:
    return Code(code.value, code.scheme_designator, code.meaning)


def _private(value: str, meaning: str) -> Code:
    return Code(value, PRIVATE_SCHEME, meaning)


def is_standard(code: Code) -> bool:
    return code.scheme in STANDARD_SCHEMES


MASS = _from_dicom(_dicom.SCT.Mass)
BREAST = _from_dicom(_dicom.SCT.Breast)
FINDING_SITE = _from_dicom(_dicom.SCT.FindingSite)
FINDING = _from_dicom(_dicom.DCM.Finding)
DIAMETER = _from_dicom(_dicom.SCT.Diameter)
LONG_AXIS = _from_dicom(_dicom.SCT.LongAxis)
SHORT_AXIS = _from_dicom(_dicom.SCT.ShortAxis)
YES = _from_dicom(_dicom.SCT.Yes)
NO = _from_dicom(_dicom.SCT.No)
UNKNOWN = _from_dicom(_dicom.SCT.Unknown)
MILLIMETER = _from_dicom(_dicom.UCUM.Millimeter)
NEOPLASM_BENIGN = Code("3898006", "SCT", "Neoplasm, benign")  # not in pydicom's tables

# Concept names of the qualitative evaluations.
CONCEPT = {
    "shape": _from_dicom(_dicom.SCT.Shape),
    "orientation": _from_dicom(_dicom.DCM.Orientation),
    "margin": _from_dicom(_dicom.DCM.Margins),
    "echo_pattern": _from_dicom(_dicom.DCM.EchoPattern),
    "posterior_features": _from_dicom(_dicom.DCM.PosteriorAcousticFeatures),
    "calcifications": _from_dicom(_dicom.DCM.CalcificationDistribution),
    "halo": _from_dicom(_dicom.CID6153.EchogenicHalo),
    "birads": _from_dicom(_dicom.DCM.AssessmentCategory),
    "pathology": _from_dicom(_dicom.DCM.Pathology),
}

# The context group each descriptor's standard values come from (tests check every value is in it).
CONTEXT_GROUP = {
    Shape: 6005,
    MarginSubtype: 6007,
    Orientation: 6152,
    EchoPattern: 6154,
    PosteriorFeatures: 6155,
    Calcifications: 6013,
}

VALUE_CODES: dict = {
    Shape.OVAL: _from_dicom(_dicom.CID6005.OvoidShapeOval),
    Shape.ROUND: _from_dicom(_dicom.CID6005.RoundShape),
    Shape.IRREGULAR: _from_dicom(_dicom.CID6005.Irregular),
    Orientation.PARALLEL: _from_dicom(_dicom.CID6152.Parallel),
    Orientation.NOT_PARALLEL: _from_dicom(_dicom.CID6152.NotParallel),
    MarginSubtype.INDISTINCT: _from_dicom(_dicom.CID6007.IndistinctLesion),
    MarginSubtype.ANGULAR: _from_dicom(_dicom.CID6007.AngularMargins),
    MarginSubtype.MICROLOBULATED: _from_dicom(_dicom.CID6007.MicrolobulatedLesion),
    MarginSubtype.SPICULATED: _from_dicom(_dicom.CID6007.SpiculatedLesion),
    EchoPattern.ANECHOIC: _from_dicom(_dicom.CID6154.Anechoic),
    EchoPattern.HYPERECHOIC: _from_dicom(_dicom.CID6154.Hyperechoic),
    EchoPattern.COMPLEX_CYSTIC_SOLID: _from_dicom(_dicom.CID6154.Complex),
    EchoPattern.HYPOECHOIC: _from_dicom(_dicom.CID6154.Hypoechoic),
    EchoPattern.ISOECHOIC: _from_dicom(_dicom.CID6154.Isoechoic),
    EchoPattern.HETEROGENEOUS: _private("ECH-HETEROGEN", "Heterogeneous echo pattern"),
    PosteriorFeatures.NONE: _from_dicom(_dicom.CID6155.NoPosteriorAcousticFeatures),
    PosteriorFeatures.ENHANCEMENT: _from_dicom(_dicom.CID6155.PosteriorEnhancement),
    PosteriorFeatures.SHADOWING: _from_dicom(_dicom.CID6155.PosteriorShadowing),
    PosteriorFeatures.COMBINED: _from_dicom(_dicom.CID6155.CombinedPosteriorEnhancementAndShadowing),
    Calcifications.NONE: _private("CAL-NONE", "No calcifications"),
    Calcifications.IN_MASS: _from_dicom(_dicom.CID6013.CalcificationsWithinAMass),
    Calcifications.OUTSIDE_MASS: _from_dicom(_dicom.CID6013.CalcificationsOutsideOfAMass),
    Calcifications.INTRADUCTAL: _private("CAL-INTRADUCTAL", "Intraductal calcifications"),
    **{c: _private(f"BIRADS-{c.value.upper()}", f"BI-RADS {c.value.upper()}") for c in BiradsCategory},
    Pathology.BENIGN: NEOPLASM_BENIGN,
    Pathology.MALIGNANT: _from_dicom(_dicom.SCT.MalignantNeoplasmPrimary),
    Pathology.UNKNOWN: UNKNOWN,
}
CIRCUMSCRIBED = _from_dicom(_dicom.CID6007.CircumscribedLesion)
NOT_CIRCUMSCRIBED = _private("MRG-NOTCIRCUMSCR", "Not circumscribed")


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
