"""A whole (small) table as strings, for registries and previews, and the public detection calls
(`sniff`, `file_kind`, `sheet_report`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.ingest.readers.csvfile import check_csv_quotes, csv_records
from analytics.ingest.readers.detect import FileKind, _file_kind, _reject
from analytics.ingest.readers.encoding import MIXED_ENCODING
from analytics.ingest.readers.excel import _pick_sheet, _workbook, _zip_kind, iter_sheet_rows
from analytics.ingest.readers.headers import HEADER_SEARCH_ROWS, _is_blank, find_header, table_headers


@dataclass
class TableRead:
    frame: pd.DataFrame  # every value a str; missing -> ''
    encoding: str | None  # None for spreadsheets
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    headers: list[str] = field(default_factory=list)


def sniff(path: str | Path) -> dict[str, Any]:
    """{'kind', 'encoding', 'delimiter', 'sheets'} of a file; FileRejected if it is no table."""
    kind = _file_kind(path)
    if kind.kind == "xlsx":
        _zip_kind(path)
    if kind.kind in ("xlsx", "xls"):
        kind.sheets = list(_workbook(path).sheet_names)
    return {"kind": kind.kind, "encoding": kind.encoding, "delimiter": kind.delimiter, "sheets": kind.sheets}


def read_table(path: str | Path, sheet: str | None = None, max_rows: int | None = None) -> TableRead:
    """A whole (small) table as strings; `max_rows` stops early for previews."""
    kind = _file_kind(path)
    if kind.kind in ("xlsx", "xls"):
        name, headers, rows, _header_row = iter_sheet_rows(path, sheet)
        kind.sheets = list(_workbook(path).sheet_names)
        data = _take(rows, len(headers), max_rows)
        frame = pd.DataFrame(data, columns=headers, dtype=str)
        return TableRead(frame=frame, encoding=None, sheets=kind.sheets, sheet=name, headers=headers)
    try:
        try:
            headers, data = _read_csv_table(path, kind, max_rows)
        except UnicodeDecodeError:
            # a later part is in another encoding than the first MiB: decode line by line
            kind.encoding = MIXED_ENCODING
            headers, data = _read_csv_table(path, kind, max_rows)
    except csv.Error as exc:
        raise _reject(f"CSV 格式错误：{exc}", f"is not valid CSV: {exc}", path) from None
    frame = pd.DataFrame(data, columns=headers, dtype=str)
    return TableRead(frame=frame, encoding=kind.encoding, sheets=[], sheet=None, headers=headers)


def _read_csv_table(
    path: str | Path, kind: FileKind, max_rows: int | None
) -> tuple[list[str], list[list[str]]]:
    records = csv_records(path, kind)
    head = []
    for rec in records:
        head.append(rec)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    h = find_header(head, path)
    headers = table_headers(head[h], path)

    def rest() -> Iterator[list[str]]:
        yield from head[h + 1 :]
        yield from records

    return headers, _take(rest(), len(headers), max_rows)


def _take(rows: Iterator[list[str]], width: int, max_rows: int | None) -> list[list[str]]:
    """Rows padded/cut to the header width, blank rows dropped, at most max_rows."""
    out: list[list[str]] = []
    for row in rows:
        if _is_blank(row):
            continue
        out.append((row + [""] * width)[:width] if len(row) != width else row)
        if max_rows is not None and len(out) >= max_rows:
            break
    return out


def file_kind(path: str | Path) -> FileKind:
    """Public form of the detection ingestion uses (validates ZIP workbooks, and CSV quoting)."""
    kind = _file_kind(path)
    if kind.kind == "xlsx":
        _zip_kind(path)
    if kind.kind in ("xlsx", "xls"):
        kind.sheets = list(_workbook(path).sheet_names)
    if kind.kind == "csv":
        check_csv_quotes(path, kind)
    return kind


def sheet_report(path: str | Path, sheet: str | None = None) -> tuple[str | None, list[str]]:
    """(the sheet read, the workbook's other sheets) for a file that has already been read, so is
    known to be sound; (None, []) for a CSV. With `sheet` None, the sheet `read_table` and
    ingestion pick: the first that holds data."""
    if _file_kind(path).kind == "csv":
        return None, []
    wb = _workbook(path)
    chosen = _pick_sheet(wb, sheet, path)
    return chosen, [name for name in wb.sheet_names if name != chosen]
