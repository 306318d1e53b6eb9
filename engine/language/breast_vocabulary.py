"""Map the vocabulary of BrEaST-Lesions_USG's clinical-data.csv onto the lexicon.

Cells hold the radiologists' words, several values joined with '&', and 'not applicable' for
normal cases, e.g. Margin = 'not circumscribed - spiculated&indistinct'.
"""

from __future__ import annotations

from engine.errors import InputError
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import (
    BiradsCategory,
    Calcifications,
    EchoPattern,
    MarginSubtype,
    Pathology,
    PosteriorFeatures,
    Shape,
)

_UNSPECIFIED = {"", "not applicable", "not available", "indefinable"}

_ECHO = {
    "hypoechoic": EchoPattern.HYPOECHOIC,
    "anechoic": EchoPattern.ANECHOIC,
    "isoechoic": EchoPattern.ISOECHOIC,
    "hyperechoic": EchoPattern.HYPERECHOIC,
    "heterogeneous": EchoPattern.HETEROGENEOUS,
    "complex cystic/solid": EchoPattern.COMPLEX_CYSTIC_SOLID,
}
_POSTERIOR = {
    "no": PosteriorFeatures.NONE,
    "shadowing": PosteriorFeatures.SHADOWING,
    "enhancement": PosteriorFeatures.ENHANCEMENT,
    "combined": PosteriorFeatures.COMBINED,
}
_CALCIFICATIONS = {
    "no": Calcifications.NONE,
    "in a mass": Calcifications.IN_MASS,
    "outside a mass": Calcifications.OUTSIDE_MASS,
    "intraductal": Calcifications.INTRADUCTAL,
}
_PATHOLOGY = {"benign": Pathology.BENIGN, "malignant": Pathology.MALIGNANT}


def _lookup(table: dict, cell: str, column: str):
    cell = cell.strip().lower()
    if cell in _UNSPECIFIED:
        return None
    if cell not in table:
        raise InputError(f"BrEaST column {column}: unknown value {cell!r}")
    return table[cell]


def margin_from_breast(cell: str) -> Margin | None:
    cell = cell.strip().lower()
    if cell in _UNSPECIFIED:
        return None
    if cell == "circumscribed":
        return Margin(circumscribed=True)
    prefix = "not circumscribed"
    if not cell.startswith(prefix):
        raise InputError(f"BrEaST column Margin: unknown value {cell!r}")
    rest = cell[len(prefix) :].strip(" -")
    try:
        subtypes = frozenset(MarginSubtype(s.strip()) for s in rest.split("&") if s.strip())
    except ValueError as exc:
        raise InputError(f"BrEaST column Margin: unknown subtype in {cell!r}") from exc
    return Margin(circumscribed=False, subtypes=subtypes)


def description_from_breast_row(row: dict[str, str]) -> LesionDescription | None:
    """The radiologists' description of a BrEaST case; None for the normal cases (no lesion)."""
    if row.get("Classification", "").strip().lower() == "normal":
        return None
    shape = row.get("Shape", "").strip().lower()
    halo = row.get("Halo", "").strip().lower()
    birads = row.get("BIRADS", "").strip().lower()
    calcs = [c for c in row.get("Calcifications", "").split("&")]
    return LesionDescription(
        shape=None if shape in _UNSPECIFIED else Shape(shape),
        margin=margin_from_breast(row.get("Margin", "")),
        echo_pattern=_lookup(_ECHO, row.get("Echogenicity", ""), "Echogenicity"),
        posterior_features=_lookup(_POSTERIOR, row.get("Posterior_features", ""), "Posterior_features"),
        calcifications=_lookup(_CALCIFICATIONS, calcs[0], "Calcifications") if len(calcs) == 1 else None,
        halo={"yes": True, "no": False}.get(halo),
        birads=None if birads in _UNSPECIFIED else BiradsCategory(birads),
        pathology=_lookup(_PATHOLOGY, row.get("Classification", ""), "Classification"),
    )
