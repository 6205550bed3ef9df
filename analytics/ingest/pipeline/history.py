"""The record of past uploads: the batch history, a batch's rejected rows, and undo."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import NotFound, ValidationError
from analytics.ingest.pipeline import rejected
from analytics.ingest.pipeline.write import TICKET_COLUMNS
from analytics.store import db


def batches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Upload history, newest first (the upload page's table)."""
    return db.query_df(
        con,
        """SELECT batch_id, kind, file_name, "user", loaded_at, rows_read, inserted, updated, duplicates,
                  rejected, unmatched, encoding, sheet, status, mapping, sha256
           FROM ingest_batches ORDER BY batch_id DESC""",
    )


def _batch_layout(con: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[dict[str, str], int]:
    """(the batch's mapping, its header row) as stored with it."""
    row = db.query_df(con, "SELECT mapping, header_row FROM ingest_batches WHERE batch_id = ?", [batch_id])
    if row.empty:
        return {}, 1
    try:
        mapping = json.loads(row.loc[0, "mapping"] or "{}")
    except ValueError:
        mapping = {}
    header_row = row.loc[0, "header_row"]
    return (mapping if isinstance(mapping, dict) else {}), (1 if pd.isna(header_row) else int(header_row))


def rejected_rows(con: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """row_number, reason, raw (JSON of the file's cells, phone and ID numbers masked; ticket ids
    and times as the file had them) of one batch's rejected rows."""
    rows = db.query_df(
        con,
        "SELECT row_number, reason, raw FROM rejected_rows WHERE batch_id = ? ORDER BY row_number",
        [batch_id],
    )
    mapping, _ = _batch_layout(con, batch_id)
    rows["raw"] = [
        json.dumps(rejected.masked_cells(raw, mapping), ensure_ascii=False) if raw is not None else None
        for raw in rows["raw"]
    ]
    return rows


def rejected_table(con: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """One batch's rejected rows in the file's own columns (see `rejected.expand`)."""
    mapping, header_row = _batch_layout(con, batch_id)
    rows = db.query_df(
        con,
        "SELECT row_number, reason, raw FROM rejected_rows WHERE batch_id = ? ORDER BY row_number",
        [batch_id],
    )
    return rejected.expand(rows, header_row, mapping)


def undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int, user: str | None = None) -> dict[str, Any]:
    """Remove what a batch inserted and restore what it updated; the batch is marked 'undone'."""
    row = db.query_df(
        con, "SELECT kind, status, file_name FROM ingest_batches WHERE batch_id = ?", [batch_id]
    )
    if row.empty:
        raise NotFound(f"没有编号为 {batch_id} 的导入批次。", f"There is no upload batch {batch_id}.")
    if row.loc[0, "status"] == "undone":
        raise ValidationError(f"批次 {batch_id} 已经撤销过。", f"Batch {batch_id} has already been undone.")
    if row.loc[0, "kind"] != "tickets":
        raise ValidationError(
            f"批次 {batch_id} 不是工单导入，不能在这里撤销。", f"Batch {batch_id} is not a ticket upload."
        )
    with db.transaction(con) as cur:
        later = cur.execute(
            """SELECT DISTINCT h.replaced_by_batch FROM ticket_history h
               JOIN ingest_batches b ON b.batch_id = h.replaced_by_batch AND b.status = 'committed'
               WHERE h.replaced_by_batch > ? AND h.ticket_id IN (
                   SELECT ticket_id FROM tickets WHERE batch_id = ?
                   UNION SELECT ticket_id FROM ticket_history WHERE replaced_by_batch = ?)
               ORDER BY 1""",
            [batch_id, batch_id, batch_id],
        ).fetchall()
        if later:
            ids = ", ".join(str(r[0]) for r in later)
            raise ValidationError(
                f"不能撤销批次 {batch_id}：之后的批次（{ids}）又修改了其中的工单。请先撤销这些批次。",
                f"Cannot undo batch {batch_id}: later batch(es) {ids} changed the same tickets. "
                "Undo those first.",
            )
        removed = cur.execute("SELECT count(*) FROM tickets WHERE batch_id = ?", [batch_id]).fetchone()[0]
        restored = cur.execute(
            "SELECT count(*) FROM ticket_history WHERE replaced_by_batch = ?", [batch_id]
        ).fetchone()[0]
        cur.execute("DELETE FROM tickets WHERE batch_id = ?", [batch_id])
        restore = ", ".join(f"{c} = h.{c}" for c in TICKET_COLUMNS if c != "ticket_id")
        cur.execute(
            f"""UPDATE tickets SET {restore} FROM ticket_history h
                WHERE h.replaced_by_batch = ? AND tickets.ticket_id = h.ticket_id""",  # noqa: S608
            [batch_id],
        )
        cur.execute("DELETE FROM ticket_history WHERE replaced_by_batch = ?", [batch_id])
        cur.execute("UPDATE ingest_batches SET status = 'undone' WHERE batch_id = ?", [batch_id])
        detail = {"batch_id": int(batch_id), "removed": int(removed), "restored": int(restored)}
        db.audit(cur, user, "tickets.undo", detail)
    return detail
