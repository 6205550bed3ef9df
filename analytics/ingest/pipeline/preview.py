"""What the upload page shows before anything is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics import privacy
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
    rows: pd.DataFrame  # as read, callers' names left out: use `shown` for the screen
    dropped_headers: list[str] = field(default_factory=list)  # caller names: never stored

    def shown(self, mapping: Mapping[str, str | None] | None = None) -> pd.DataFrame:
        """The rows fit for the screen: a phone column masked whole, phone and ID numbers masked
        in every other cell, except the ticket id and time columns of `mapping` (the analyst's
        current choice; by default the suggested one), which show as the file has them so the
        two required fields can be checked."""
        mapping = self.mapping if mapping is None else mapping
        chosen = {k: v for k, v in mapping.items() if v}
        phones = set(columns.phone_headers(self.rows.columns, chosen))
        verbatim = set(columns.verbatim_headers(self.rows.columns, chosen))
        out = self.rows.copy()
        for col in out.columns:
            if col in phones:
                out[col] = out[col].map(lambda v: privacy.MASK if isinstance(v, str) and v.strip() else v)
            elif col not in verbatim:
                out[col] = out[col].map(privacy.mask_personal)
        return out


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
