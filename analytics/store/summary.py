"""A small pre-aggregated copy of the tickets that the overview and ranking read when it is fresh.

`compound_month` holds one row per (compound_id, month, category) with the counts every
dashboard figure is built from (tickets, valid, the service-rate numerators and denominators,
repeat calls). It is rebuilt by `refresh(con)` with one pass over `tickets` and is never edited
in place.

Freshness: `refresh` stores, in the setting `summary_version`, a fingerprint of the tickets it
was built from: row count, newest/oldest ticket, max(batch_id), max(updated_batch_id), a hash
sum over the columns that are changed in place (compound_id by address confirmation, category by
prediction and mapping, is_valid), and the ids and status of the ingest batches (so an undo
counts). `state(con)` recomputes the fingerprint (a quick scan) and answers
'compound_month' only when it matches; otherwise it rebuilds the summary when it can take the
write lock at once, and else answers 'tickets' so the caller runs its raw query. Correctness
therefore never depends on anyone remembering to refresh. Which table a figure reads is decided
in one place, analytics.metrics.source.

Equivalences the readers rely on (tests/unit/store/test_summaries.py and
tests/unit/metrics/test_source.py check them against the raw path):
- a window whose bounds are month starts selects exactly the rows of whole months;
- `repeats` flags a valid, matched ticket whose previous valid ticket from the same caller about
  the same category in the same compound came at most `REPEAT_DAYS` days earlier. Computed over
  all of history this is the same flag a window query computes from `start - REPEAT_DAYS` on;
- every other count is one condition on a valid ticket (`COUNTS`), the same the raw queries use;
  `n_on_time` counts open tickets past due against the newest ticket, which is fixed for a given
  fingerprint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from analytics.config import REPEAT_DAYS, UNRESPONDED_STATUSES
from analytics.errors import StoreError
from analytics.store import db

TABLE = "compound_month"
SETTING = "summary_version"
# below this many tickets the raw queries are fast already: do not rebuild from a read
AUTO_REFRESH_MIN_TICKETS = 20_000

# The counts a summary row holds besides `tickets` and `valid`, in the table's column order: each
# counts the valid tickets `t` that meet its condition. The raw queries count with the same
# conditions (analytics.metrics.source), so a figure is the same from either table. A `?` in a
# condition stands for UNRESPONDED_STATUSES. n_on_time counts open tickets past due against the
# newest ticket, as the service rates do.
COUNTS = {
    "n_response": "t.status IS NOT NULL OR t.closed_at IS NOT NULL",
    "responded": "t.closed_at IS NOT NULL"
    " OR (t.status IS NOT NULL AND NOT list_contains(CAST(? AS VARCHAR[]), t.status))",
    "n_resolution": "t.resolved IS NOT NULL",
    "resolved": "t.resolved",
    "unresolved": "NOT t.resolved",
    "n_satisfaction": "t.satisfied IS NOT NULL",
    "satisfied": "t.satisfied",
    "unsatisfied": "NOT t.satisfied",
    "n_on_time": "t.due_at IS NOT NULL"
    " AND (t.closed_at IS NOT NULL OR t.due_at < (SELECT max(created_at) FROM tickets))",
    "on_time": "t.closed_at IS NOT NULL AND t.closed_at <= t.due_at",
    "reopened": "t.reopened",
    "n_caller": "t.caller_hash IS NOT NULL",
}
# a repeat call (see the module doc) among valid tickets with a compound; `?` is the window in days
REPEAT_FLAG = """t.caller_hash IS NOT NULL AND t.created_at - lag(t.created_at) OVER (
    PARTITION BY t.caller_hash, t.compound_id, coalesce(t.category, '') ORDER BY t.created_at, t.ticket_id
) <= to_days(CAST(? AS INTEGER))"""


def count_columns(columns: Mapping[str, str], only_valid: bool) -> tuple[str, list[Any]]:
    """Select items `count(*) FILTER (WHERE condition) AS alias` for the named COUNTS (alias ->
    name) and their parameters in order; `only_valid` adds the validity test, for rows not
    already restricted to valid tickets."""
    valid = "t.is_valid AND " if only_valid else ""
    items = [f"count(*) FILTER (WHERE {valid}({COUNTS[c]})) AS {a}" for a, c in columns.items()]
    params = [list(UNRESPONDED_STATUSES) for c in columns.values() for _ in range(COUNTS[c].count("?"))]
    return ",\n        ".join(items), params


FINGERPRINT_SQL = """
SELECT
    (SELECT concat_ws('|', count(*), min(created_at), max(created_at), max(batch_id),
                      max(updated_batch_id), sum(hash(compound_id, category, is_valid)))
     FROM tickets),
    (SELECT concat_ws('|', count(*), sum(hash(batch_id, status))) FROM ingest_batches)
