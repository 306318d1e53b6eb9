"""Free text -> LesionDescription, with the words it could not place reported, never dropped.

Rules are phrase patterns tried in order (most specific first) over normalised words; each word is
placed at most once. A negation ("no", "without", "not", "non", "absent") up to three words before a
phrase flips or clears it: "no posterior shadowing" -> no posterior features, "no halo" -> halo no,
"not well circumscribed" -> not circumscribed. Negated values with no opposite (e.g. "not round")
are listed in `negated`. A second, different value for a field already set is listed in `conflicts`
and the first one is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.errors import InputError
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

_CALC = r"(?:micro ?)?calcifications?"
_RULES: list[tuple[str, str, object]] = [
    (
        r"no (?:posterior )?(?:acoustic )?(?:features?|phenomena|findings)",
        "posterior_features",
        PosteriorFeatures.NONE,
    ),
    (
        r"not circumscribed|non ?circumscribed|uncircumscribed|ill circumscribed|poorly circumscribed",
        "margin",
        False,
    ),
    (
        r"not parallel|non ?parallel|anti ?parallel|taller than (?:wide|broad)|vertical(?:ly)? orient(?:ed|ation)"
        r"|perpendicular to the skin",
        "orientation",
        Orientation.NOT_PARALLEL,
    ),
    (
        r"wider than (?:tall|high)|parallel(?: to the skin)?|horizontal(?:ly)? orient(?:ed|ation)",
        "orientation",
        Orientation.PARALLEL,
    ),
    (
        r"(?:complex|mixed) (?:cystic (?:and )?solid|solid (?:and )?cystic)|solid (?:and )?cystic|cystic (?:and )?solid"
        r"|complex cyst(?:ic)?",
        "echo_pattern",
        EchoPattern.COMPLEX_CYSTIC_SOLID,
    ),
    (r"(?:echogenic|hyperechoic) (?:halo|rim)|halo", "halo", True),
    (
        rf"{_CALC} (?:with)?in (?:a |the )?mass|intra ?lesional {_CALC}|internal {_CALC}",
        "calcifications",
        Calcifications.IN_MASS,
    ),
    (
        rf"{_CALC} outside (?:of )?(?:a |the )?mass|extra ?lesional {_CALC}",
        "calcifications",
        Calcifications.OUTSIDE_MASS,
    ),
    (rf"intra ?ductal {_CALC}|{_CALC} in (?:a |the )?ducts?", "calcifications", Calcifications.INTRADUCTAL),
    (rf"{_CALC}|(?:micro ?)?calcified|calcific foci", "calcifications", Calcifications.IN_MASS),
    (r"spiculated|spiculations?|spiculae|stellate|spiky", "subtype", MarginSubtype.SPICULATED),
    (r"angular|angulated|angulations?", "subtype", MarginSubtype.ANGULAR),
    (r"micro ?lobulated|micro ?lobulations?|micro ?lobular", "subtype", MarginSubtype.MICROLOBULATED),
    (
        r"indistinct|ill defined|poorly defined|not well defined|blurred|fuzzy|hazy|obscured|unsharp|ill marginated",
        "subtype",
        MarginSubtype.INDISTINCT,
    ),
    (
        r"(?:well |sharply )?circumscribed|(?:well|sharply) (?:defined|marginated|demarcated)"
        r"|smooth(?:ly)? (?:margins?|marginated|outline)|sharp margins?",
        "margin",
        True,
    ),
    (
        r"oval|ovoid|elliptical|ellipsoid(?:al)?|egg shaped|(?:gently |macro ?)?lobulated|lobular",
        "shape",
        Shape.OVAL,
    ),
    (r"round|rounded|circular|spherical", "shape", Shape.ROUND),
    (r"irregular(?:ly)?(?: shaped)?", "shape", Shape.IRREGULAR),
    (
        r"an ?echoic|an ?echogenic|cyst like|cystic|simple cyst|fluid filled",
        "echo_pattern",
        EchoPattern.ANECHOIC,
    ),
    (r"hyper ?echoic|hyper ?echogenic|echogenic", "echo_pattern", EchoPattern.HYPERECHOIC),
    (r"(?:markedly |very )?hypo ?echoic|hypo ?echogenic", "echo_pattern", EchoPattern.HYPOECHOIC),
    (r"iso ?echoic|iso ?echogenic", "echo_pattern", EchoPattern.ISOECHOIC),
    (
        r"heterogen(?:e)?ous(?: echo ?pattern)?|inhomogeneous|non ?homogeneous|mixed echo(?:genicity| ?pattern)",
        "echo_pattern",
        EchoPattern.HETEROGENEOUS,
    ),
    (
        r"combined (?:posterior )?(?:acoustic )?(?:pattern|features?)|(?:posterior )?shadowing and enhancement"
        r"|(?:posterior )?enhancement and shadowing|mixed posterior (?:features?|pattern)",
        "posterior_features",
        PosteriorFeatures.COMBINED,
    ),
    (
        r"(?:posterior )?(?:acoustic )?shadow(?:ing|s)?|(?:posterior )?(?:acoustic )?attenuation|attenuating",
        "posterior_features",
        PosteriorFeatures.SHADOWING,
    ),
    (
        r"(?:posterior )?(?:acoustic )?enhancement|(?:increased |enhanced )?through transmission",
        "posterior_features",
        PosteriorFeatures.ENHANCEMENT,
    ),
    (
        r"pathology unknown|unknown pathology|(?:pathology|histology) (?:is )?(?:pending|unknown)",
        "pathology",
        Pathology.UNKNOWN,
    ),
    (r"benign|benignity", "pathology", Pathology.BENIGN),
    (r"malignant|malignancy|cancer|carcinoma", "pathology", Pathology.MALIGNANT),
]
_BIRADS = r"birads (?:category |cat |assessment )?(\d)(?: ?([abc]))?\b|category (\d)(?: ?([abc]))?\b"
_UNIT = r"(mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?)"
_NUM = r"(\d+(?:\.\d+)?)"
_SIZE_PAIR = rf"{_NUM} (?:x|by) {_NUM} {_UNIT}"
_SIZE_ONE = rf"{_NUM} {_UNIT}( perpendicular)?"

_NEGATIONS = {"no", "without", "not", "non", "absent", "negative", "absence"}
_NEGATION_FILLER = {
    "posterior",
    "acoustic",
    "any",
    "evidence",
    "of",
    "definite",
    "significant",
    "associated",
    "for",
}
_STOPWORDS = {
    "a", "an", "the", "mass", "masses", "lesion", "lesions", "nodule", "tumor", "tumour", "finding", "with",
    "and", "of", "in", "is", "are", "has", "having", "shows", "showing", "seen", "noted", "there", "which",
    "that", "to", "at", "on", "or", "but", "also", "margin", "margins", "marginated", "shape", "shaped",
    "orientation", "oriented", "echo", "echogenicity", "pattern", "posterior", "features", "feature",
    "acoustic", "measuring", "measures", "measured", "size", "sized", "diameter", "longest", "approximately",
    "approx", "about", "category", "assessment", "its", "it", "this", "appears", "appearing", "solid",
    "breast", "ultrasound", "us", "demonstrates", "containing", "contains", "x", "by", "mm", "cm", "birads",
}  # fmt: skip
_FLIP = {
    "orientation": {
        Orientation.PARALLEL: Orientation.NOT_PARALLEL,
        Orientation.NOT_PARALLEL: Orientation.PARALLEL,
    },
    "halo": {True: False},
    "margin": {True: False},
    "calcifications": {v: Calcifications.NONE for v in Calcifications if v is not Calcifications.NONE},
}


@dataclass
class ParseResult:
    description: LesionDescription
    unplaced: list[str] = field(default_factory=list)  # words that set nothing, in text order
    negated: list[str] = field(default_factory=list)  # negated phrases with no opposite value
    conflicts: list[str] = field(default_factory=list)  # later values contradicting earlier ones

    def to_dict(self) -> dict:
        from engine.language.sentence import canonical_sentence

        return {
            "description": self.description.to_dict(),
            "sentence": canonical_sentence(self.description),
            "unplaced": self.unplaced,
            "negated": self.negated,
            "conflicts": self.conflicts,
        }


def normalise(text: str) -> list[str]:
    text = text.lower().replace("×", " x ")
    text = re.sub(r"\bbi\W?rads\b|\bbirads\b", " birads ", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)  # decimal comma
    text = re.sub(r"(\d)\s*(mm|cm|millimet\w*|centimet\w*)\b", r"\1 \2", text)
    text = re.sub(r"(\d)\s*x\s*(\d)", r"\1 x \2", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w.]+", " ", text.replace("_", " "))
    return text.split()


class _Words:
    """Words with a 'placed' flag; regex matches over the joined text map back to word indices."""

    def __init__(self, words: list[str]):
        self.words = words
        self.placed = [False] * len(words)
        self.text = " ".join(words)
        self.start_of_char = {}
        pos = 0
        for i, w in enumerate(words):
            self.start_of_char[pos] = i
            pos += len(w) + 1

    def matches(self, pattern: str):
        """Yield (first, last+1, match) of whole-word matches over words not yet placed."""
        for m in re.finditer(rf"(?<!\S)(?:{pattern})(?!\S)", self.text):
            first = self.start_of_char[m.start()]
            last = first + len(m.group(0).split())
            if not any(self.placed[first:last]):
                yield first, last, m

    def place(self, first: int, last: int) -> None:
        for i in range(first, last):
            self.placed[i] = True

    def negation_before(self, first: int) -> bool:
        """A negation word within three words before `first` (skipping fillers); places it and them."""
        i, seen = first - 1, []
        while i >= 0 and len(seen) < 3 and not self.placed[i]:
            word = self.words[i]
            if word in _NEGATIONS:
                self.place(i, first)
                return True
            if word not in _NEGATION_FILLER:
                return False
            seen.append(i)
            i -= 1
        return False


def _mm(value: str, unit: str) -> float:
    return float(value) * (10.0 if unit.startswith("c") else 1.0)


def parse_text(text: str) -> ParseResult:
    """Read a free-text description. Raises InputError only for values outside the lexicon (BI-RADS 0, 7)."""
    words = _Words(normalise(text))
    found: list[tuple[int, str, object, bool, str]] = []  # (position, field, value, negated, phrase)

    for first, last, m in list(words.matches(_BIRADS)):
        number, letter = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        try:
            value = BiradsCategory(number + (letter or ""))
        except ValueError as exc:
            raise InputError(
                f"BI-RADS category {number + (letter or '')!r} in {text!r} is not 1-6, 4a, 4b or 4c"
            ) from exc
        words.place(first, last)
        found.append((first, "birads", value, False, m.group(0)))
    sizes: list[tuple[int, float, float | None, str]] = []
    for pattern in (_SIZE_PAIR, _SIZE_ONE):
        for first, last, m in list(words.matches(pattern)):
            words.place(first, last)
            if pattern == _SIZE_PAIR:
                a, b = _mm(m.group(1), m.group(3)), _mm(m.group(2), m.group(3))
                sizes.append((first, max(a, b), min(a, b), m.group(0)))
            elif m.group(3):
                sizes.append((first, None, _mm(m.group(1), m.group(2)), m.group(0)))
            else:
                sizes.append((first, _mm(m.group(1), m.group(2)), None, m.group(0)))
    for pattern, name, value in _RULES:
        for first, last, m in list(words.matches(pattern)):
            if any(words.placed[first:last]):
                continue  # an earlier match of this same rule took a word
            words.place(first, last)
            found.append((first, name, value, words.negation_before(first), m.group(0)))

    result = ParseResult(LesionDescription())
    values: dict[str, object] = {}
    subtypes: set[MarginSubtype] = set()
    negated_posterior = False

    def set_value(name: str, value, phrase: str) -> None:
        if name in values and values[name] != value:
            result.conflicts.append(
                f"{name}: {phrase!r} contradicts the earlier value {_show(values[name])!r}"
            )
        else:
            values[name] = value

    for _, name, value, negated, phrase in sorted(found, key=lambda f: f[0]):
        if name == "subtype":
            if negated:
                result.negated.append(phrase)
            else:
                subtypes.add(value)
            continue
        if negated:
            if name == "posterior_features" and value is not PosteriorFeatures.NONE:
                negated_posterior = True
                continue
            flipped = _FLIP.get(name, {}).get(value)
            if flipped is None:
                result.negated.append(phrase)
                continue
            value = flipped
        set_value(name, value, phrase)
    if negated_posterior and "posterior_features" not in values:
        values["posterior_features"] = PosteriorFeatures.NONE

    # BI-RADS: any portion not circumscribed makes the margin not circumscribed.
    if subtypes or values.get("margin") is False:
        values["margin"] = Margin(False, frozenset(subtypes))
    elif values.get("margin") is True:
        values["margin"] = Margin(True)
    for _, size, perpendicular, phrase in sorted(sizes, key=lambda s: s[0]):
        if size is not None:
            set_value("size_mm", size, phrase)
            if perpendicular is not None:
                set_value("perpendicular_mm", perpendicular, phrase)
        else:
            set_value("perpendicular_mm", perpendicular, phrase)
    result.description = LesionDescription(**values)
    result.unplaced = [
        w for w, p in zip(words.words, words.placed, strict=True) if not p and w not in _STOPWORDS
    ]
    return result


def _show(value) -> str:
    return getattr(value, "value", value) if not isinstance(value, Margin) else str(value.to_dict())
