"""What an upload reports, and the rule its counts obey:
rows_read == inserted + updated + duplicates + rejected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.ingest.pipeline import rejected


@dataclass
class IngestResult:
    file: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0  # unchanged repeats of stored tickets, plus earlier copies within the file
    rejected: int = 0
    unmatched: int = 0  # kept rows with no compound
    batch_id: int | None = None
    encoding: str | None = None
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # columns left out as personal data (callers' names): read, never stored
    dropped_personal_columns: list[str] = field(default_factory=list)
    # the header's row in the file: data row n is file row header_row + n
    header_row: int = 1
    # the rejected rows as the check or the import found them (row_number, reason, raw), at most
    # REJECTED_SHOWN of them: the check lists them before anything is written
    rejected_rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def rejected_table(self) -> pd.DataFrame:
        """The rejected rows in the file's own columns (see `rejected.expand`)."""
        return rejected.expand(self.rejected_rows, self.header_row, self.mapping)

    def as_json(self) -> dict[str, Any]:
        """The batch interface's line: an updated ticket is a re-sent ticket, so it counts among
        duplicates there and rows_read == inserted + duplicates + rejected still holds."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "duplicates": self.duplicates + self.updated,
            "rejected": self.rejected,
            "unmatched": self.unmatched,
            "batch_id": self.batch_id,
        }


def _fill(result: IngestResult, kinds: dict[str, int], in_file_dups: int) -> None:
    result.inserted = int(kinds.get("new", 0))
    result.updated = int(kinds.get("changed", 0))
    result.duplicates = int(kinds.get("same", 0)) + in_file_dups


def _check_balance(result: IngestResult) -> None:
    total = result.inserted + result.updated + result.duplicates + result.rejected
    if total != result.rows_read:  # a bug, never the user's fault: fail loudly rather than lose rows
        raise RuntimeError(f"row accounting broken: {dataclasses.asdict(result)}")