"""

CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    compound_id VARCHAR, month TIMESTAMP, category VARCHAR,
    tickets BIGINT, valid BIGINT, n_response BIGINT, responded BIGINT, n_resolution BIGINT,
    resolved BIGINT, unresolved BIGINT, n_satisfaction BIGINT, satisfied BIGINT,
    unsatisfied BIGINT, n_on_time BIGINT, on_time BIGINT, reopened BIGINT, n_caller BIGINT,
    repeats BIGINT
)
"""

_BUILD_COUNTS, _BUILD_PARAMS = count_columns({c: c for c in COUNTS}, only_valid=True)
BUILD_SQL = f"""
INSERT INTO {TABLE}
WITH base AS (
    SELECT t.compound_id, date_trunc('month', t.created_at) AS month, t.category,
        count(*) AS tickets,
        count(*) FILTER (WHERE t.is_valid) AS valid,
        {_BUILD_COUNTS}
    FROM tickets t GROUP BY ALL
), flagged AS (
    SELECT t.compound_id, date_trunc('month', t.created_at) AS month, t.category, {REPEAT_FLAG} AS is_repeat
    FROM tickets t WHERE t.is_valid AND t.compound_id IS NOT NULL AND t.caller_hash IS NOT NULL
), rep AS (
    SELECT compound_id, month, category, count(*) FILTER (WHERE is_repeat) AS repeats
    FROM flagged GROUP BY ALL
)
SELECT b.*, coalesce(r.repeats, 0) AS repeats
FROM base b LEFT JOIN rep r
  ON r.compound_id IS NOT DISTINCT FROM b.compound_id AND r.month = b.month
 AND r.category IS NOT DISTINCT FROM b.category
ORDER BY b.month, b.compound_id
"""  # noqa: S608 - fixed table name and count conditions


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the tickets look like now, as far as any summary figure can tell (see module doc)."""
    row = con.cursor().execute(FINGERPRINT_SQL).fetchone()
    return f"v1|{row[0]}|{row[1]}"


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        db.query_one(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_name = ?",
            [TABLE],
        )
    )


def refresh(con: duckdb.DuckDBPyConnection, timeout_s: float = db.WRITE_LOCK_TIMEOUT_S) -> dict[str, Any]:
    """Rebuild `compound_month` from the tickets in one transaction; returns rows and version."""
    with db.transaction(con, timeout_s=timeout_s) as cur:
        cur.execute(CREATE_SQL)
        cur.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - fixed table name
        cur.execute(BUILD_SQL, [*_BUILD_PARAMS, REPEAT_DAYS])
        version = fingerprint(cur)
        db.set_setting(cur, SETTING, version)
        rows = int(cur.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])  # noqa: S608
    return {"rows": rows, "summary_version": version}


def is_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """True when `compound_month` was built from exactly the tickets now in the store."""
    return state(con, auto_refresh=False).source == TABLE


@dataclass(frozen=True)
class State:
    """Where to read (`source`: 'compound_month' or 'tickets') and the tickets' fingerprint now
    (`version`, None when it could not be read), which also keys caches of derived results."""

    source: str
    version: str | None


def state(con: duckdb.DuckDBPyConnection, auto_refresh: bool = True) -> State:
    """The summary when it is fresh (rebuilt first when it is stale, the store is big enough to
    gain from it and the write lock is free at once), else the raw tickets."""
    version = None
    try:
        version = fingerprint(con)
        if _exists(con) and db.get_setting(con, SETTING) == version:
            return State(TABLE, version)
        if not auto_refresh:
            return State("tickets", version)
        n = db.query_one(con, "SELECT count(*) FROM tickets") or 0
        if n < AUTO_REFRESH_MIN_TICKETS:
            return State("tickets", version)
        # a read never waits for a writer: if another write is running, answer from the raw table
        with contextlib.suppress(StoreError):
            return State(TABLE, refresh(con, timeout_s=0)["summary_version"])
    except (StoreError, duckdb.Error):
        pass  # read-only store or a store being replaced: the raw query is always right
    return State("tickets", version)
