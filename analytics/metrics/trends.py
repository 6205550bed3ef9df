"""Monthly series, year-on-year (同比) and month-on-month (环比), the overview's headline numbers,
movers and category mix, seasonality.

Aggregation runs in DuckDB; pandas only touches the small aggregated frames. Each query is written
once over the source analytics.metrics.source chooses: the compound-month summary when it is fresh
and the bounds are whole months, else the tickets (the same figures either way).

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

from analytics import calendar
from analytics.config import LIST_N
from analytics.errors import ValidationError
from analytics.metrics import periods, source
from analytics.metrics.rates import SERVICE_RATES, add_rates, service_counts
from analytics.store import db

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


# --------------------------------------------------------------------------- Spring Festival


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
    lo, hi = calendar.bounds(start, end)
    ids = list(compound_ids or [])
    src = source.choose(con, lo, hi)
    sql = f"""
    WITH t AS (
        SELECT {src.month} AS month, {LEVEL_KEYS[level]} AS key, {src.n} AS n, {src.valid} AS v
        FROM {src.table} t {source.compounds_join(LEVEL_KEYS[level])}
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
        g["mom_pct"] = pct_change(v, g["prev_month"])
        g["yoy_pct"] = pct_change(v, g["prev_year"])
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
        g["janfeb_yoy_pct"] = pct_change(g["janfeb"], g["janfeb_prev_year"])
        out.append(g.reset_index())
    if not out:
        return df.assign(prev_month=np.nan, prev_year=np.nan, mom_pct=np.nan, yoy_pct=np.nan)
    res = pd.concat(out, ignore_index=True)
    res = res.rename(columns={"index": "month"})
    return res


def pct_change(now: Any, base: Any) -> Any:
    """Percent change from `base` to `now` (同比 against the same month last year, 环比 against the
    month before): of series, null where the base is not above 0; of numbers, None when it is 0."""
    if isinstance(base, pd.Series):
        return (now - base) * 100.0 / base.where(base > 0)
    return (now - base) * 100.0 / base if base else None


# --------------------------------------------------------------------------- KPIs

# {tickets_in}/{valid_in}: the source's (valid) tickets between a pair of bounds
KPI_SQL = """
SELECT {tickets_in} AS this_period, {valid_in} AS this_valid, {tickets_in} AS previous,
       {tickets_in} AS last_year, {tickets_in} AS janfeb, {tickets_in} AS janfeb_last_year
FROM {table} t
WHERE {time} >= ? AND {time} < ?
"""

TASKFORCE_SQL = """
WITH tf AS (SELECT DISTINCT compound_id FROM task_forces WHERE start_date < ?)
SELECT count(DISTINCT tf.compound_id) AS compounds, {tickets_in} AS this_period, {tickets_in} AS last_year
FROM tf LEFT JOIN {table} t ON t.compound_id = tf.compound_id AND {time} >= ? AND {time} < ?
"""

DATA_SPAN_SQL = "SELECT min(created_at), max(created_at) FROM tickets"


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and the last ticket's time (None, None without tickets)."""
    first, last = db.query_df(con, DATA_SPAN_SQL).iloc[0]
    return (None, None) if pd.isna(last) else (pd.Timestamp(first), pd.Timestamp(last))


def _festivals_in(lo: pd.Timestamp, hi: pd.Timestamp) -> int:
    """How many 正月初一 fall in [lo, hi)."""
    return sum(lo <= pd.Timestamp(spring_festival(y)) < hi for y in range(lo.year, hi.year + 1))


def period_kpis(con: duckdb.DuckDBPyConnection, period: periods.Period) -> dict[str, Any]:
    """The overview's headline numbers for a period (plain Python values, None when unknown).

    tickets, valid_tickets, valid_share; previous_tickets and mom_pct against `period.previous()`
    (环比; None for the year to date); last_year_tickets and yoy_pct against `period.last_year()`
    (同比); spring_festival (正月初一 falls in the period), festival_shift (it falls in the period
    in one year and not in the other, so the plain 同比 is distorted), janfeb_yoy_pct (January +
    February together against the same two months a year before, when the period touches
    January-February and reaches the end of February: the comparison a shift calls for);
    rate_per_100_households; response/resolution/
    satisfaction/on_time rates (see `service_rates`), median_days_to_close; repeat_share (same
    caller, compound and category within config.REPEAT_DAYS); taskforce (compounds under a task
    force started before the period ends: their tickets in the period vs the same dates last
    year) or None.
    """
    lo, hi = period.bounds
    prev = period.previous()
    prev_lo, prev_hi = prev.bounds if prev else (lo, lo)
    last = period.last_year()
    ly_lo, ly_hi = last.bounds
    year = period.end.year
    jf_lo, jf_hi = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 3, 1)
    jfl_lo, jfl_hi = pd.Timestamp(year - 1, 1, 1), pd.Timestamp(year - 1, 3, 1)
    src = source.choose(con, lo, hi, prev_lo, prev_hi, ly_lo, ly_hi)
    between = f"{src.time} >= ? AND {src.time} < ?"
    row = db.query_df(
        con,
        src.fill(KPI_SQL, tickets_in=src.tickets_if(between), valid_in=src.valid_if(between)),
        [lo, hi, lo, hi, prev_lo, prev_hi, ly_lo, ly_hi, jf_lo, jf_hi, jfl_lo, jfl_hi,
         min(jfl_lo, ly_lo, prev_lo), max(hi, jf_hi)],
    ).iloc[0]  # fmt: skip
    this, valid = int(row["this_period"]), int(row["this_valid"])
    previous, last_year = int(row["previous"]), int(row["last_year"])
    households = db.query_one(con, "SELECT sum(households) FROM compounds")
    rates = add_rates(service_counts(con, src, lo, hi, None), SERVICE_RATES)
    rate_row = rates.iloc[0] if len(rates) else pd.Series(dtype=float)
    stats = source.compound_stats(con, src, lo, hi)
    n_rep, repeats = int(stats["n_caller"].sum()), int(stats["repeats"].sum())
    tf = db.query_df(
        con,
        src.fill(TASKFORCE_SQL, tickets_in=src.tickets_if(between)),
        [hi, lo, hi, ly_lo, ly_hi, min(lo, ly_lo), max(hi, ly_hi)],
    ).iloc[0]
    taskforce = None
    if int(tf["compounds"]) > 0:
        taskforce = {
            "compounds": int(tf["compounds"]),
            "tickets": int(tf["this_period"]),
            "last_year_tickets": int(tf["last_year"]),
            "yoy_pct": pct_change(int(tf["this_period"]), int(tf["last_year"])),
        }
    shift = _festivals_in(lo, hi) != _festivals_in(ly_lo, ly_hi)
    return _clean(
        {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "partial": period.partial,
            "tickets": this,
            "valid_tickets": valid,
            "valid_share": valid / this if this else None,
            "previous_tickets": previous if prev else None,
            "mom_pct": pct_change(this, previous) if prev else None,
            "last_year_tickets": last_year,
            "yoy_pct": pct_change(this, last_year),
            "spring_festival": _festivals_in(lo, hi) > 0,
            "festival_shift": shift,
            "janfeb_yoy_pct": pct_change(int(row["janfeb"]), int(row["janfeb_last_year"]))
            if lo < jf_hi <= hi
            else None,
            "rate_per_100_households": valid * 100.0 / households if households else None,
            "response_rate": rate_row.get("response_rate"),
            "resolution_rate": rate_row.get("resolution_rate"),
            "satisfaction_rate": rate_row.get("satisfaction_rate"),
            "on_time_rate": rate_row.get("on_time_rate"),
            "median_days_to_close": rate_row.get("median_days_to_close"),
            "repeat_share": repeats / n_rep if n_rep else None,
            "taskforce": taskforce,
        }
    )


