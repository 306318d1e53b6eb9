"""Read a dataset's label table (CSV or XLSX) as a list of row dicts with string cells."""

from __future__ import annotations

import csv
from pathlib import Path

from engine.errors import DataError


def read_table(path: Path, sheet: str | None = None) -> list[dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"label table {path} not found")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raise DataError(f"label table {path}: expected .csv or .xlsx")


def _read_xlsx(path: Path, sheet: str | None) -> list[dict[str, str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise DataError(f"label table {path}: cannot read workbook: {exc}") from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
        out = []
        for values in rows:
            if values is None or all(v is None for v in values):
                continue
            out.append({h: _cell(v) for h, v in zip(header, values, strict=False) if h})
        return out
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
