"""A small pre-aggregated copy of the tickets that the overview and ranking read when it is fresh.

`compound_month` holds one row per (compound_id, month, category) with the counts every
dashboard figure is built from (tickets, valid, the service-rate numerators and denominators,
repeat calls). It is rebuilt by `refresh(con)` with one pass over `tickets` (about a second per
million tickets) and is never edited in place.

Freshness: `refresh` stores, in the setting `summary_version`, a fingerprint of the tickets it
was built from: row count, newest/oldest ticket, max(batch_id), max(updated_batch_id), a hash
sum over the columns that are changed in place (compound_id by address confirmation, category by
prediction and mapping, is_valid), and the ids and status of the ingest batches (so an undo
counts). `source(con)` recomputes the fingerprint (about 20 ms per million tickets) and answers
'compound_month' only when it matches; otherwise it rebuilds the summary when it can take the
write lock at once, and else answers 'tickets' so the caller runs its raw query. Correctness
therefore never depends on anyone remembering to refresh.

Equivalences the readers rely on (tests/test_summaries.py checks them against the raw path):
- a window whose bounds are month starts selects exactly the rows of whole months;
- `repeats` flags a valid, matched ticket whose previous valid ticket from the same caller about
  the same category in the same compound came at most `REPEAT_DAYS` days earlier. Computed over
  all of history this is the same flag a window query computes from `start - REPEAT_DAYS` on;
- `n_on_time` counts open tickets past due against the newest ticket (as `trends.service_rates`
  does), which is fixed for a given fingerprint.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import StoreError
from analytics.store import db

TABLE = "compound_month"
SETTING = "summary_version"
REPEAT_DAYS = 30
# statuses that mean nobody has acted on the ticket yet (the same list as trends)
UNRESPONDED_STATUSES = ("待受理", "未受理", "待处理", "未响应", "待签收", "新建", "open", "Open", "New")
# below this many tickets the raw queries are fast already: do not rebuild from a read
AUTO_REFRESH_MIN_TICKETS = 20_000

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

# the service-rate counts are of valid tickets, as in trends.service_rates
BUILD_SQL = f"""
INSERT INTO {TABLE}
WITH base AS (
    SELECT compound_id, date_trunc('month', created_at) AS month, category,
        count(*) AS tickets,
        count(*) FILTER (WHERE is_valid) AS valid,
        count(*) FILTER (WHERE is_valid AND (status IS NOT NULL OR closed_at IS NOT NULL)) AS n_response,
        count(*) FILTER (WHERE is_valid AND (closed_at IS NOT NULL
            OR (status IS NOT NULL AND NOT list_contains(CAST(? AS VARCHAR[]), status)))) AS responded,
        count(resolved) FILTER (WHERE is_valid) AS n_resolution,
        count(*) FILTER (WHERE is_valid AND resolved) AS resolved,
        count(*) FILTER (WHERE is_valid AND NOT resolved) AS unresolved,
        count(satisfied) FILTER (WHERE is_valid) AS n_satisfaction,
        count(*) FILTER (WHERE is_valid AND satisfied) AS satisfied,
        count(*) FILTER (WHERE is_valid AND NOT satisfied) AS unsatisfied,
        count(*) FILTER (WHERE is_valid AND due_at IS NOT NULL
            AND (closed_at IS NOT NULL OR due_at < (SELECT max(created_at) FROM tickets))) AS n_on_time,
        count(*) FILTER (WHERE is_valid AND closed_at IS NOT NULL AND closed_at <= due_at) AS on_time,
        count(*) FILTER (WHERE is_valid AND reopened) AS reopened,
        count(caller_hash) FILTER (WHERE is_valid) AS n_caller
    FROM tickets GROUP BY ALL
), flagged AS (
    SELECT compound_id, date_trunc('month', created_at) AS month, category,
        created_at - lag(created_at) OVER (
            PARTITION BY caller_hash, compound_id, coalesce(category, '') ORDER BY created_at, ticket_id
        ) <= to_days(CAST(? AS INTEGER)) AS is_repeat
    FROM tickets WHERE is_valid AND compound_id IS NOT NULL AND caller_hash IS NOT NULL
), rep AS (
    SELECT compound_id, month, category, count(*) FILTER (WHERE is_repeat) AS repeats
    FROM flagged GROUP BY ALL
)
SELECT b.*, coalesce(r.repeats, 0) AS repeats
FROM base b LEFT JOIN rep r
  ON r.compound_id IS NOT DISTINCT FROM b.compound_id AND r.month = b.month
 AND r.category IS NOT DISTINCT FROM b.category
ORDER BY b.month, b.compound_id
"""  # noqa: S608 - fixed table name


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the tickets look like now, as far as any summary figure can tell (see module doc)."""
    row = con.cursor().execute(FINGERPRINT_SQL).fetchone()
    return f"v1|{row[0]}|{row[1]}"


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        db.query_one(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [TABLE],
        )
    )


def refresh(con: duckdb.DuckDBPyConnection, timeout_s: float = db.WRITE_LOCK_TIMEOUT_S) -> dict[str, Any]:
    """Rebuild `compound_month` from the tickets in one transaction; returns rows and version."""
    with db.transaction(con, timeout_s=timeout_s) as cur:
        cur.execute(CREATE_SQL)
        cur.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - fixed table name
        cur.execute(BUILD_SQL, [list(UNRESPONDED_STATUSES), REPEAT_DAYS])
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


def source(con: duckdb.DuckDBPyConnection, auto_refresh: bool = True) -> str:
    """'compound_month' when the summary can be read (see `state`), else 'tickets'."""
    return state(con, auto_refresh).source


def month_aligned(*bounds: Any) -> bool:
    """Every bound is None or midnight on the first day of a month (a summary row is a whole month)."""
    for b in bounds:
        if b is None:
            continue
        ts = pd.Timestamp(b)
        if ts != ts.to_period("M").start_time:
            return False
    return True
