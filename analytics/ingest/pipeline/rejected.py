"""Rejected rows as the analyst gets them back: the file's own columns in the file's order, each
cell as the file had it (phone and ID numbers masked, callers' names never kept), with the row's
number in the file and the reason, ready to fix and upload again."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from analytics import privacy
from analytics.ingest import columns

# the two columns put before the file's own; the pages label them in the reader's language
ROW_COLUMN = "__row__"  # the row as a spreadsheet shows the file (header row counted)
REASON_COLUMN = "__reason__"  # why the row was rejected, as the pipeline says it (Chinese)


def _text(value: object) -> str | None:
    """A cell as text; a blank cell (JSON null) stays None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def masked_cells(raw: str | None, mapping: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """One stored row (a JSON object of header -> cell) with phone and ID numbers masked in every
    cell except the ticket id and time columns of `mapping` (see columns.verbatim_headers)."""
    cells = json.loads(raw) if raw else {}
    keep = set(columns.verbatim_headers(list(cells), mapping))
    return {h: (_text(v) if h in keep else privacy.mask_personal(_text(v))) for h, v in cells.items()}


def expand(
    rows: pd.DataFrame, header_row: int | None, mapping: Mapping[str, str | None] | None
) -> pd.DataFrame:
    """rows (row_number, reason, raw) -> ROW_COLUMN, REASON_COLUMN and the file's columns."""
    records = [masked_cells(r, mapping) for r in rows.get("raw", pd.Series(dtype=object))]
    # every row holds the same headers in the file's order; dict.fromkeys keeps that order
    headers = list(dict.fromkeys(h for record in records for h in record))
    # a blank cell is blank in the file sent back, never "None"
    cells = pd.DataFrame(
        [[rec.get(h) or "" for h in headers] for rec in records], columns=headers, dtype=object
    )
    numbers = pd.Series(rows.get("row_number", pd.Series(dtype="int64")), dtype="int64").reset_index(
        drop=True
    )
    front = pd.DataFrame(
        {
            ROW_COLUMN: numbers + int(header_row or 1),
            REASON_COLUMN: pd.Series(rows.get("reason", pd.Series(dtype=object)), dtype=object).reset_index(
                drop=True
            ),
        }
    )
    return pd.concat([front, cells], axis=1)
