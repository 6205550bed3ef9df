"""Monthly series, year-on-year (同比) and month-on-month (环比), seasonality, service rates.

Aggregation runs in DuckDB (the overview page calls these on ~900k tickets within 200 ms);
pandas only touches the small aggregated frames. When the compound-month summary is fresh
(analytics.store.summary) and the bounds are whole months, the counts come from it instead of the
tickets: the same figures from a table a few times smaller.

Conventions used everywhere here:
- `tickets` counts every ticket (the figure the district publishes); `valid_tickets` only those
  with is_valid; `rate_per_100_households` = valid tickets per 100 households in that month.
- Tickets without a matched compound count at the district and category levels only.
- A month is 'YYYY-MM'; `start`/`end` are dates (end inclusive) or 'YYYY-MM' strings.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import holidays
import numpy as np
import pandas as pd

from analytics.errors import ValidationError
from analytics.store import db
from analytics.store import summary as summaries

# level -> SQL expression of the group key (fixed fragments, never user text)
LEVEL_KEYS = {
    "district": "'全区'",
    "subdistrict": "c.subdistrict",
    "community": "c.community",
    "compound": "t.compound_id",
    "category": "coalesce(t.category, '未分类')",
}
DISTRICT_KEY = "全区"
# STL only where the series can carry it
STL_MIN_MONTHS = 24
STL_MIN_MEAN = 20.0
SEASONAL_MIN_MONTHS = 12
HEATING_MONTHS = (11, 12, 1, 2, 3)
SUMMER_MONTHS = (6, 7, 8)
WILSON_Z = 1.959964
# statuses that mean nobody has acted on the ticket yet (not responded)
UNRESPONDED_STATUSES = ("待受理", "未受理", "待处理", "未响应", "待签收", "新建", "open", "Open", "New")
REPEAT_DAYS = 30


# --------------------------------------------------------------------------- dates


def _month(value: str | dt.date | pd.Timestamp | pd.Period) -> pd.Period:
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError):
        raise ValidationError(
            f"月份格式应为 YYYY-MM，收到：{value}", f"A month must look like YYYY-MM; got: {value}"
        ) from None


def _bounds(start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(inclusive start, exclusive stop); 'YYYY-MM' means the whole month."""
    lo = hi = None
    if start is not None:
        lo = _month(start).start_time if isinstance(start, str) and len(start) == 7 else pd.Timestamp(start)
    if end is not None:
        if isinstance(end, str) and len(end) == 7:
            hi = (_month(end) + 1).start_time
        else:
            hi = pd.Timestamp(pd.Timestamp(end).date()) + pd.Timedelta(days=1)
    return lo, hi


@functools.lru_cache(maxsize=64)
def spring_festival(year: int) -> dt.date:
    """正月初一 of `year` from holidays.China (the first 'Spring Festival' day that is not observed/eve)."""
    days = [
        d
        for d, name in holidays.China(years=year).items()
        if "Spring Festival" in name and "observed" not in name and "Eve" not in name
    ]
    if not days:
        raise ValidationError(f"无法确定 {year} 年春节日期。", f"Spring Festival date unknown for {year}.")
    return min(days)


def festival_month(year: int) -> int:
    return spring_festival(year).month


# --------------------------------------------------------------------------- monthly counts


