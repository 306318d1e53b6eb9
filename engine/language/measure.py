"""Measure a lesion's BI-RADS attributes from an image and its mask.

`measure(image, mask, mm_per_pixel)` -> (LesionDescription, confidences). The learned part is a set
of small logistic models on engine.language.features (posterior features: an ensemble of them on
several views, `TASK_VIEWS`), fitted on BrEaST-Lesions_USG by
`bus-engine validate-describe --write-model` and shipped as resources/language/describe_model.json.
Orientation is a rule (BrEaST has no orientation labels to learn from): wider than tall is parallel.
Sizes come from the contour's BI-RADS diameters when the pixel size is known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import InputError, ModelError
from engine.fileio import atomic_write_bytes
from engine.language.classifier import EnsembleModel, LogisticModel, model_from_dict
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import EchoPattern, MarginSubtype, Orientation, PosteriorFeatures, Shape
from engine.settings import RESOURCES

DEFAULT_MODEL = RESOURCES / "language" / "describe_model.json"
MODEL_FORMAT = "bus-studio describe model 2"  # 2: a task may hold an ensemble ("members")
READABLE_FORMATS = ("bus-studio describe model 1", MODEL_FORMAT)

# Which features each learned descriptor reads (prefixes of engine.language.features names).
TASK_FEATURES: dict[str, tuple[str, ...]] = {
    "shape": ("shape_",),
    "margin": ("shape_", "margin_"),
    "margin_spiculated": ("shape_", "margin_", "echo_"),
    "margin_angular": ("shape_", "margin_", "echo_"),
    "margin_microlobulated": ("shape_", "margin_", "echo_"),
    "margin_indistinct": ("shape_", "margin_", "echo_"),
    "echo_hypo_or_anechoic": ("echo_",),
    "echo_pattern": ("echo_", "margin_"),
    "posterior": ("posterior_", "below_", "echo_", "shape_", "margin_"),
}
# Tasks learned as an ensemble of logistic models, one per view. Posterior features: beside the
# side-referenced posterior features, the band below against the image's depth-gain curve, the
# lesion's echo, and its outline (radiologists' labels go with the kind of lesion: cysts enhance,
# spiculated carcinomas shadow). Single models on these views swing with the split (7 'combined'
# lesions); their pooled probabilities swing less.
TASK_VIEWS: dict[str, tuple[tuple[str, ...], ...]] = {
    "posterior": (
        ("posterior_", "echo_"),
        ("posterior_", "below_"),
        ("posterior_", "below_", "echo_"),
        ("posterior_", "echo_", "shape_", "margin_"),
    ),
}
HYPO_OR_ANECHOIC = "hypo/anechoic"
CIRCUMSCRIBED, NOT_CIRCUMSCRIBED = "circumscribed", "not circumscribed"


def task_label(task: str, desc: LesionDescription) -> str | None:
    """The radiologists' label of `desc` for one learned task; None where it does not apply."""
    if task == "shape":
        return desc.shape.value if desc.shape else None
    if task == "margin":
        return (
            None
            if desc.margin is None
            else (CIRCUMSCRIBED if desc.margin.circumscribed else NOT_CIRCUMSCRIBED)
        )
    if task.startswith("margin_"):  # subtypes: among not-circumscribed margins only
        if desc.margin is None or desc.margin.circumscribed:
            return None
        return "yes" if MarginSubtype(task[len("margin_") :]) in desc.margin.subtypes else "no"
    if task == "echo_hypo_or_anechoic":
        if desc.echo_pattern is None:
            return None
        return (
            HYPO_OR_ANECHOIC
            if desc.echo_pattern in (EchoPattern.HYPOECHOIC, EchoPattern.ANECHOIC)
            else "other"
        )
    if task == "echo_pattern":
        return desc.echo_pattern.value if desc.echo_pattern else None
    if task == "posterior":
        return desc.posterior_features.value if desc.posterior_features else None
    raise KeyError(task)


def task_columns(task: str, feature_names: list[str]) -> list[str]:
    return [n for n in feature_names if n.startswith(TASK_FEATURES[task])]


def task_views(task: str, feature_names: list[str]) -> list[list[str]] | None:
    """The feature columns of each view of an ensemble task; None for a single-model task."""
    if task not in TASK_VIEWS:
        return None
    return [[n for n in feature_names if n.startswith(prefixes)] for prefixes in TASK_VIEWS[task]]


