"""Where a count reads, and the counts that more than one figure is built from.

Every figure is a count of tickets. It reads the raw `tickets`, or `compound_month`
(analytics.store.summary) when every bound is a month start (a summary row is a whole month),
the repeat window is the one the summary was built with and the summary was built from exactly
the tickets in the store: the same numbers from a table a few times smaller. `choose` is the one
place that decides.

A query is written once, over a row `t` of either table, with the fragments of its `Source`:
`RAW` and `SUMMARY` hold, side by side, the text of each piece that differs between the two (a
count over tickets against a sum over summary rows). The conditions of the service and repeat
counts are the summary's own (`summary.COUNTS`, `summary.REPEAT_FLAG`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pandas as pd

from analytics.config import REPEAT_DAYS
from analytics.store import db
from analytics.store import summary as summaries


@dataclass(frozen=True)
class Source:
    """One table a count can read, as SQL fragments over its rows `t` (fixed SQL, never user text)."""

    table: str  # what a query reads, aliased t
    month: str  # the month of a row
    time: str  # the column compared with the bounds
    n: str  # the tickets a row stands for
    valid: str  # the valid tickets a row stands for
    valid_row: str  # the row holds valid tickets
    n_valid: str  # aggregate: the valid tickets of rows that passed `valid_row`
    repeats: str  # aggregate: the repeat calls among them (raw rows carry `is_repeat`)
    median_days_to_close: str  # aggregate; NULL over the summary, which has no times

    @property
    def summary(self) -> bool:
        return self.table == summaries.TABLE

    def fill(self, template: str, **more: str) -> str:
        """`template` with {table}, {month}, {time}, ... (the fields) and `more` filled in."""
        return template.format(**{**asdict(self), **more})

    def tickets_if(self, cond: str) -> str:
        """Aggregate: the tickets of the rows that meet `cond` (0 when none)."""
        if self.summary:
            return f"CAST(coalesce(sum(t.tickets) FILTER (WHERE {cond}), 0) AS BIGINT)"
        return f"count(*) FILTER (WHERE {cond})"

    def valid_if(self, cond: str) -> str:
        """Aggregate: the valid tickets of the rows that meet `cond` (0 when none)."""
        if self.summary:
            return f"CAST(coalesce(sum(t.valid) FILTER (WHERE {cond}), 0) AS BIGINT)"
        return f"count(*) FILTER (WHERE t.is_valid AND {cond})"

    def counts(self, columns: Mapping[str, str]) -> tuple[str, list[Any]]:
        """Select items `alias` for the summary counts (alias -> a name in `summary.COUNTS`) over
        rows that passed `valid_row`, and their parameters in order."""
        if self.summary:
            return ", ".join(f"CAST(sum(t.{c}) AS BIGINT) AS {a}" for a, c in columns.items()), []
        return summaries.count_columns(columns, only_valid=False)


RAW = Source(
    table="tickets",
    month="date_trunc('month', t.created_at)",
    time="t.created_at",
    n="1",
    valid="CAST(t.is_valid AS INTEGER)",
    valid_row="t.is_valid",
    n_valid="count(*)",
    repeats="count(*) FILTER (WHERE t.is_repeat)",
    median_days_to_close="median(date_diff('second', t.created_at, t.closed_at) / 86400.0)",
)
SUMMARY = Source(
    table=summaries.TABLE,
    month="t.month",
    time="t.month",
    n="t.tickets",
    valid="t.valid",
    valid_row="t.valid > 0",
    n_valid="CAST(sum(t.valid) AS BIGINT)",
    repeats="CAST(sum(t.repeats) AS BIGINT)",
    median_days_to_close="CAST(NULL AS DOUBLE)",
)


def month_aligned(*bounds: Any) -> bool:
    """Every bound is None or midnight on the first day of a month (a summary row is a whole month)."""
    for b in bounds:
        if b is None:
            continue
        ts = pd.Timestamp(b)
        if ts != ts.to_period("M").start_time:
            return False
    return True


def choose(
    con: duckdb.DuckDBPyConnection,
    *bounds: Any,
    repeat_days: int = REPEAT_DAYS,
    state: summaries.State | None = None,
) -> Source:
    """SUMMARY when the bounds are month starts, `repeat_days` is the summary's and the summary is
    fresh (`state`, or `summaries.state(con)`, which may rebuild it first); else RAW."""
    if not month_aligned(*bounds) or repeat_days != REPEAT_DAYS:
        return RAW
    where = state or summaries.state(con)
    return SUMMARY if where.source == summaries.TABLE else RAW


def compounds_join(key_sql: str) -> str:
    """The compounds join, only when the group expression reads it (a join over the raw tickets is costly)."""
    return "LEFT JOIN compounds c ON c.compound_id = t.compound_id" if "c." in key_sql else ""


# --------------------------------------------------------------------------- shared counts


COMPOUND_MONTHS_SQL = """
SELECT t.compound_id, {month} AS month, {n_valid} AS n
FROM {table} t
WHERE {valid_row} AND t.compound_id IS NOT NULL AND {time} >= ? AND {time} < ?
GROUP BY ALL
"""


def compound_months(con: duckdb.DuckDBPyConnection, src: Source, lo: Any, hi: Any) -> pd.DataFrame:
    """Valid tickets per compound and month in [lo, hi): compound_id, month, n (no row for none)."""
    return db.query_df(con, src.fill(COMPOUND_MONTHS_SQL), [lo, hi])


FIRST_VALID_SQL = """
SELECT min({time}) FROM {table} t WHERE {valid_row} AND (CAST(? AS TIMESTAMP) IS NULL OR {time} < ?)
"""


def first_valid(con: duckdb.DuckDBPyConnection, src: Source, before: Any = None) -> Any:
    """When the first valid ticket (before `before`) came: its time, or over the summary the start
    of its month, which is all the callers use. None without one."""
    return db.query_one(con, src.fill(FIRST_VALID_SQL), [before, before])


# the counts of the ranking's shares, by the names the ranking uses
STAT_COUNTS = {
    "n_resolved": "n_resolution",
    "unresolved": "unresolved",
    "n_satisfied": "n_satisfaction",
    "unsatisfied": "unsatisfied",
}
# over the tickets, the rows carry their repeat flag, judged against calls up to the repeat window
# before the start (the summary, built over all of history, judges them the same way)
FLAGGED_TICKETS = f"""(
    SELECT t.*, {summaries.REPEAT_FLAG} AS is_repeat FROM tickets t
    WHERE t.is_valid AND t.compound_id IS NOT NULL AND t.created_at >= ? AND t.created_at < ?
)"""  # noqa: S608 - the fixed repeat condition
COMPOUND_STATS_SQL = """
SELECT t.compound_id, {n_valid} AS tickets, {recent} AS recent, {callers}, {repeats} AS repeats, {shares}
FROM {rows} t
WHERE {valid_row} AND t.compound_id IS NOT NULL AND {time} >= ? AND {time} < ?
GROUP BY t.compound_id
"""


def compound_stats(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    start: pd.Timestamp,
    stop: pd.Timestamp,
    recent_from: pd.Timestamp | None = None,
    repeat_days: int = REPEAT_DAYS,
) -> pd.DataFrame:
    """Per compound with valid tickets in [start, stop): tickets (valid), recent (valid from
    `recent_from` on; none by default), n_caller, repeats (within `repeat_days`), n_resolved,
    unresolved, n_satisfied, unsatisfied."""
    callers, caller_params = src.counts({"n_caller": "n_caller"})
    shares, share_params = src.counts(STAT_COUNTS)
    rows, row_params = src.table, []
    if not src.summary:
        rows, row_params = FLAGGED_TICKETS, [repeat_days, start - pd.Timedelta(days=repeat_days), stop]
    sql = src.fill(
        COMPOUND_STATS_SQL, recent=src.valid_if(f"{src.time} >= ?"), callers=callers, shares=shares, rows=rows
    )
    recent_from = stop if recent_from is None else recent_from
    # parameters in the order they appear: the select list, the rows, the bounds
    return db.query_df(con, sql, [recent_from, *caller_params, *share_params, *row_params, start, stop])