def monthly_counts(
    con: duckdb.DuckDBPyConnection,
    level: str = "district",
    start: Any = None,
    end: Any = None,
    compound_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Monthly counts per group at `level` (district/subdistrict/community/compound/category).

    Columns: month (Timestamp, first day), key, name, tickets, valid_tickets, valid_share,
    households (of the group; the district's for category), rate_per_100_households.
    Every group gets every month of the range (zero-filled), so shifts by 1 and 12 are 环比/同比.
    """
    if level not in LEVEL_KEYS:
        raise ValidationError(
            f"未知的汇总层级：{level}（可用：{', '.join(LEVEL_KEYS)}）",
            f"Unknown level {level} (use one of {', '.join(LEVEL_KEYS)})",
        )
    lo, hi = _bounds(start, end)
    ids = list(compound_ids or [])
    src = _Source.of(con, lo, hi)
    sql = f"""
    WITH t AS (
        SELECT {src.month} AS month, {LEVEL_KEYS[level]} AS key, {src.n} AS n, {src.valid} AS v
        FROM {src.table} t {_join(LEVEL_KEYS[level])}
        WHERE (CAST(? AS TIMESTAMP) IS NULL OR {src.time} >= ?)
          AND (CAST(? AS TIMESTAMP) IS NULL OR {src.time} < ?)
          {_ids_filter(ids)}
    ), agg AS (
        SELECT month, key, CAST(sum(n) AS BIGINT) AS tickets, CAST(sum(v) AS BIGINT) AS valid_tickets
        FROM t WHERE key IS NOT NULL GROUP BY ALL
    ), months AS (
        SELECT unnest(generate_series(
            coalesce(CAST(? AS TIMESTAMP), (SELECT min(month) FROM agg)),
            coalesce(CAST(? AS TIMESTAMP) - INTERVAL 1 DAY, (SELECT max(month) FROM agg)),
            INTERVAL 1 MONTH)) AS month
    ), keys AS (SELECT DISTINCT key FROM agg)
    SELECT date_trunc('month', m.month) AS month, k.key,
           coalesce(a.tickets, 0) AS tickets, coalesce(a.valid_tickets, 0) AS valid_tickets
    FROM months m CROSS JOIN keys k
    LEFT JOIN agg a ON a.month = date_trunc('month', m.month) AND a.key = k.key
    ORDER BY k.key, month
    """  # noqa: S608 - the key expression comes from LEVEL_KEYS, values are parameters
    df = db.query_df(con, sql, [lo, lo, hi, hi, *([ids] if ids else []), lo, hi])
    df["month"] = pd.to_datetime(df["month"])
    households = _group_households(con, level, ids)
    df["households"] = df["key"].map(households) if level not in ("district", "category") else households.get(
        DISTRICT_KEY, np.nan
    )  # fmt: skip
    df["households"] = pd.to_numeric(df["households"], errors="coerce")
    df["valid_share"] = df["valid_tickets"] / df["tickets"].where(df["tickets"] > 0)
    df["rate_per_100_households"] = df["valid_tickets"] * 100.0 / df["households"].where(df["households"] > 0)
    if level == "compound":
        names = db.query_df(con, "SELECT compound_id AS key, name FROM compounds")
        df = df.merge(names, on="key", how="left")
        df["name"] = df["name"].fillna(df["key"])
    else:
        df["name"] = df["key"]
    return df[
        [
            "month",
            "key",
            "name",
            "tickets",
            "valid_tickets",
            "valid_share",
            "households",
            "rate_per_100_households",
        ]
    ]


@dataclass(frozen=True)
class _Source:
    """Where a counting query reads: the raw tickets, or the fresh compound-month summary.

    The fragments are fixed SQL (never user text): `month` the month of a row, `time` the column
    compared with the bounds, `n` / `valid` the tickets / valid tickets a row stands for.
    """

    table: str
    month: str
    time: str
    n: str
    valid: str

    @staticmethod
    def of(con: duckdb.DuckDBPyConnection, *bounds: Any) -> _Source:
        if summaries.month_aligned(*bounds) and summaries.source(con) == summaries.TABLE:
            return SUMMARY_SOURCE
        return RAW_SOURCE

    @property
    def summary(self) -> bool:
        return self.table == summaries.TABLE


RAW_SOURCE = _Source(
    "tickets", "date_trunc('month', t.created_at)", "t.created_at", "1", "CAST(t.is_valid AS INTEGER)"
)
SUMMARY_SOURCE = _Source(summaries.TABLE, "t.month", "t.month", "t.tickets", "t.valid")


def _join(key_sql: str) -> str:
    """The compounds join, only when the group expression reads it (a join costs ~40% on 900k rows)."""
    return "LEFT JOIN compounds c ON c.compound_id = t.compound_id" if "c." in key_sql else ""


def _ids_filter(ids: list[str]) -> str:
    return "AND list_contains(CAST(? AS VARCHAR[]), t.compound_id)" if ids else ""


def _group_households(con: duckdb.DuckDBPyConnection, level: str, ids: list[str]) -> dict[str, float]:
    key = {
        "district": "'全区'",
        "category": "'全区'",
        "subdistrict": "subdistrict",
        "community": "community",
    }.get(level, "compound_id")
    sql = f"""SELECT {key} AS key, sum(households) AS households FROM compounds
              WHERE NOT ? OR list_contains(CAST(? AS VARCHAR[]), compound_id) GROUP BY ALL"""  # noqa: S608
    rows = db.query_df(con, sql, [bool(ids), ids])
    return dict(zip(rows["key"], rows["households"], strict=True))


def yoy_mom(df: pd.DataFrame, value: str = "tickets") -> pd.DataFrame:
    """Add 环比 and 同比 columns to a `monthly_counts` frame (per key).

    - mom_pct = this month vs the month before; yoy_pct = vs the same month a year before (percent;
      null when the base is 0 or outside the data).
    - spring_festival: the month holds 正月初一. festival_shift: the festival sits in this month in
      one year and not in the other, so the plain 同比 of January or February is distorted.
    - janfeb_yoy_pct (on February rows, and on January rows once February is in the data): the
      combined January + February against the same two months a year before. We chose the
      combined window over a festival-aligned one because monthly reports already have both
      months, it needs no daily data, and it is what the district's own year-end figures use.
    """
    out = []
    for _key, g in df.sort_values("month").groupby("key", sort=False):
        g = g.set_index("month").asfreq("MS")
        g["key"] = _key
        v = g[value].astype(float)
        g["prev_month"] = v.shift(1)
        g["prev_year"] = v.shift(12)
        g["mom_pct"] = _pct_change(v, g["prev_month"])
        g["yoy_pct"] = _pct_change(v, g["prev_year"])
        years = g.index.year
        months = g.index.month
        g["spring_festival"] = [festival_month(y) == m for y, m in zip(years, months, strict=True)]
        g["festival_shift"] = [
            m in (1, 2) and (festival_month(y) == m) != (festival_month(y - 1) == m)
            for y, m in zip(years, months, strict=True)
        ]
        janfeb = v.where(months <= 2).groupby(years).transform(lambda s: s.sum(min_count=2))
        g["janfeb"] = janfeb.where(months <= 2)
        g["janfeb_prev_year"] = g["janfeb"].shift(12)
        g["janfeb_yoy_pct"] = _pct_change(g["janfeb"], g["janfeb_prev_year"])
        out.append(g.reset_index())
    if not out:
        return df.assign(prev_month=np.nan, prev_year=np.nan, mom_pct=np.nan, yoy_pct=np.nan)
    res = pd.concat(out, ignore_index=True)
    res = res.rename(columns={"index": "month"})
    return res


def _pct_change(now: pd.Series, base: pd.Series) -> pd.Series:
    return (now - base) * 100.0 / base.where(base > 0)


# --------------------------------------------------------------------------- KPIs

KPI_SQL = """
SELECT
    count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS this_month,
    count(*) FILTER (WHERE created_at >= ? AND created_at < ? AND is_valid) AS this_valid,
    count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS prev_month,
    count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS last_year,
    count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS janfeb,
    count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS janfeb_last_year
FROM tickets
WHERE created_at >= ? AND created_at < ?
"""

REPEAT_SHARE_SQL = """
WITH t AS (
    SELECT ticket_id, created_at, compound_id, coalesce(category, '') AS cat, caller_hash
    FROM tickets
    WHERE is_valid AND compound_id IS NOT NULL AND caller_hash IS NOT NULL
      AND created_at >= ? AND created_at < ?
), r AS (
    SELECT created_at, created_at - lag(created_at) OVER (
        PARTITION BY caller_hash, compound_id, cat ORDER BY created_at, ticket_id) <= to_days(CAST(? AS INTEGER)) AS rep
    FROM t
)
SELECT count(*) AS n, count(*) FILTER (WHERE rep) AS repeats FROM r WHERE created_at >= ?
"""

TASKFORCE_SQL = """
WITH tf AS (SELECT DISTINCT compound_id FROM task_forces WHERE start_date < ?)
SELECT count(DISTINCT tf.compound_id) AS compounds,
       count(t.ticket_id) FILTER (WHERE t.created_at >= ? AND t.created_at < ?) AS this_month,
       count(t.ticket_id) FILTER (WHERE t.created_at >= ? AND t.created_at < ?) AS last_year
FROM tf LEFT JOIN tickets t ON t.compound_id = tf.compound_id AND t.created_at >= ? AND t.created_at < ?
"""


# the same three queries over the compound-month summary (bounds are month starts)
KPI_SUMMARY_SQL = """
SELECT
    coalesce(sum(tickets) FILTER (WHERE month >= ? AND month < ?), 0) AS this_month,
    coalesce(sum(valid) FILTER (WHERE month >= ? AND month < ?), 0) AS this_valid,
    coalesce(sum(tickets) FILTER (WHERE month >= ? AND month < ?), 0) AS prev_month,
    coalesce(sum(tickets) FILTER (WHERE month >= ? AND month < ?), 0) AS last_year,
    coalesce(sum(tickets) FILTER (WHERE month >= ? AND month < ?), 0) AS janfeb,
    coalesce(sum(tickets) FILTER (WHERE month >= ? AND month < ?), 0) AS janfeb_last_year
FROM compound_month
WHERE month >= ? AND month < ?
"""

REPEAT_SHARE_SUMMARY_SQL = """
SELECT coalesce(sum(n_caller), 0) AS n, coalesce(sum(repeats), 0) AS repeats
FROM compound_month
WHERE compound_id IS NOT NULL AND month >= ? AND month < ?
"""

TASKFORCE_SUMMARY_SQL = """
WITH tf AS (SELECT DISTINCT compound_id FROM task_forces WHERE start_date < ?)
SELECT count(DISTINCT tf.compound_id) AS compounds,
       coalesce(sum(t.tickets) FILTER (WHERE t.month >= ? AND t.month < ?), 0) AS this_month,
       coalesce(sum(t.tickets) FILTER (WHERE t.month >= ? AND t.month < ?), 0) AS last_year
FROM tf LEFT JOIN compound_month t ON t.compound_id = tf.compound_id AND t.month >= ? AND t.month < ?
"""


def district_kpis(con: duckdb.DuckDBPyConnection, month: Any) -> dict[str, Any]:
    """The overview's headline numbers for one month (all plain Python values, None when unknown).

    tickets, valid_tickets, valid_share, prev_month_tickets, mom_pct, last_year_tickets, yoy_pct,
    spring_festival, festival_shift, janfeb_yoy_pct (February only), rate_per_100_households,
    response/resolution/satisfaction/on_time rates (see `service_rates`), median_days_to_close,
    repeat_share (same caller, compound and category within 30 days), taskforce (compounds under a
    task force before this month: their tickets this month vs the same month last year) or None.
    """
    m = _month(month)
    this_lo, this_hi = m.start_time, (m + 1).start_time
    prev_lo = (m - 1).start_time
    ly_lo, ly_hi = (m - 12).start_time, (m - 11).start_time
    jf_lo, jf_hi = pd.Period(f"{m.year}-01", "M").start_time, pd.Period(f"{m.year}-03", "M").start_time
    jfl_lo, jfl_hi = (
        pd.Period(f"{m.year - 1}-01", "M").start_time,
        pd.Period(f"{m.year - 1}-03", "M").start_time,
    )
    summary = _Source.of(con, this_lo).summary
    row = db.query_df(
        con,
        KPI_SUMMARY_SQL if summary else KPI_SQL,
        [this_lo, this_hi, this_lo, this_hi, prev_lo, this_lo, ly_lo, ly_hi, jf_lo, jf_hi, jfl_lo, jfl_hi,
         min(jfl_lo, ly_lo), this_hi],
    ).iloc[0]  # fmt: skip
    this, valid, prev, last = (int(row[c]) for c in ("this_month", "this_valid", "prev_month", "last_year"))
    households = db.query_one(con, "SELECT sum(households) FROM compounds")
    rates = _service_rates(con, this_lo, this_hi, None, summary)
    rate_row = rates.iloc[0] if len(rates) else pd.Series(dtype=float)
    if summary and REPEAT_DAYS == summaries.REPEAT_DAYS:
        rep = db.query_df(con, REPEAT_SHARE_SUMMARY_SQL, [this_lo, this_hi])
    else:
        rep = db.query_df(
            con, REPEAT_SHARE_SQL, [this_lo - pd.Timedelta(days=REPEAT_DAYS), this_hi, REPEAT_DAYS, this_lo]
        )
    n_rep = int(rep["n"].iloc[0])
    tf = db.query_df(
        con,
        TASKFORCE_SUMMARY_SQL if summary else TASKFORCE_SQL,
        [this_hi, this_lo, this_hi, ly_lo, ly_hi, ly_lo, this_hi],
    ).iloc[0]
    taskforce = None
    if int(tf["compounds"]) > 0:
        taskforce = {
            "compounds": int(tf["compounds"]),
            "tickets": int(tf["this_month"]),
            "last_year_tickets": int(tf["last_year"]),
            "yoy_pct": _safe_pct(int(tf["this_month"]), int(tf["last_year"])),
        }
    return _clean(
        {
            "month": str(m),
            "tickets": this,
            "valid_tickets": valid,
            "valid_share": valid / this if this else None,
            "prev_month_tickets": prev,
            "mom_pct": _safe_pct(this, prev),
            "last_year_tickets": last,
            "yoy_pct": _safe_pct(this, last),
            "spring_festival": festival_month(m.year) == m.month,
            "festival_shift": m.month in (1, 2)
            and (festival_month(m.year) == m.month) != (festival_month(m.year - 1) == m.month),
            "janfeb_yoy_pct": _safe_pct(int(row["janfeb"]), int(row["janfeb_last_year"]))
            if m.month == 2
            else None,
            "rate_per_100_households": valid * 100.0 / households if households else None,
            "response_rate": rate_row.get("response_rate"),
            "resolution_rate": rate_row.get("resolution_rate"),
            "satisfaction_rate": rate_row.get("satisfaction_rate"),
            "on_time_rate": rate_row.get("on_time_rate"),
            "median_days_to_close": rate_row.get("median_days_to_close"),
            "repeat_share": int(rep["repeats"].iloc[0]) / n_rep if n_rep else None,
            "taskforce": taskforce,
        }
    )


def _safe_pct(now: float, base: float) -> float | None:
    return (now - base) * 100.0 / base if base else None


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


# --------------------------------------------------------------------------- movers and mix


TOP_BOTTOM_SQL = """
SELECT t.compound_id, any_value(c.name) AS name, any_value(c.community) AS community,
       count(*) FILTER (WHERE t.created_at >= ?) AS tickets,
       count(*) FILTER (WHERE t.created_at < ?) AS last_year
FROM tickets t LEFT JOIN compounds c ON c.compound_id = t.compound_id
WHERE t.compound_id IS NOT NULL
  AND ((t.created_at >= ? AND t.created_at < ?) OR (t.created_at >= ? AND t.created_at < ?))
GROUP BY t.compound_id
"""


TOP_BOTTOM_SUMMARY_SQL = """
SELECT t.compound_id, any_value(c.name) AS name, any_value(c.community) AS community,
       CAST(coalesce(sum(t.tickets) FILTER (WHERE t.month >= ?), 0) AS BIGINT) AS tickets,
       CAST(coalesce(sum(t.tickets) FILTER (WHERE t.month < ?), 0) AS BIGINT) AS last_year
FROM compound_month t LEFT JOIN compounds c ON c.compound_id = t.compound_id
WHERE t.compound_id IS NOT NULL
  AND ((t.month >= ? AND t.month < ?) OR (t.month >= ? AND t.month < ?))
GROUP BY t.compound_id
"""


def top_bottom(con: duckdb.DuckDBPyConnection, month: Any, n: int = 10) -> pd.DataFrame:
    """Compounds with the largest rises and falls in tickets vs the same month last year.

    Columns: direction ('rise'/'fall'), arrow (↑/↓), compound_id, name, community, tickets,
    last_year, change, change_pct (null when last year had none). Ties broken by compound_id.
    """
    m = _month(month)
    lo, hi, ly_lo, ly_hi = m.start_time, (m + 1).start_time, (m - 12).start_time, (m - 11).start_time
    sql = TOP_BOTTOM_SUMMARY_SQL if _Source.of(con, lo).summary else TOP_BOTTOM_SQL
    df = db.query_df(con, sql, [lo, ly_hi, lo, hi, ly_lo, ly_hi])
    df = df[(df["tickets"] > 0) | (df["last_year"] > 0)]
    df["change"] = df["tickets"] - df["last_year"]
    df["change_pct"] = df["change"] * 100.0 / df["last_year"].where(df["last_year"] > 0)
    rises = df[df["change"] > 0].sort_values(["change", "compound_id"], ascending=[False, True]).head(n)
    falls = df[df["change"] < 0].sort_values(["change", "compound_id"], ascending=[True, True]).head(n)
    rises = rises.assign(direction="rise", arrow="↑")
    falls = falls.assign(direction="fall", arrow="↓")
    cols = [
        "direction",
        "arrow",
        "compound_id",
        "name",
        "community",
        "tickets",
        "last_year",
        "change",
        "change_pct",
    ]
    return pd.concat([rises, falls], ignore_index=True)[cols]


def category_mix(
    con: duckdb.DuckDBPyConnection,
    start: Any = None,
    end: Any = None,
    level: str = "district",
    compound_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Share of each category in a period, per group at `level` (not 'category').

    Columns: key, category, tickets, share (of the group's tickets), valid_share.
    """
    if level not in LEVEL_KEYS or level == "category":
        raise ValidationError(f"不支持的层级：{level}", f"Unsupported level for a category mix: {level}")
    lo, hi = _bounds(start, end)
    ids = list(compound_ids or [])
    src = _Source.of(con, lo, hi)
    sql = f"""
    SELECT {LEVEL_KEYS[level]} AS key, coalesce(t.category, '未分类') AS category,
           CAST(sum({src.n}) AS BIGINT) AS tickets, CAST(sum({src.valid}) AS BIGINT) AS valid_tickets
    FROM {src.table} t {_join(LEVEL_KEYS[level])}
    WHERE (CAST(? AS TIMESTAMP) IS NULL OR {src.time} >= ?)
      AND (CAST(? AS TIMESTAMP) IS NULL OR {src.time} < ?)
      {_ids_filter(ids)}
    GROUP BY ALL HAVING key IS NOT NULL
    """  # noqa: S608 - key expression from LEVEL_KEYS
    df = db.query_df(con, sql, [lo, lo, hi, hi, *([ids] if ids else [])])
    df["share"] = df["tickets"] / df.groupby("key")["tickets"].transform("sum")
    df["valid_share"] = df["valid_tickets"] / df["tickets"]
    return df.sort_values(["key", "tickets", "category"], ascending=[True, False, True]).reset_index(
        drop=True
    )


# --------------------------------------------------------------------------- seasonality


@dataclass
class SeriesResult:
    """A result that may be withheld: `frame` is None and `reason` (zh, en) says why."""

    frame: pd.DataFrame | None
    reason: tuple[str, str] | None = None


def seasonal_index(series: pd.Series) -> SeriesResult:
    """Month-of-year index (mean 1) of a monthly series indexed by month start.

    Each month is divided by the mean of a 12-month window that contains it (centred where the
    data allow, shifted at the ends), then ratios are averaged per calendar month. Needs at least
    12 months. Columns: month_of_year, index, n_years, heating (Nov-Mar), summer (Jun-Aug).
    """
    s = series.sort_index().astype(float)
    if len(s) < SEASONAL_MIN_MONTHS:
        return SeriesResult(
            None,
            (f"仅有 {len(s)} 个月数据，至少需要 12 个月才能估计季节指数。",
             f"Only {len(s)} months of data; a seasonal index needs at least 12."),
        )  # fmt: skip
    values = s.to_numpy()
    ratios = np.full(len(values), np.nan)
    for i in range(len(values)):
        lo = min(max(0, i - 6), len(values) - 12)
        base = values[lo : lo + 12].mean()
        ratios[i] = values[i] / base if base > 0 else np.nan
    frame = pd.DataFrame({"moy": pd.DatetimeIndex(s.index).month, "ratio": ratios})
    idx = frame.groupby("moy")["ratio"].agg(["mean", "count"]).reindex(range(1, 13))
    idx["mean"] = idx["mean"] / idx["mean"].mean()
    out = pd.DataFrame(
        {
            "month_of_year": range(1, 13),
            "index": idx["mean"].to_numpy(),
            "n_years": idx["count"].fillna(0).astype(int).to_numpy(),
        }
    )
    out["heating"] = out["month_of_year"].isin(HEATING_MONTHS)
    out["summer"] = out["month_of_year"].isin(SUMMER_MONTHS)
    return SeriesResult(out)


def district_seasonal_index(
    con: duckdb.DuckDBPyConnection, category: str | None = None, start: Any = None, end: Any = None
) -> SeriesResult:
    """Seasonal index of the district's monthly tickets (optionally one category)."""
    df = monthly_counts(con, "category" if category else "district", start, end)
    if category:
        df = df[df["key"] == category]
    return seasonal_index(df.set_index("month")["tickets"])


def decompose(series: pd.Series, period: int = 12) -> SeriesResult:
    """STL decomposition (statsmodels, robust) of a monthly series, only when it can carry one.

    Needs >= 24 months and a mean of >= 20 tickets a month; otherwise frame is None with the
    reason. Columns: month, observed, trend, seasonal, resid.
    """
    s = series.sort_index().astype(float)
    if len(s) < STL_MIN_MONTHS:
        return SeriesResult(
            None, (f"仅有 {len(s)} 个月数据，季节分解至少需要 {STL_MIN_MONTHS} 个月。",
                   f"Only {len(s)} months; a seasonal decomposition needs {STL_MIN_MONTHS}."),
        )  # fmt: skip
    if s.mean() < STL_MIN_MEAN:
        return SeriesResult(
            None, (f"月均仅 {s.mean():.1f} 件，少于 {STL_MIN_MEAN:.0f} 件，季节分解不可靠。",
                   f"Only {s.mean():.1f} tickets a month on average (< {STL_MIN_MEAN:.0f}); too few for a decomposition."),
        )  # fmt: skip
    from statsmodels.tsa.seasonal import STL

    res = STL(s.to_numpy(), period=period, robust=True).fit()
    return SeriesResult(
        pd.DataFrame(
            {
                "month": s.index,
                "observed": s.to_numpy(),
                "trend": res.trend,
                "seasonal": res.seasonal,
                "resid": res.resid,
            }
        )
    )


# --------------------------------------------------------------------------- service rates

SERVICE_GROUPS = {
    None: "'全区'",
    "district": "'全区'",
    "subdistrict": "c.subdistrict",
    "community": "c.community",
    "compound": "t.compound_id",
    "category": "coalesce(t.category, '未分类')",
    "property_company": "c.property_company",
    "month": "strftime(date_trunc('month', t.created_at), '%Y-%m')",
}


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
    lo, hi = _bounds(start, end)
    return _service_rates(con, lo, hi, group_by, _Source.of(con, lo, hi).summary)


def _service_rates(
    con: duckdb.DuckDBPyConnection,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    group_by: str | None,
    summary: bool,
) -> pd.DataFrame:
    if summary:
        df = _service_counts_from_summary(con, lo, hi, group_by)
    else:
        df = _service_counts_raw(con, lo, hi, group_by)
    for rate, (k, n) in {
        "response_rate": ("responded", "n_response"),
        "resolution_rate": ("resolved", "n_resolution"),
        "satisfaction_rate": ("satisfied", "n_satisfaction"),
        "on_time_rate": ("on_time", "n_on_time"),
        "reopened_share": ("reopened", "tickets"),
    }.items():
        low, high = wilson(df[k].to_numpy(float), df[n].to_numpy(float))
        df[rate] = df[k] / df[n].where(df[n] > 0)
        df[f"{rate}_low"] = low
        df[f"{rate}_high"] = high
    return df


def _service_counts_raw(
    con: duckdb.DuckDBPyConnection, lo: pd.Timestamp | None, hi: pd.Timestamp | None, group_by: str | None
) -> pd.DataFrame:
    as_of = db.query_one(con, "SELECT max(created_at) FROM tickets")
    sql = f"""
    SELECT {SERVICE_GROUPS[group_by]} AS key,
        count(*) AS tickets,
        count(*) FILTER (WHERE t.status IS NOT NULL OR t.closed_at IS NOT NULL) AS n_response,
        count(*) FILTER (WHERE t.closed_at IS NOT NULL
                         OR (t.status IS NOT NULL AND NOT list_contains(CAST(? AS VARCHAR[]), t.status))) AS responded,
        count(t.resolved) AS n_resolution,
        count(*) FILTER (WHERE t.resolved) AS resolved,
        count(t.satisfied) AS n_satisfaction,
        count(*) FILTER (WHERE t.satisfied) AS satisfied,
        count(*) FILTER (WHERE t.due_at IS NOT NULL AND (t.closed_at IS NOT NULL OR t.due_at < ?)) AS n_on_time,
        count(*) FILTER (WHERE t.closed_at IS NOT NULL AND t.closed_at <= t.due_at) AS on_time,
        median(date_diff('second', t.created_at, t.closed_at) / 86400.0) AS median_days_to_close,
        count(*) FILTER (WHERE t.reopened) AS reopened
    FROM tickets t {_join(SERVICE_GROUPS[group_by])}
    WHERE t.is_valid
      AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at >= ?)
      AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at < ?)
    GROUP BY ALL ORDER BY key
    """  # noqa: S608 - group expression from SERVICE_GROUPS
    return db.query_df(con, sql, [list(UNRESPONDED_STATUSES), as_of, lo, lo, hi, hi])


SUMMARY_SERVICE_COUNTS = (
    "n_response", "responded", "n_resolution", "resolved", "n_satisfaction", "satisfied", "n_on_time", "on_time",
)  # fmt: skip


def _service_counts_from_summary(
    con: duckdb.DuckDBPyConnection, lo: pd.Timestamp | None, hi: pd.Timestamp | None, group_by: str | None
) -> pd.DataFrame:
    """The counts from compound_month; only the median time to close needs the tickets."""
    key = SERVICE_GROUPS[group_by].replace("date_trunc('month', t.created_at)", "t.month")
    counts = ", ".join(f"CAST(sum(t.{c}) AS BIGINT) AS {c}" for c in SUMMARY_SERVICE_COUNTS)
    sql = f"""
    SELECT {key} AS key, CAST(sum(t.valid) AS BIGINT) AS tickets, {counts},
        CAST(NULL AS DOUBLE) AS median_days_to_close, CAST(sum(t.reopened) AS BIGINT) AS reopened
    FROM {summaries.TABLE} t {_join(key)}
    WHERE t.valid > 0
      AND (CAST(? AS TIMESTAMP) IS NULL OR t.month >= ?)
      AND (CAST(? AS TIMESTAMP) IS NULL OR t.month < ?)
    GROUP BY ALL ORDER BY key
    """  # noqa: S608 - group expression from SERVICE_GROUPS
    df = db.query_df(con, sql, [lo, lo, hi, hi])
    medians = db.query_df(
        con,
        f"""
        SELECT {SERVICE_GROUPS[group_by]} AS key,
               median(date_diff('second', t.created_at, t.closed_at) / 86400.0) AS median_days_to_close
        FROM tickets t {_join(SERVICE_GROUPS[group_by])}
        WHERE t.is_valid AND t.closed_at IS NOT NULL
          AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at >= ?)
          AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at < ?)
        GROUP BY ALL
        """,  # noqa: S608 - group expression from SERVICE_GROUPS
        [lo, lo, hi, hi],
    )
    merged = df.drop(columns="median_days_to_close").merge(medians, on="key", how="left")
    return merged[df.columns]


def wilson(k: np.ndarray, n: np.ndarray, z: float = WILSON_Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k/n (NaN where n = 0)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)
