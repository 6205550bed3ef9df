"""The write transaction: every staged row classified against the stored tickets (new /
unchanged / changed), the new rows inserted (while the content matcher decides the rows waiting
for it), replaced versions copied to ticket_history and the changed rows updated, what the
content matcher decided written, then the addresses waiting for an analyst cached and the
rejected rows, the batch row and the audit entry written, all or nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from analytics.ingest.matching.bulk import remember_staged
from analytics.ingest.pipeline.final import FINAL_ROWS
from analytics.ingest.pipeline.result import IngestResult, _fill
from analytics.ingest.pipeline.timing import phase
from analytics.store import db

# Columns of `tickets` the upload decides; an existing ticket is "changed" when any differs.
COMPARED = (
    "created_at", "closed_at", "due_at", "title", "content", "category_raw", "address", "caller_hash",
    "satisfaction", "satisfied", "resolved", "status", "handling_unit", "is_valid", "reopened",
)  # fmt: skip
TICKET_COLUMNS = (
    "ticket_id", "created_at", "closed_at", "due_at", "title", "content", "category", "category_raw",
    "category_source", "category_confidence", "address", "compound_id", "match_score", "match_method",
    "caller_hash", "satisfaction", "satisfied", "resolved", "status", "handling_unit", "is_valid",
    "reopened", "batch_id", "updated_batch_id",
)  # fmt: skip
FINAL_COLUMNS = tuple(c for c in TICKET_COLUMNS if c not in ("batch_id", "updated_batch_id"))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _classify_sql(alias: str) -> str:
    differs = " OR ".join(f"f.{c} IS DISTINCT FROM t.{c}" for c in COMPARED)
    return f"""
        SELECT f.ticket_id,
               CASE WHEN t.ticket_id IS NULL THEN 'new' WHEN {differs} THEN 'changed' ELSE 'same' END AS kind
        FROM {alias}.final f LEFT JOIN tickets t ON t.ticket_id = f.ticket_id
    """  # noqa: S608 - alias generated here


def _kinds(cur: duckdb.DuckDBPyConnection, alias: str) -> dict[str, int]:
    """{kind: rows} of the rows to store (new / changed / same, `_classify_sql`), each row's kind
    in the temporary table `kinds` unless every row is new: when no stored ticket has the id of
    any staged row (a first upload, a new month), which one look at the ids tells."""
    stored = f"SELECT count(*) FROM tickets WHERE ticket_id IN (SELECT ticket_id FROM {alias}.parsed)"  # noqa: S608
    if not cur.execute(stored).fetchone()[0]:
        return {"new": int(cur.execute(f"SELECT count(*) FROM {alias}.{FINAL_ROWS}").fetchone()[0])}  # noqa: S608
    cur.execute(f"CREATE TEMP TABLE kinds AS {_classify_sql(alias)}")
    return dict(cur.execute("SELECT kind, count(*) FROM kinds GROUP BY 1").fetchall())


# the columns a pending row takes from `settle` (pipeline.pending): NULL in `final` for it
SETTLED = ("compound_id", "match_score", "match_method")


def _with_settled(column: str) -> str:
    """A column of a row of `final` (`f`) as it is stored: what `settle` decided (`s`) for the
    SETTLED columns of a row that waited for the content matcher, the row's own otherwise."""
    return f"coalesce(s.{column}, f.{column})" if column in SETTLED else f"f.{column}"


