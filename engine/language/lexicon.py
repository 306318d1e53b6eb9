"""The ACR BI-RADS ultrasound lexicon (5th edition, 2013) for masses, as typed enums.

Values are the lexicon's own words, so they read well in JSON and in sentences.
"""

from __future__ import annotations

from enum import Enum


class Shape(str, Enum):
    OVAL = "oval"
    ROUND = "round"
    IRREGULAR = "irregular"


class Orientation(str, Enum):
    PARALLEL = "parallel"
    NOT_PARALLEL = "not parallel"


class MarginSubtype(str, Enum):
    """Subtypes of a not-circumscribed margin; any combination may occur."""

    INDISTINCT = "indistinct"
    ANGULAR = "angular"
    MICROLOBULATED = "microlobulated"
    SPICULATED = "spiculated"


# Most suspicious first: the order radiologists use to name "the" margin of a mixed margin.
MARGIN_SUSPICION = (
    MarginSubtype.SPICULATED,
    MarginSubtype.ANGULAR,
    MarginSubtype.MICROLOBULATED,
    MarginSubtype.INDISTINCT,
)


class EchoPattern(str, Enum):
    ANECHOIC = "anechoic"
    HYPERECHOIC = "hyperechoic"
    COMPLEX_CYSTIC_SOLID = "complex cystic and solid"
    HYPOECHOIC = "hypoechoic"
    ISOECHOIC = "isoechoic"
    HETEROGENEOUS = "heterogeneous"


class PosteriorFeatures(str, Enum):
    NONE = "no posterior features"
    ENHANCEMENT = "enhancement"
    SHADOWING = "shadowing"
    COMBINED = "combined pattern"


class Calcifications(str, Enum):
    NONE = "no calcifications"
    IN_MASS = "calcifications in a mass"
    OUTSIDE_MASS = "calcifications outside of a mass"
    INTRADUCTAL = "intraductal calcifications"


class BiradsCategory(str, Enum):
    C1 = "1"
    C2 = "2"
    C3 = "3"
    C4 = "4"
    C4A = "4a"
    C4B = "4b"
    C4C = "4c"
    C5 = "5"
    C6 = "6"


class Pathology(str, Enum):
    BENIGN = "benign"
    MALIGNANT = "malignant"
    UNKNOWN = "unknown"
