"""Service rates and shares: a numerator over a denominator, with a 95% Wilson interval.

The counts come from analytics.metrics.source (the tickets or the compound-month summary, the
same numbers either way); `add_rates` is the one place a count becomes a rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import calendar
from analytics.errors import ValidationError
from analytics.metrics import source
from analytics.store import db

WILSON_Z = 1.959964
# group -> SQL expression of the key over a row `t` ({month}: the source's month of the row)
SERVICE_GROUPS = {
    None: "'全区'",
    "district": "'全区'",
    "subdistrict": "c.subdistrict",
    "community": "c.community",
    "compound": "t.compound_id",
    "category": "coalesce(t.category, '未分类')",
    "property_company": "c.property_company",
    "month": "strftime({month}, '%Y-%m')",
}
# the service counts (analytics.store.summary.COUNTS) in the order `service_counts` returns them
SERVICE_COUNTS = (
    "n_response", "responded", "n_resolution", "resolved", "n_satisfaction", "satisfied", "n_on_time", "on_time",
)  # fmt: skip
# rate -> (numerator, denominator) columns of `service_counts`
SERVICE_RATES = {
    "response_rate": ("responded", "n_response"),
    "resolution_rate": ("resolved", "n_resolution"),
    "satisfaction_rate": ("satisfied", "n_satisfaction"),
    "on_time_rate": ("on_time", "n_on_time"),
    "reopened_share": ("reopened", "tickets"),
}


def wilson(k: np.ndarray, n: np.ndarray, z: float = WILSON_Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k/n (NaN where n = 0)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


def add_rates(df: pd.DataFrame, rates: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Add each rate (name -> (numerator, denominator) columns of `df`): the share, null where the
    denominator is 0, and its 95% Wilson interval `<name>_low`, `<name>_high`."""
    for rate, (k, n) in rates.items():
        low, high = wilson(df[k].to_numpy(float), df[n].to_numpy(float))
        df[rate] = df[k] / df[n].where(df[n] > 0)
        df[f"{rate}_low"] = low
        df[f"{rate}_high"] = high
    return df


def service_rates(
    con: duckdb.DuckDBPyConnection, start: Any = None, end: Any = None, group_by: str | None = None
) -> pd.DataFrame:
    """Service rates of valid tickets created in [start, end], with 95% Wilson intervals.

    Denominators (each rate is null when its denominator is 0, i.e. the upload lacks the field):
    - 响应率 response_rate = tickets acted on (closed, or a status other than waiting/new)
      / valid tickets that have a status or a closing time;
    - 解决率 resolution_rate = resolved / valid tickets with a resolved flag;
    - 满意率 satisfaction_rate = satisfied / valid tickets whose caller answered the satisfaction
      question (基本满意 counts as satisfied when the upload said so);
    - 按时办结率 on_time_rate = closed on or before due_at / valid tickets with a due date that are
      closed or already past due (open and past due = late; open and not yet due = not counted);
    - median_days_to_close over closed tickets; reopened_share = reopened / valid tickets.
    """
    if group_by not in SERVICE_GROUPS:
        raise ValidationError(f"不支持的分组：{group_by}", f"Unsupported group_by: {group_by}")
    lo, hi = calendar.bounds(start, end)
    return add_rates(service_counts(con, source.choose(con, lo, hi), lo, hi, group_by), SERVICE_RATES)


SERVICE_SQL = """
SELECT {key} AS key, {n_valid} AS tickets, {counts}, {median_days_to_close} AS median_days_to_close, {reopened}
FROM {table} t {join}
WHERE {valid_row}
  AND (CAST(? AS TIMESTAMP) IS NULL OR {time} >= ?)
  AND (CAST(? AS TIMESTAMP) IS NULL OR {time} < ?)
GROUP BY ALL ORDER BY key
"""

MEDIAN_SQL = """
SELECT {key} AS key, {median_days_to_close} AS median_days_to_close
FROM tickets t {join}
WHERE t.is_valid AND t.closed_at IS NOT NULL
  AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at >= ?)
  AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at < ?)
GROUP BY ALL
"""


def service_counts(
    con: duckdb.DuckDBPyConnection,
    src: source.Source,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    group_by: str | None,
) -> pd.DataFrame:
    """Per group: key, tickets (valid), SERVICE_COUNTS, median_days_to_close, reopened."""
    key = SERVICE_GROUPS[group_by].format(month=src.month)
    counts, params = src.counts({c: c for c in SERVICE_COUNTS})
    reopened, reopened_params = src.counts({"reopened": "reopened"})
    sql = src.fill(SERVICE_SQL, key=key, counts=counts, reopened=reopened, join=source.compounds_join(key))
    df = db.query_df(con, sql, [*params, *reopened_params, lo, lo, hi, hi])
    if not src.summary:
        return df
    # the summary has no times: the median time to close comes from the tickets
    raw_key = SERVICE_GROUPS[group_by].format(month=source.RAW.month)
    medians = db.query_df(
        con,
        source.RAW.fill(MEDIAN_SQL, key=raw_key, join=source.compounds_join(raw_key)),
        [lo, lo, hi, hi],
    )
    merged = df.drop(columns="median_days_to_close").merge(medians, on="key", how="left")
    return merged[df.columns]
