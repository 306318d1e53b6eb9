"""The BI-RADS form and the free-text box, kept in sync both ways; unplaced words are shown."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from busstudio.models.description_sync import DescriptionModel
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

UNSET = "—"
# Item data are plain strings: PySide6 on Python 3.11 mis-counts references to None stored as item
# data (a "deallocating None" crash), so "" stands for unset.
NONE_DATA = ""
ENUM_FIELDS = (
    ("shape", "Shape", Shape),
    ("orientation", "Orientation", Orientation),
    ("echo_pattern", "Echo pattern", EchoPattern),
    ("posterior_features", "Posterior", PosteriorFeatures),
    ("calcifications", "Calcifications", Calcifications),
    ("birads", "BI-RADS", BiradsCategory),
    ("pathology", "Pathology", Pathology),
)
TEXT_DEBOUNCE_MS = 300


class AttributePanel(QWidget):
    def __init__(self, model: DescriptionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        for name, label, enum in ENUM_FIELDS:
            combo = QComboBox(self)
            combo.setObjectName(f"combo_{name}")
            combo.addItem(UNSET, NONE_DATA)
            for value in enum:
                combo.addItem(value.value, value.value)
            combo.currentIndexChanged.connect(self._form_changed)
            self.combos[name] = combo
            form.addRow(label, combo)
        self.margin = QComboBox(self)
        self.margin.setObjectName("combo_margin")
        for text, value in ((UNSET, NONE_DATA), ("circumscribed", "yes"), ("not circumscribed", "no")):
            self.margin.addItem(text, value)
        self.margin.currentIndexChanged.connect(self._form_changed)
        form.addRow("Margin", self.margin)
        sub_row = QWidget(self)
        sub_lay = QHBoxLayout(sub_row)
        sub_lay.setContentsMargins(0, 0, 0, 0)
        self.subtypes: dict[MarginSubtype, QCheckBox] = {}
        for subtype in MarginSubtype:
            box = QCheckBox(subtype.value, sub_row)
            box.toggled.connect(self._form_changed)
            self.subtypes[subtype] = box
            sub_lay.addWidget(box)
        form.addRow("", sub_row)
        self.halo = QComboBox(self)
        for text, value in ((UNSET, NONE_DATA), ("halo", "yes"), ("no halo", "no")):
            self.halo.addItem(text, value)
        self.halo.currentIndexChanged.connect(self._form_changed)
        form.addRow("Halo", self.halo)
        self.size = QDoubleSpinBox(self)
        self.size.setRange(0.0, 200.0)
        self.size.setDecimals(1)
        self.size.setSuffix(" mm")
        self.size.setSpecialValueText(UNSET)
        self.size.valueChanged.connect(self._form_changed)
        form.addRow("Size (longest)", self.size)

        self.text = QPlainTextEdit(self)
        self.text.setObjectName("descriptionText")
        self.text.setPlaceholderText(
            "Describe the lesion, e.g. irregular hypoechoic mass, not parallel, spiculated margin, 14 mm"
        )
        self.text.setMaximumHeight(90)
        self.unplaced = QLabel("", self)
        self.unplaced.setObjectName("unplacedWords")
        self.unplaced.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(QLabel("<b>Description</b> (form and text stay in sync)", self))
        lay.addLayout(form)
        lay.addWidget(self.text)
        lay.addWidget(self.unplaced)
        lay.addStretch(1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(TEXT_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_text)
        self.text.textChanged.connect(self._text_typed)
        self._updating = False
        model.events.changed.connect(self._redraw)
        self._redraw(source="load")

    # form -> model ---------------------------------------------------------------------------------
    def form_description(self) -> LesionDescription:
        values = {name: self.value(name) for name in self.combos}
        circumscribed = _yes_no(self.margin.currentData())
        subtypes = frozenset(s for s, box in self.subtypes.items() if box.isChecked())
        if circumscribed is None and subtypes:
            circumscribed = False
        margin = (
            None
            if circumscribed is None
            else Margin(circumscribed, frozenset() if circumscribed else subtypes)
        )
        size = self.size.value() or None
        return LesionDescription(margin=margin, halo=_yes_no(self.halo.currentData()), size_mm=size, **values)

    def value(self, name: str):
        """The enum chosen in the form for field `name`, or None."""
        enum = next(e for n, _, e in ENUM_FIELDS if n == name)
        data = self.combos[name].currentData()
        return enum(data) if data else None

    def _form_changed(self, *_):
        if self._updating:
            return
        self._guard(lambda: self.model.set_from_form(self.form_description()))

    # text -> model ---------------------------------------------------------------------------------
    def _text_typed(self):
        if not self._updating:
            self._debounce.start()

    def apply_text(self) -> None:
        self._debounce.stop()
        self._guard(lambda: self.model.set_from_text(self.text.toPlainText()))

    def _guard(self, fn):
        from engine.errors import BusError

        try:
            fn()
        except BusError as exc:  # a missing parser or a value outside the lexicon: say so in place
            self.unplaced.setText(f"<span style='color:#c33'>{exc}</span>")

    # model -> widgets ------------------------------------------------------------------------------
    def _redraw(self, source: str) -> None:
        d = self.model.description
        self._updating = True
        try:
            if source != "form":
                for name, combo in self.combos.items():
                    value = getattr(d, name)
                    combo.setCurrentIndex(max(combo.findData(value.value), 0) if value is not None else 0)
                m = d.margin
                self.margin.setCurrentIndex(0 if m is None else (1 if m.circumscribed else 2))
                for subtype, box in self.subtypes.items():
                    box.setChecked(m is not None and subtype in m.subtypes)
                self.halo.setCurrentIndex(0 if d.halo is None else (1 if d.halo else 2))
                self.size.setValue(d.size_mm or 0.0)
            if source != "text" and self.text.toPlainText() != self.model.text:
                self.text.setPlainText(self.model.text)
        finally:
            self._updating = False
        r = self.model.reading
        notes = []
        if r is not None:
            if r.unplaced:
                notes.append("Not understood: " + ", ".join(f"“{w}”" for w in r.unplaced))
            if r.negated:
                notes.append("Negated without an opposite: " + ", ".join(r.negated))
            if r.conflicts:
                notes.append("Conflicting (first kept): " + ", ".join(r.conflicts))
        self.unplaced.setText("<br>".join(notes))


def _yes_no(data: str) -> bool | None:
    return {"yes": True, "no": False}.get(data)
