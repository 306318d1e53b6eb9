"""The description of the current lesion, kept in sync between the BI-RADS form and free text.

Typing text parses it (engine.language.parser) into the form and lists the words that could not be
placed; choosing in the form rewrites the text as the canonical sentence (engine.language.sentence).
Qt-free: the attribute panel draws this model and forwards edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from busstudio import engine_parts
from busstudio.events import EventGroup
from engine.language.description import LesionDescription


@dataclass(frozen=True)
class TextReading:
    description: LesionDescription
    unplaced: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def read_text(text: str) -> TextReading:
    parser = engine_parts.language_parser()
    result = parser.parse_text(text)
    return TextReading(
        result.description, list(result.unplaced), list(result.negated), list(result.conflicts)
    )


def sentence_for(description: LesionDescription) -> str:
    module = engine_parts.require_module(
        "engine.language.sentence",
        "the canonical sentence writer (engine.language.sentence)",
        "Clinical language",
    )
    return module.canonical_sentence(description)


class DescriptionModel:
    """Events: `changed(source)` where source is "text" or "form" (the side that did not originate it redraws)."""

    def __init__(self):
        self.events = EventGroup("changed")
        self.description = LesionDescription()
        self.text = ""
        self.reading: TextReading | None = None

    def set_from_text(self, text: str) -> None:
        reading = read_text(text)
        self.description, self.text, self.reading = reading.description, text, reading
        self.events.changed.emit(source="text")

    def set_from_form(self, description: LesionDescription) -> None:
        self.description = description
        self.text = sentence_for(description) if description != LesionDescription() else ""
        self.reading = None
        self.events.changed.emit(source="form")

    def load(self, description: LesionDescription | None, text: str) -> None:
        """Show a lesion's stored description (no parsing: the stored pair is already in sync)."""
        self.description = description or LesionDescription()
        self.text = text
        self.reading = None
        self.events.changed.emit(source="load")