@dataclass
class DescribeModel:
    models: dict[str, LogisticModel | EnsembleModel]
    provenance: dict

    def to_dict(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            "provenance": self.provenance,
            "models": {k: m.to_dict() for k, m in self.models.items()},
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "describe model") -> DescribeModel:
        if d.get("format") not in READABLE_FORMATS:
            raise ModelError(f"{where}: not a '{MODEL_FORMAT}' file (format {d.get('format')!r})")
        missing = sorted(set(TASK_FEATURES) - set(d.get("models", {})))
        if missing:
            raise ModelError(f"{where}: lacks the models {', '.join(missing)}")
        return cls({k: model_from_dict(v) for k, v in d["models"].items()}, d.get("provenance", {}))

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, json.dumps(self.to_dict(), indent=1).encode("utf-8"))


@lru_cache(maxsize=4)
def _load(path: str) -> DescribeModel:
    p = Path(path)
    if not p.is_file():
        raise ModelError(
            f"describe model {p} not found; `bus-engine validate-describe --out DIR --write-model {p}` fits it"
        )
    try:
        return DescribeModel.from_dict(json.loads(p.read_text(encoding="utf-8")), str(p))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"describe model {p} is unreadable: {exc}") from exc


def load_describe_model(path: str | Path | None = None) -> DescribeModel:
    return _load(str(path or DEFAULT_MODEL))


def _proba(model: LogisticModel | EnsembleModel, features: dict[str, float]) -> dict[str, float]:
    x = np.array([features[n] for n in model.features])
    return dict(zip(model.classes, model.predict_proba(x)[0].tolist(), strict=True))


def describe_features(model: DescribeModel, features: dict[str, float]) -> tuple[LesionDescription, dict]:
    """The description the learned models give for one lesion's features, with each field's confidence
    (the model's probability of the value it chose)."""
    conf: dict[str, float] = {}
    p = _proba(model.models["shape"], features)
    shape = max(p, key=p.get)
    conf["shape"] = p[shape]

    p = _proba(model.models["margin"], features)
    circumscribed = p[CIRCUMSCRIBED] >= 0.5
    conf["margin"] = p[CIRCUMSCRIBED] if circumscribed else p[NOT_CIRCUMSCRIBED]
    subtypes = set()
    if not circumscribed:
        for s in MarginSubtype:
            ps = _proba(model.models[f"margin_{s.value}"], features)["yes"]
            conf[f"margin_{s.value}"] = ps if ps >= 0.5 else 1.0 - ps
            if ps >= 0.5:
                subtypes.add(s)

    p_binary = _proba(model.models["echo_hypo_or_anechoic"], features)
    dark = p_binary[HYPO_OR_ANECHOIC] >= 0.5
    p = _proba(model.models["echo_pattern"], features)
    dark_values = {EchoPattern.HYPOECHOIC.value, EchoPattern.ANECHOIC.value}
    allowed = {k: v for k, v in p.items() if (k in dark_values) == dark} or p
    echo = max(allowed, key=allowed.get)
    conf["echo_pattern"] = (
        (p_binary[HYPO_OR_ANECHOIC] if dark else p_binary["other"]) * allowed[echo] / sum(allowed.values())
    )

    p = _proba(model.models["posterior"], features)
    posterior = max(p, key=p.get)
    conf["posterior_features"] = p[posterior]

    desc = LesionDescription(
        shape=Shape(shape),
        orientation=Orientation.PARALLEL
        if features["shape_width_height"] >= 0.0  # log(width / height)
        else Orientation.NOT_PARALLEL,
        margin=Margin(circumscribed, frozenset(subtypes)),
        echo_pattern=EchoPattern(echo),
        posterior_features=PosteriorFeatures(posterior),
    )
    return desc, conf


def measure(
    image: np.ndarray,
    mask: np.ndarray,
    mm_per_pixel: float | None = None,
    model: DescribeModel | None = None,
) -> tuple[LesionDescription, dict[str, float]]:
    """BI-RADS attributes of the lesion outlined by `mask` in the 8-bit grayscale `image`.

    Returns the description (shape, orientation, margin, echo pattern, posterior features, and the
    sizes in mm when `mm_per_pixel` is given) and a confidence per learned field.
    """
    from engine.contour.fit import fit_contour
    from engine.language.features import lesion_features

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise InputError(f"image must be a 2-D uint8 grayscale array, got {image.dtype} {image.shape}")
    if mm_per_pixel is not None and not (0 < float(mm_per_pixel) < 10):
        raise InputError(f"mm per pixel {mm_per_pixel!r} must be a positive pixel size below 10 mm")
    model = model or load_describe_model()
    desc, conf = describe_features(model, lesion_features(image, mask))
    if mm_per_pixel is not None:
        from engine.masks.descriptors import largest_region

        diameters = fit_contour(largest_region(np.asarray(mask, bool))).contour.diameters()
        longest, perpendicular = diameters.in_mm(float(mm_per_pixel))
        values = desc.to_dict()
        values.update(size_mm=round(longest, 1), perpendicular_mm=round(perpendicular, 1) or None)
        desc = LesionDescription.from_dict(values)
    return desc, conf
