"""Surges: compounds whose tickets this month rise well above their own seasonal baseline.

Model, per compound i and target month m:
- baseline: the compound's valid tickets in the `baseline_months` (24) months before m (at least
  `MIN_BASELINE_MONTHS`), divided by the district's seasonal index of those months, gives its
  seasonally adjusted monthly level; expected_i = level x seasonal index of m's calendar month
  (the index comes from the district's own baseline months, see trends.seasonal_index).
- over-dispersion: month-to-month variation beyond Poisson (negative binomial: Var = mu + kappa
  mu^2) is estimated by moments from differences of adjacent deseasonalised baseline months of
  all compounds, so lasting level shifts (themselves surges) do not inflate it; the uncertainty
  of each compound's baseline level is added, so a short or noisy history needs more.
- p-value: negative-binomial upper tail P(Y >= observed).
- false alarms: Benjamini-Hochberg over every compound tested that month, false discovery rate
  q (0.05): on average at most 5% of the alerts are false; when nothing surges at all, the chance
  of any alert at all is also at most q.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analytics import calendar
from analytics.errors import ValidationError
from analytics.metrics import source
from analytics.metrics.trends import seasonal_index
from analytics.store import db

BASELINE_MONTHS = 24
MIN_BASELINE_MONTHS = 12
FDR_Q = 0.05
METHOD = "Benjamini-Hochberg FDR"

# the valid tickets per month over the source (every bound here is a month start)
DISTRICT_SQL = """
SELECT {month} AS month, {n_valid} AS n
FROM {table} t WHERE {valid_row} AND {time} >= ? AND {time} < ? GROUP BY ALL
"""
# ties go to the first category name, so the label does not depend on row order
TOP_CATEGORY_SQL = """
SELECT compound_id, first(category ORDER BY n DESC, category) AS top_category, max(n) * 1.0 / sum(n) AS top_share
FROM (SELECT t.compound_id, coalesce(t.category, '未分类') AS category, {n_valid} AS n
      FROM {table} t WHERE {valid_row} AND t.compound_id IS NOT NULL AND {time} >= ? AND {time} < ?
      GROUP BY ALL)
GROUP BY compound_id
"""


def surge_table(
    con: duckdb.DuckDBPyConnection,
    month: Any,
    q: float = FDR_Q,
    baseline_months: int = BASELINE_MONTHS,
) -> pd.DataFrame:
    """Every compound tested in `month`: tickets, expected, ratio, p_value, q_value, alert, and the
    reason's parts (top_category, top_share; analytics.reports.alerts words them).

    attrs: month, q, method, n_tested, kappa, baseline (first, last month).
    """
    m = calendar.parse_month(month)
    src = source.choose(con)
    # only the month of the first ticket matters below, so the summary's month will do
    first_data = source.first_valid(con, src)
    if first_data is None:
        raise ValidationError("库中还没有工单。", "There are no tickets in the store yet.")
    base_first = max(m - baseline_months, pd.Timestamp(first_data).to_period("M"))
    base = list(pd.period_range(base_first, m - 1, freq="M")) if base_first <= m - 1 else []
    if len(base) < MIN_BASELINE_MONTHS:
        raise ValidationError(
            f"{m} 之前只有 {len(base)} 个月数据，异常上升检测至少需要 {MIN_BASELINE_MONTHS} 个月基线。",
            f"Only {len(base)} months of data before {m}; surge detection needs a baseline of "
            f"{MIN_BASELINE_MONTHS} months.",
        )
    lo, hi = base[0].start_time, (m + 1).start_time
    counts = source.compound_months(con, src, lo, hi)
    compounds = db.query_df(con, "SELECT compound_id, name, community FROM compounds")
    months = [p.start_time for p in base] + [m.start_time]
    wide = (
        counts.pivot_table(index="compound_id", columns="month", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=compounds["compound_id"], columns=months, fill_value=0)
        .fillna(0)
        .to_numpy(float)
    )
    district = db.query_df(con, src.fill(DISTRICT_SQL), [lo, m.start_time]).set_index("month")["n"]
    district = district.reindex([p.start_time for p in base], fill_value=0)
    index = seasonal_index(district).frame
    season = index.set_index("month_of_year")["index"].fillna(1.0)
    s_base = np.array([season.get(p.month, 1.0) for p in base])
    s_now = float(season.get(m.month, 1.0))
    y_base, y_now = wide[:, :-1], wide[:, -1]
    totals = y_base.sum(axis=1)
    level = (totals + 0.5) / s_base.sum()  # +0.5: a compound silent so far still has an expectation
    # short-term noise from differences of adjacent deseasonalised months: a level shift that lasts
    # (a half-year shock, which is itself a surge worth seeing) cancels out of the differences
    adjusted = y_base / s_base[None, :]
    diffs = np.diff(adjusted, axis=1)
    poisson = level[:, None] * (1 / s_base[None, :-1] + 1 / s_base[None, 1:])
    n_b = len(base)
    kappa = float(((diffs**2) - poisson).sum() / (2 * (level**2).sum() * (n_b - 1)))
    kappa = max(kappa, 0.0)
    expected = level * s_now
    # relative variance: month noise + uncertainty of the baseline level
    rel_var = kappa + 1.0 / (totals + 0.5) + kappa / n_b
    size = 1.0 / rel_var
    p_value = stats.nbinom.sf(y_now - 1, size, size / (size + expected))
    p_value = np.where(y_now > 0, p_value, 1.0)
    reject, q_value, _, _ = multipletests(p_value, alpha=q, method="fdr_bh")
    out = compounds.copy()
    out["tickets"] = y_now.astype(int)
    out["expected"] = expected
    out["ratio"] = y_now / expected
    out["p_value"] = p_value
    out["q_value"] = q_value
    out["alert"] = reject & (y_now > expected)
    cats = db.query_df(con, src.fill(TOP_CATEGORY_SQL), [m.start_time, hi])
    out = out.merge(cats, on="compound_id", how="left")
    out = out.sort_values(["p_value", "compound_id"]).reset_index(drop=True)
    out.attrs.update(
        month=str(m),
        q=q,
        method=METHOD,
        n_tested=len(out),
        kappa=kappa,
        baseline=(str(base[0]), str(base[-1])),
    )
    return out


def detect_surges(
    con: duckdb.DuckDBPyConnection, month: Any, q: float = FDR_Q, baseline_months: int = BASELINE_MONTHS
) -> pd.DataFrame:
    """Only the alerts of `surge_table`, largest ratio first (same columns and attrs)."""
    table = surge_table(con, month, q, baseline_months)
    alerts = table[table["alert"]].sort_values(["ratio", "compound_id"], ascending=[False, True])
    alerts = alerts.reset_index(drop=True)
    alerts.attrs.update(table.attrs)
    return alerts


def alerts_in(
    con: duckdb.DuckDBPyConnection,
    month: Any,
    compound_ids: list[str] | tuple[str, ...],
    q: float = FDR_Q,
    baseline_months: int = BASELINE_MONTHS,
) -> pd.DataFrame:
    """The alerts of `detect_surges` among `compound_ids` (a head's compounds, a leader's task
    forces). Every compound is still tested: the false-alarm control holds over the district,
    so an alert means the same on every page. attrs: as detect_surges, n_tested included."""
    alerts = detect_surges(con, month, q, baseline_months)
    mine = alerts[alerts["compound_id"].isin({str(c) for c in compound_ids})].reset_index(drop=True)
    mine.attrs.update(alerts.attrs)
    return mine
