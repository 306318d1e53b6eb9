"""LesionDescription: what a radiologist says about one mass. Every field may be unspecified (None)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import Enum

from engine.errors import InputError
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


@dataclass(frozen=True)
class Margin:
    """Circumscribed, or not circumscribed with zero or more subtypes (empty: subtype not given)."""

    circumscribed: bool
    subtypes: frozenset[MarginSubtype] = field(default_factory=frozenset)

    def __post_init__(self):
        object.__setattr__(self, "subtypes", frozenset(MarginSubtype(s) for s in self.subtypes))
        if self.circumscribed and self.subtypes:
            raise InputError(
                f"a circumscribed margin has no subtypes (got {sorted(s.value for s in self.subtypes)})"
            )

    @property
    def most_suspicious(self) -> MarginSubtype | None:
        return next((s for s in MARGIN_SUSPICION if s in self.subtypes), None)

    def to_dict(self) -> dict:
        return {
            "circumscribed": self.circumscribed,
            "subtypes": [s.value for s in MARGIN_SUSPICION if s in self.subtypes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Margin:
        try:
            return cls(bool(d["circumscribed"]), frozenset(MarginSubtype(s) for s in d.get("subtypes", [])))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"margin {d!r} is not a valid margin: {exc}") from exc


ENUM_FIELDS = {  # the description's enum-valued fields and their lexicon enums
    "shape": Shape,
    "orientation": Orientation,
    "echo_pattern": EchoPattern,
    "posterior_features": PosteriorFeatures,
    "calcifications": Calcifications,
    "birads": BiradsCategory,
    "pathology": Pathology,
}


@dataclass(frozen=True)
class LesionDescription:
    shape: Shape | None = None
    orientation: Orientation | None = None
    margin: Margin | None = None
    echo_pattern: EchoPattern | None = None
    posterior_features: PosteriorFeatures | None = None
    calcifications: Calcifications | None = None
    halo: bool | None = None
    birads: BiradsCategory | None = None
    pathology: Pathology | None = None
    size_mm: float | None = None  # longest diameter
    perpendicular_mm: float | None = None  # largest diameter perpendicular to it

    def __post_init__(self):
        for name, enum in ENUM_FIELDS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError as exc:
                    allowed = ", ".join(e.value for e in enum)
                    raise InputError(f"{name} {value!r} is not one of: {allowed}") from exc
        for name in ("size_mm", "perpendicular_mm"):
            value = getattr(self, name)
            if value is not None and not (0 < float(value) < 500):
                raise InputError(f"{name} {value!r} must be a length in mm between 0 and 500")

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, Margin):
                value = value.to_dict()
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, d: dict) -> LesionDescription:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown description fields: {', '.join(unknown)}")
        values = dict(d)
        if values.get("margin") is not None:
            values["margin"] = Margin.from_dict(values["margin"])
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LesionDescription:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InputError(f"description JSON is not valid: {exc}") from exc
