"""The exit rule: a task force may leave once its compound's monthly tickets have stayed below
its target for `exit_months` consecutive complete months since it moved in.

The target (`target_monthly`) is by default half the compound's monthly mean in the ranking
window it was selected from; the months counted are complete months as analytics.calendar
defines them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.services.taskforces.dates import parse_date
from analytics.store import db

EXIT_MONTHS = 3  # consecutive complete months below target before a task force may leave
TARGET_SHARE = 0.5  # default target: half the monthly mean in the selection window


def _default_target(
    cur: duckdb.DuckDBPyConnection, compound_id: str, window: tuple[dt.date, dt.date] | None
) -> float | None:
    """Half the compound's monthly mean in the selection window (None without window or tickets)."""
    if window is None:
        return None
    start, end = window
    has_any = cur.execute(
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
        [start, end + dt.timedelta(days=1)],
    ).fetchone()[0]
    if not has_any:
        return None
    n = cur.execute(
        "SELECT count(*) FROM tickets WHERE compound_id = ? AND is_valid AND created_at >= ? AND created_at < ?",
        [compound_id, start, end + dt.timedelta(days=1)],
    ).fetchone()[0]
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return round(TARGET_SHARE * n / months, 2)


def _last_complete_month(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date | None:
    """First day of the last month that is complete by `as_of` (default: the last ticket's date)."""
    if as_of is None:
        latest = db.query_one(con, "SELECT max(created_at) FROM tickets")
        if latest is None:
            return None
        as_of = pd.Timestamp(latest).date()
    as_of = parse_date(as_of)
    if as_of is None:
        return None
    return calendar.complete_month(as_of).start_time.date()


def _monthly_counts(con: duckdb.DuckDBPyConnection, compound_ids: Iterable[str]) -> pd.DataFrame:
    ids = sorted(set(compound_ids))
    if not ids:
        return pd.DataFrame(columns=["compound_id", "month", "n"])
    frame = db.query_df(
        con,
        """SELECT compound_id, CAST(date_trunc('month', created_at) AS DATE) AS month, count(*) AS n
           FROM tickets WHERE is_valid AND compound_id IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY 1, 2""",
        [ids],
    )
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def exit_rule_state(
    counts: Mapping[dt.date, int],
    start: dt.date,
    last_month: dt.date | None,
    target: float | None,
    exit_months: int,
) -> dict[str, Any]:
    """The exit rule on one compound's monthly counts.

    Months run from the month the task force moved in to `last_month`; a month with no tickets
    counts 0. `months_below` is the run of most recent consecutive months strictly below target.
    """
    if last_month is None or target is None or last_month < calendar.month_start(start):
        return {"months_below": 0, "meets_exit_rule": False, "last_month_count": None}
    months_below = 0
    month = last_month
    first = calendar.month_start(start)
    while month >= first and counts.get(month, 0) < target:
        months_below += 1
        month = calendar.add_months(month, -1)
    return {
        "months_below": months_below,
        "meets_exit_rule": months_below >= exit_months,
        "last_month_count": int(counts.get(last_month, 0)),
    }


def exit_status(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per task force: months_below, meets_exit_rule, last_month_count, target, exit_months."""
    tfs = db.query_df(con, "SELECT * FROM task_forces ORDER BY taskforce_id")
    cols = [
        "taskforce_id",
        "compound_id",
        "months_below",
        "meets_exit_rule",
        "last_month_count",
        "target",
        "exit_months",
        "last_month",
    ]
    if tfs.empty:
        return pd.DataFrame(columns=cols)
    last_month = _last_complete_month(con, as_of)
    counts = _monthly_counts(con, tfs["compound_id"])
    by_compound = {
        cid: dict(zip(g["month"], g["n"], strict=True)) for cid, g in counts.groupby("compound_id")
    }
    rows = []
    for tf in tfs.itertuples(index=False):
        start = pd.Timestamp(tf.start_date).date()
        target = None if pd.isna(tf.target_monthly) else float(tf.target_monthly)
        series = by_compound.get(tf.compound_id, {})
        if target is None and pd.notna(tf.selection_start) and pd.notna(tf.selection_end):
            s, e = pd.Timestamp(tf.selection_start).date(), pd.Timestamp(tf.selection_end).date()
            in_window = [n for m, n in series.items() if s <= m <= e]
            n_months = (e.year - s.year) * 12 + e.month - s.month + 1
            target = round(TARGET_SHARE * sum(in_window) / n_months, 2)
        k = EXIT_MONTHS if pd.isna(tf.exit_months) else int(tf.exit_months)
        state = exit_rule_state(series, start, last_month, target, k)
        rows.append(
            {
                "taskforce_id": int(tf.taskforce_id),
                "compound_id": tf.compound_id,
                **state,
                "target": target,
                "exit_months": k,
                "last_month": last_month,
            }
        )
    return pd.DataFrame(rows, columns=cols)