def district_kpis(con: duckdb.DuckDBPyConnection, month: Any) -> dict[str, Any]:
    """`period_kpis` of one calendar month, keyed as the monthly briefing reads it (month,
    prev_month_tickets; janfeb_yoy_pct in February only)."""
    m = calendar.parse_month(month)
    k = period_kpis(con, periods.month(m))
    k["month"] = str(m)
    k["prev_month_tickets"] = k.pop("previous_tickets")
    for key in ("start", "end", "partial"):
        k.pop(key)
    return k


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
       {tickets_from} AS tickets, {tickets_before} AS last_year
FROM {table} t LEFT JOIN compounds c ON c.compound_id = t.compound_id
WHERE t.compound_id IS NOT NULL
  AND (({time} >= ? AND {time} < ?) OR ({time} >= ? AND {time} < ?))
GROUP BY t.compound_id
"""


def top_bottom(con: duckdb.DuckDBPyConnection, month: Any, n: int = LIST_N) -> pd.DataFrame:
    """Compounds with the largest rises and falls in tickets vs the same month last year
    (`movers` of one calendar month)."""
    return movers(con, periods.month(calendar.parse_month(month)), n)


def movers(con: duckdb.DuckDBPyConnection, period: periods.Period, n: int = LIST_N) -> pd.DataFrame:
    """Compounds with the largest rises and falls in tickets vs the same dates last year.

    Columns: direction ('rise'/'fall'), arrow (↑/↓), compound_id, name, community, tickets,
    last_year, change, change_pct (null when last year had none). Ties broken by compound_id.
    """
    lo, hi = period.bounds
    ly_lo, ly_hi = period.last_year().bounds
    src = source.choose(con, lo, hi, ly_lo, ly_hi)
    sql = src.fill(
        TOP_BOTTOM_SQL,
        tickets_from=src.tickets_if(f"{src.time} >= ?"),
        tickets_before=src.tickets_if(f"{src.time} < ?"),
    )
    df = db.query_df(con, sql, [lo, ly_hi, lo, hi, ly_lo, ly_hi])
    df = df[(df["tickets"] > 0) | (df["last_year"] > 0)]
    df["change"] = df["tickets"] - df["last_year"]
    df["change_pct"] = pct_change(df["tickets"], df["last_year"])
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


COMPOUND_TOTALS_SQL = """
WITH n AS (
    SELECT t.compound_id, CAST(sum({n}) AS BIGINT) AS tickets
    FROM {table} t WHERE t.compound_id IS NOT NULL AND {time} >= ? AND {time} < ?
    GROUP BY ALL
)
SELECT c.compound_id, coalesce(c.name, c.compound_id) AS name, c.community, c.subdistrict, c.lat, c.lon,
       c.households, coalesce(n.tickets, 0) AS tickets
FROM compounds c LEFT JOIN n USING (compound_id)
ORDER BY c.compound_id
"""


def compound_totals(con: duckdb.DuckDBPyConnection, period: periods.Period) -> pd.DataFrame:
    """Every registered compound's tickets in the period with where it sits (treemap, map).

    Columns: compound_id, name, community, subdistrict, lat, lon, households, tickets.
    """
    lo, hi = period.bounds
    src = source.choose(con, lo, hi)
    df = db.query_df(con, src.fill(COMPOUND_TOTALS_SQL), [lo, hi])
    df["tickets"] = df["tickets"].astype(int)
    return df


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
    lo, hi = calendar.bounds(start, end)
    ids = list(compound_ids or [])
    src = source.choose(con, lo, hi)
    sql = f"""
    SELECT {LEVEL_KEYS[level]} AS key, coalesce(t.category, '未分类') AS category,
           CAST(sum({src.n}) AS BIGINT) AS tickets, CAST(sum({src.valid}) AS BIGINT) AS valid_tickets
    FROM {src.table} t {source.compounds_join(LEVEL_KEYS[level])}
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
