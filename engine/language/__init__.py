"""Clinical language: the BI-RADS lexicon, lesion descriptions, text both ways, measurement, encoder."""

from engine.language.description import LesionDescription, Margin
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

__all__ = [
    "BiradsCategory",
    "Calcifications",
    "EchoPattern",
    "LesionDescription",
    "Margin",
    "MarginSubtype",
    "Orientation",
    "Pathology",
    "PosteriorFeatures",
    "Shape",
]
