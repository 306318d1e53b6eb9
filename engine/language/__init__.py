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
from engine.language.parser import ParseResult, parse_text
from engine.language.sentence import canonical_sentence

__all__ = [
    "BiradsCategory",
    "Calcifications",
    "EchoPattern",
    "LesionDescription",
    "Margin",
    "ParseResult",
    "MarginSubtype",
    "Orientation",
    "Pathology",
    "PosteriorFeatures",
    "Shape",
    "canonical_sentence",
    "parse_text",
]
