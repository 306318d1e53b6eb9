"""Training captions: the words a radiologist's report would use for a LesionDescription.

The same function captions training windows and, when the user gives only structured fields, the
request at sampling time, so the text encoder sees one style of sentence on both sides. When the
clinical-language room provides its own sentence renderer (`engine.language.text.describe`), that is
used instead.
"""

from __future__ import annotations

import importlib

from engine.language.description import LesionDescription


def _renderer():
    try:
        module = importlib.import_module("engine.language.text")
    except ModuleNotFoundError:
        return None
    return getattr(module, "describe", None)


def caption(description: LesionDescription | None) -> str:
    if description is None:
        return ""
    render = _renderer()
    if render is not None:
        return str(render(description))
    d = description
    words: list[str] = []
    if d.shape:
        words.append(d.shape.value)
    if d.orientation:
        words.append(d.orientation.value)
    if d.echo_pattern:
        words.append(d.echo_pattern.value)
    words.append("mass")
    parts = [" ".join(words)]
    if d.margin is not None:
        if d.margin.circumscribed:
            parts.append("circumscribed margin")
        else:
            subs = [s.value for s in sorted(d.margin.subtypes, key=lambda s: s.value)]
            parts.append(
                ("not circumscribed, " + " and ".join(subs) if subs else "not circumscribed") + " margin"
            )
    if d.posterior_features:
        parts.append(
            d.posterior_features.value
            if d.posterior_features.value.startswith("no ")
            else f"posterior {d.posterior_features.value}"
        )
    if d.calcifications:
        parts.append(d.calcifications.value)
    if d.halo is not None:
        parts.append("echogenic halo" if d.halo else "no halo")
    if d.size_mm:
        parts.append(f"{d.size_mm:.0f} mm")
    if d.birads:
        parts.append(f"BI-RADS {d.birads.value}")
    if d.pathology and d.pathology.value != "unknown":
        parts.append(d.pathology.value)
    return ", ".join(parts)
