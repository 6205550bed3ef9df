"""What the upload page shows before anything is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics.ingest import columns
from analytics.ingest.readers.table import read_table


@dataclass
class Preview:
    encoding: str | None
    sheets: list[str]
    sheet: str | None
    headers: list[str]
    mapping: dict[str, str]
    missing_required: list[str]
    unmapped_headers: list[str]
    rows: pd.DataFrame
    dropped_headers: list[str] = field(default_factory=list)  # caller names: never stored


def preview_file(
    path: str | Path, mapping: dict[str, str] | None = None, sheet: str | None = None, n: int = 20
) -> Preview:
    """What the upload page shows before anything is loaded: the suggested mapping and n rows."""
    table = read_table(path, sheet=sheet, max_rows=n)
    merged = columns.resolve_mapping(table.headers, mapping, file_name=Path(path).name)
    dropped = columns.caller_name_headers(table.headers)
    used = set(merged.values())
    return Preview(
        encoding=table.encoding,
        sheets=table.sheets,
        sheet=table.sheet,
        headers=table.headers,
        mapping=merged,
        missing_required=columns.missing_required(merged),
        unmapped_headers=[h for h in table.headers if h not in used and h not in dropped],
        rows=table.frame.drop(columns=dropped),
        dropped_headers=dropped,
    )