def _commit(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    result: IngestResult,
    in_file_dups: int,
    sha: str,
    user: str | None,
    predicted_rows: int,
    settle: Callable[[], pd.DataFrame],
    waiting: str | None = None,
) -> None:
    """Write the batch (`sha`: the file's file_sha256) in one transaction.

    The new rows are inserted while the content matcher runs beside, but those that wait for it
    (pipeline.pending); `settle` then waits for it and gives what it decided for them
    (ticket_id and the SETTLED columns of the rows that end with any; it also completes
    `result`.unmatched): the new rows that waited are inserted with it, and the changed rows
    updated with it. The addresses waiting for an analyst (the staging table `waiting`,
    pipeline.final._compounds) are cached in the same transaction."""
    set_cols = ", ".join(
        f"{c} = {_with_settled(c)}"
        for c in FINAL_COLUMNS
        if c not in ("ticket_id", "category", "category_source", "category_confidence")
    )
    # a changed ticket keeps the category it has unless the upload gives one; a prediction only
    # fills a ticket that has none
    keep = "f.category_raw IS NULL AND nullif(trim(tickets.category), '') IS NOT NULL"
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        with phase("classify"):
            kinds = _kinds(cur, alias)
        _fill(result, kinds, in_file_dups)
        # every row new (a first upload, a new month): no join with the classification
        only_new = kinds.get("new", 0) == sum(kinds.values())
        new_rows = "" if only_new else "JOIN kinds k ON k.ticket_id = f.ticket_id AND k.kind = 'new'"

        def insert_new(values: str, rows: str) -> None:
            """Insert the new rows of `final` (`f`) that `rows` joins and filters, as `values`."""
            cur.execute(
                f"""INSERT INTO tickets ({", ".join(FINAL_COLUMNS)}, batch_id)
                    SELECT {values}, ? FROM {alias}.final f {new_rows} {rows}""",  # noqa: S608
                [batch_id],
            )

        if kinds.get("new"):
            with phase("insert"):
                insert_new(", ".join("f." + c for c in FINAL_COLUMNS), "WHERE NOT f.pending")
        settled = settle()
        cur.register("settled", settled)
        try:
            if kinds.get("changed"):
                cols = ", ".join(TICKET_COLUMNS)
                cur.execute(
                    f"""INSERT INTO ticket_history (replaced_by_batch, {cols})
                        SELECT ?, {", ".join("t." + c for c in TICKET_COLUMNS)} FROM tickets t
                        JOIN kinds k ON k.ticket_id = t.ticket_id AND k.kind = 'changed'""",  # noqa: S608
                    [batch_id],
                )
                cur.execute(
                    f"""UPDATE tickets SET {set_cols},
                            category = CASE WHEN {keep} THEN tickets.category ELSE f.category END,
                            category_source = CASE WHEN {keep} THEN tickets.category_source
                                                   ELSE f.category_source END,
                            category_confidence = CASE WHEN {keep} THEN tickets.category_confidence
                                                       ELSE f.category_confidence END,
                            updated_batch_id = ?
                        FROM {alias}.final f JOIN kinds k ON k.ticket_id = f.ticket_id AND k.kind = 'changed'
                             LEFT JOIN settled s ON s.ticket_id = f.ticket_id
                        WHERE tickets.ticket_id = f.ticket_id""",  # noqa: S608
                    [batch_id],
                )
            if kinds.get("new"):
                with phase("insert_pending"):
                    # the new rows that waited for the content matcher, with what it decided
                    # (inserted whole, not updated: an update of rows just inserted costs the
                    # commit a rewrite of every row group they sit in)
                    insert_new(
                        ", ".join(_with_settled(c) for c in FINAL_COLUMNS),
                        "LEFT JOIN settled s ON s.ticket_id = f.ticket_id WHERE f.pending",
                    )
        finally:
            with contextlib.suppress(duckdb.Error):  # after a failed statement: the cause stands
                cur.unregister("settled")
        # a failed write leaves `kinds` to the rollback: a statement here would hide the cause
        cur.execute("DROP TABLE IF EXISTS kinds")
        if waiting is not None:
            remember_staged(cur, f"{alias}.{waiting}")
        cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, row_number, reason, raw FROM {alias}.rejected",  # noqa: S608
            [batch_id],
        )
        cur.execute(
            """INSERT INTO ingest_batches (batch_id, kind, file_name, sha256, "user", loaded_at, rows_read,
                   inserted, updated, duplicates, rejected, unmatched, mapping, encoding, sheet, status,
                   header_row)
               VALUES (?, 'tickets', ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, 'committed', ?)""",
            [
                batch_id, result.file, sha, user, result.rows_read, result.inserted, result.updated,
                result.duplicates, result.rejected, result.unmatched,
                json.dumps(result.mapping, ensure_ascii=False), result.encoding, result.sheet,
                result.header_row,
            ],
        )  # fmt: skip
        result.batch_id = batch_id
        detail = {
            **result.as_json(),
            "updated": result.updated,
            "sha256": sha,
            "predicted": predicted_rows,
        }
        db.audit(cur, user, "tickets.ingest", detail)
