"""A registry file as one import batch: reading it, mapping its headers onto a field table of
`analytics.ingest.columns`, the result an import reports and the ingest_batches / rejected_rows
record it leaves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import FileRejected, ValidationError
from analytics.ingest.columns import Field, fields_by_name, match_headers
from analytics.safe_text import strip_invisible
from analytics.store import db


@dataclass
class RegistryResult:
    """What an import did. `changes` has one row per changed value of an existing record."""

    file: str | None
    rows_read: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    rejected_rows: pd.DataFrame = field(repr=False)  # row_number, reason, raw
    changes: pd.DataFrame = field(repr=False)  # compound_id, field, old, new
    batch_id: int | None = None
    # renames, splits and merges the file stated (analytics.ingest.registry.changes.CHANGE_COLUMNS),
    # each with its message in Chinese and English
    compound_changes: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def as_json(self) -> dict[str, Any]:
        """Plain, JSON-serialisable summary (the batch interface prints it)."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "batch_id": self.batch_id,
            "rejected_rows": [
                {"row_number": int(r.row_number), "reason": r.reason}
                for r in self.rejected_rows.itertuples(index=False)
            ],
            "changes": [
                {"compound_id": c.compound_id, "field": c.field, "old": c.old, "new": c.new}
                for c in self.changes.itertuples(index=False)
            ],
            "compound_changes": [
                {
                    "change_id": int(c.change_id),
                    "kind": c.kind,
                    "date": c.change_date.isoformat(),
                    "from": c.from_ids,
                    "to": c.to_ids,
                    "tickets_moved": int(c.tickets_moved),
                    "unsettled": int(c.unsettled),
                    "message": c.message_zh,
                    "message_en": c.message_en,
                }
                for c in self.compound_changes.itertuples(index=False)
            ],
        }


def _result(
    table: _Table,
    counts: tuple[int, int, int],
    bad: Sequence[Any],
    rejected: pd.DataFrame,
    changes: list[tuple[Any, ...]],
    batch_id: int | None,
) -> RegistryResult:
    """What an import of `table` did: (added, updated, unchanged), its refused rows and changes."""
    added, updated, unchanged = counts
    return RegistryResult(
        file=table.file_name,
        rows_read=len(table.frame),
        added=added,
        updated=updated,
        unchanged=unchanged,
        rejected=len(bad),
        rejected_rows=rejected,
        changes=pd.DataFrame(changes, columns=["compound_id", "field", "old", "new"]),
        batch_id=batch_id,
    )


def _map_headers(
    headers: list[str],
    table: Sequence[Field],
    mapping: dict[str, str] | None,
    what: str,
) -> dict[str, str]:
    """field -> header actually present in the file. Raises FileRejected on a missing required field."""
    fields = fields_by_name(table)
    if mapping:
        unknown = sorted(set(mapping) - set(fields))
        if unknown:
            raise ValidationError(
                f"映射中有未知字段：{'、'.join(unknown)}；可用字段：{'、'.join(fields)}。",
                f"Unknown fields in the mapping: {', '.join(unknown)}; known: {', '.join(fields)}.",
            )
        absent = [h for h in mapping.values() if h not in headers]
        if absent:
            raise FileRejected(
                f"映射中的表头在文件中不存在：{'、'.join(absent)}。文件中的表头：{'、'.join(headers)}。",
                f"Headers named in the mapping are not in the file: {', '.join(absent)}. "
                f"Headers found: {', '.join(headers)}.",
            )
    found = match_headers(headers, table, mapping)
    missing = [f.name for f in table if f.required and f.name not in found]
    if missing:
        labels = "、".join(fields[m].label for m in missing)
        raise FileRejected(
            f"{what}缺少必需的列：{labels}。文件中的表头：{'、'.join(map(str, headers)) or '（无）'}。"
            "请检查表头，或提供映射（--mapping）。",
            f"The {what} file lacks required column(s): {', '.join(missing)} ({labels}). "
            f"Headers found: {', '.join(map(str, headers)) or '(none)'}. Fix the headers or give a mapping.",
        )
    return found


@dataclass
class _Table:
    frame: pd.DataFrame
    file_name: str | None
    sha256: str | None
    encoding: str | None
    sheet: str | None


def _read(source: str | Path | pd.DataFrame, sheet: str | int | None = None) -> _Table:
    """A file (CSV/XLSX, any encoding) or a DataFrame -> all-string frame with '' for blanks."""
    if isinstance(source, pd.DataFrame):
        frame, file_name, sha, encoding, sheet_name = source, None, None, None, None
    else:
        from analytics.ingest.readers import read_table

        path = Path(source)
        table = read_table(path, sheet=sheet)
        frame, encoding, sheet_name = table.frame, table.encoding, table.sheet
        file_name = path.name
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), "")
    # bidi overrides and other invisible characters would let a name read differently on screen
    frame = frame.apply(lambda col: col.map(lambda v: strip_invisible(v).strip()))
    return _Table(frame, file_name, sha, encoding, None if sheet_name is None else str(sheet_name))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, NaN/NA -> None (values read back from the store)."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, list | str):
        value = value.item()
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def _fmt(value: Any) -> str | None:
    """A stored or parsed value as text for the change report (None stays None)."""
    value = _plain(value)
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, bool):
        return "旧" if value else "新"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return "；".join(value)
    return str(value)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float) and not pd.isna(old):
        return abs(old - new) < 1e-9
    return _fmt(old) == _fmt(new)


def _rejected_frame(bad: list[tuple[int, str, dict[str, str]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(n, reason, json.dumps(raw, ensure_ascii=False)) for n, reason, raw in bad],
        columns=["row_number", "reason", "raw"],
    ).astype({"row_number": "int64"})


def _write_batch(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    table: _Table,
    user: str | None,
    cols: dict[str, str],
    counts: dict[str, int],
    rejected: pd.DataFrame,
) -> int:
    batch_id = db.next_id(cur, "seq_batch")
    cur.execute(
        'INSERT INTO ingest_batches (batch_id, kind, file_name, sha256, "user", loaded_at, rows_read, '
        "inserted, updated, duplicates, rejected, unmatched, mapping, encoding, sheet) "
        "VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, 0, ?, 0, ?, ?, ?)",
        [
            batch_id,
            kind,
            table.file_name,
            table.sha256,
            user,
            counts["rows_read"],
            counts["added"],
            counts["updated"],
            counts["rejected"],
            json.dumps(cols, ensure_ascii=False),
            table.encoding,
            table.sheet,
        ],
    )
    if len(rejected):
        rows = rejected.assign(batch_id=batch_id)[["batch_id", "row_number", "reason", "raw"]]
        cur.register("rejected_df", rows)
        cur.execute("INSERT INTO rejected_rows SELECT batch_id, row_number, reason, raw FROM rejected_df")
        cur.unregister("rejected_df")
    return batch_id
