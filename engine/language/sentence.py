"""Canonical sentence of a description, in the radiologist's order:

"irregular, not parallel, hypoechoic mass with spiculated margin and posterior shadowing, 14 mm".
parser.parse_text reads every canonical sentence back to the same description (a test checks).
"""

from __future__ import annotations

from engine.language.description import LesionDescription
from engine.language.lexicon import MARGIN_SUSPICION, Calcifications, Pathology, PosteriorFeatures

_POSTERIOR = {
    PosteriorFeatures.NONE: "no posterior features",
    PosteriorFeatures.ENHANCEMENT: "posterior enhancement",
    PosteriorFeatures.SHADOWING: "posterior shadowing",
    PosteriorFeatures.COMBINED: "combined posterior pattern",
}
_CALCIFICATIONS = {
    Calcifications.NONE: "no calcifications",
    Calcifications.IN_MASS: "calcifications in the mass",
    Calcifications.OUTSIDE_MASS: "calcifications outside the mass",
    Calcifications.INTRADUCTAL: "intraductal calcifications",
}


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _mm(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def canonical_sentence(desc: LesionDescription) -> str:
    adjectives = [f.value for f in (desc.shape, desc.orientation, desc.echo_pattern) if f is not None]
    head = ", ".join(adjectives + ["mass"]) if adjectives else "mass"
    head = head.replace(", mass", " mass")
    clauses = []
    if desc.margin is not None:
        if desc.margin.circumscribed:
            clauses.append("circumscribed margin")
        elif desc.margin.subtypes:
            subtypes = [s.value for s in MARGIN_SUSPICION if s in desc.margin.subtypes]
            clauses.append(f"{_join(subtypes)} margin")  # a subtype implies not circumscribed
        else:
            clauses.append("not circumscribed margin")
    if desc.posterior_features is not None:
        clauses.append(_POSTERIOR[desc.posterior_features])
    if desc.halo is not None:
        clauses.append("echogenic halo" if desc.halo else "no halo")
    if desc.calcifications is not None:
        clauses.append(_CALCIFICATIONS[desc.calcifications])
    sentence = head + (" with " + _join(clauses) if clauses else "")
    tail = []
    if desc.size_mm is not None:
        size = _mm(desc.size_mm)
        tail.append(f"{size} x {_mm(desc.perpendicular_mm)} mm" if desc.perpendicular_mm else f"{size} mm")
    elif desc.perpendicular_mm is not None:
        tail.append(f"{_mm(desc.perpendicular_mm)} mm perpendicular")
    if desc.birads is not None:
        tail.append(f"BI-RADS {desc.birads.value}")
    if desc.pathology is not None:
        tail.append("pathology unknown" if desc.pathology is Pathology.UNKNOWN else desc.pathology.value)
    return ", ".join([sentence, *tail])
