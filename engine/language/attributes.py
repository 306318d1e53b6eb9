"""Structured description fields as integer indices, for the learned attribute embedding.

Pure Python (no torch): index 0 of every field means "unspecified", 1..n the lexicon values in
declaration order. Margin subtypes are a multi-hot, sizes are binned on a roughly logarithmic scale.
The order and sizes here are part of the generator's saved weights: append, never reorder.
"""

from __future__ import annotations

from bisect import bisect_right

from engine.language.description import ENUM_FIELDS, LesionDescription
from engine.language.lexicon import (
    MARGIN_SUSPICION,
    BiradsCategory,
    Calcifications,
    EchoPattern,
    Orientation,
    Pathology,
    PosteriorFeatures,
    Shape,
)

# Upper edges (mm) of the size bins; index 1 is "< 5 mm", the last "> 50 mm".
SIZE_BIN_EDGES_MM = (5.0, 8.0, 12.0, 16.0, 20.0, 30.0, 50.0)

# field name -> number of indices including 0 = unspecified
ATTRIBUTE_FIELDS: dict[str, int] = {
    "shape": 1 + len(Shape),
    "orientation": 1 + len(Orientation),
    "margin": 3,  # unspecified, circumscribed, not circumscribed
    "echo_pattern": 1 + len(EchoPattern),
    "posterior_features": 1 + len(PosteriorFeatures),
    "calcifications": 1 + len(Calcifications),
    "halo": 3,  # unspecified, no, yes
    "birads": 1 + len(BiradsCategory),
    "pathology": 1 + len(Pathology),
    "size": 2 + len(SIZE_BIN_EDGES_MM),
}
MARGIN_SUBTYPES = tuple(MARGIN_SUSPICION)  # multi-hot order


def _enum_index(value, enum) -> int:
    return 0 if value is None else 1 + list(enum).index(value)


def size_bin(size_mm: float | None) -> int:
    return 0 if size_mm is None else 1 + bisect_right(SIZE_BIN_EDGES_MM, float(size_mm))


def description_to_index_lists(desc: LesionDescription | None) -> dict[str, list[int] | int]:
    """One description as indices: {field: int} plus 'margin_subtypes': multi-hot list of 0/1."""
    desc = desc or LesionDescription()
    out: dict[str, list[int] | int] = {
        name: _enum_index(getattr(desc, name), e) for name, e in ENUM_FIELDS.items()
    }
    margin = desc.margin
    out["margin"] = 0 if margin is None else (1 if margin.circumscribed else 2)
    out["margin_subtypes"] = [int(margin is not None and s in margin.subtypes) for s in MARGIN_SUBTYPES]
    out["halo"] = 0 if desc.halo is None else (2 if desc.halo else 1)
    out["size"] = size_bin(desc.size_mm)
    return out
