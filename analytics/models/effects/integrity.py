"""Integrity alarms: data breaks that would pass for an effect, and which treated compounds to leave out.

A compound split or renamed in the registry while its tickets still carry the old address stops
matching: its counts fall to zero although nothing changed on the ground. For a treated compound
that reads as a 100% effect. Three kinds of alarm, one row each:

- drop_to_zero (from the counts alone): a run of L >= 2 consecutive zero months starting in month
  t, after a usual level b >= 3 tickets a month, where a Poisson count with mean b gives L zeros
  in a row with chance exp(-b L) < 1e-4 (so b = 3 needs four zero months, b = 5 two). Flagged at
  t. The usual level b is the lower quartile of the (up to) 12 months before t (at least 6 of
  them in the data), not their mean: half-year surges end by themselves, and after one the
  compound falls back to a level a mean over the surge would overstate (simulated districts with
  strong surges: 18 false alarms per 1,105 compounds with the 6-month mean, 3 with the lower
  quartile, 0.2 with the default surges). The quartile also lies below the seasonal lows, and
  month-to-month over-dispersion makes real zeros likelier than the Poisson chance; the small
  threshold leaves room for both.
- registry_change (from registry events): a split, rename or merge of a compound in the panel,
  flagged in the month it took effect. registry_followed instead when the events say the panel
  already follows the compound's lineage (column `followed`: the predecessor and its successors
  counted as one unit, so the series does not break): shown, never excluding.
- match_rate_shift (district-wide, from monthly match rates matched / total): a month whose match
  rate differs from the median of the (up to) 6 months before it (at least 3) by more than
  max(5 percentage points, 4 binomial standard errors sqrt(r (1 - r) / total) at that median r).
  With tens of thousands of tickets a month the rate's sampling noise is a fraction of a point,
  so a five-point move means the exports, the addresses or the registry changed; smaller moves
  are left alone, as the month effects absorb a change that hits all compounds alike. The
  binomial term keeps a month with few tickets from alarming on chance alone.
  compound_id is empty on these rows.

exclude is True for a treated compound's drop_to_zero or registry_change from 12 months before
its (earliest) first post month on: from then on its counts enter the estimate's baseline or
post period. The estimate leaves such compounds out (`excluded_rows`); the page names them.
Controls and district-wide shifts are flagged, not excluded.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.models.effects.panel import Cohort, Panel, _md, _mi

DROP_PRIOR_MONTHS = 12
DROP_MIN_PRIOR_MONTHS = 6
DROP_LEVEL_QUANTILE = 0.25
DROP_MIN_LEVEL = 3.0
DROP_MIN_ZERO_MONTHS = 2
DROP_MAX_CHANCE = 1e-4
REGISTRY_KINDS = ("split", "rename", "merge")
RATE_PRIOR_MONTHS = 6
RATE_MIN_PRIOR_MONTHS = 3
RATE_MIN_SHIFT = 0.05
RATE_SE_MULTIPLE = 4.0
EXCLUDE_LEAD_MONTHS = 12
EXCLUDING_KINDS = ("drop_to_zero", "registry_change")
COLUMNS = ["compound_id", "kind", "month", "detail", "exclude"]


def _month_label(month: int) -> str:
    return f"{_md(month):%Y-%m}"


def _month_index(values: pd.Series) -> np.ndarray:
    """Month indices of 'YYYY-MM' strings, dates or timestamps."""
    stamps = pd.to_datetime(values.astype(str), format="mixed")
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype=int)


# ---------------------------------------------------------------- drop to zero


def _zero_run_lengths(counts: np.ndarray) -> np.ndarray:
    """For each cell, how many consecutive zero months start there (0 where the count is positive)."""
    runs = np.zeros(counts.shape, dtype=int)
    zero = counts == 0
    for t in range(counts.shape[1] - 1, -1, -1):
        after = runs[:, t + 1] if t + 1 < counts.shape[1] else 0
        runs[:, t] = np.where(zero[:, t], after + 1, 0)
    return runs


def _usual_levels(counts: np.ndarray) -> np.ndarray:
    """Lower quartile of the (up to) DROP_PRIOR_MONTHS months before each cell; NaN with too few of them."""
    levels = np.full(counts.shape, np.nan)
    for t in range(DROP_MIN_PRIOR_MONTHS, counts.shape[1]):
        levels[:, t] = np.quantile(counts[:, max(t - DROP_PRIOR_MONTHS, 0) : t], DROP_LEVEL_QUANTILE, axis=1)
    return levels


def drop_to_zero(panel: Panel) -> pd.DataFrame:
    """Compounds whose counts fall abruptly to zero (see the module docstring)."""
    counts = np.asarray(panel.counts, dtype=float)
    runs = _zero_run_lengths(counts)
    level = np.nan_to_num(_usual_levels(counts), nan=0.0)
    starts = runs > 0
    starts[:, 1:] &= runs[:, :-1] == 0  # only the first month of each run
    chance = np.exp(-level * runs)
    hit = starts & (runs >= DROP_MIN_ZERO_MONTHS) & (level >= DROP_MIN_LEVEL) & (chance < DROP_MAX_CHANCE)
    rows = [
        (
            panel.compound_ids[i],
            "drop_to_zero",
            _month_label(panel.first_month + t),
            f"usual_level={level[i, t]:.1f};zero_months={runs[i, t]};p={chance[i, t]:.1e}",
        )
        for i, t in zip(*np.nonzero(hit), strict=True)
    ]
    return pd.DataFrame(rows, columns=COLUMNS[:4])


# ---------------------------------------------------------------- registry events and match rates


def registry_changes(panel: Panel, registry_events: pd.DataFrame | None) -> pd.DataFrame:
    """Splits, renames and merges of compounds in the panel (columns compound_id, month, kind)."""
    if registry_events is None or registry_events.empty:
        return pd.DataFrame(columns=COLUMNS[:4])
    ev = registry_events.copy()
    ev["kind"] = ev["kind"].astype(str).str.strip().str.lower()
    ev = ev[ev["compound_id"].isin(set(panel.compound_ids)) & ev["kind"].isin(REGISTRY_KINDS)]
    months = [_month_label(m) for m in _month_index(ev["month"])] if len(ev) else []
    followed = ev["followed"].astype(bool).to_numpy() if "followed" in ev else np.zeros(len(ev), bool)
    return pd.DataFrame(
        {
            "compound_id": ev["compound_id"].astype(str).to_numpy(),
            "kind": np.where(followed, "registry_followed", "registry_change"),
            "month": months,
            "detail": ev["kind"].to_numpy(),
        },
        columns=COLUMNS[:4],
    )


def _rate_threshold(median: float, total: float) -> float:
    se = math.sqrt(max(median * (1 - median), 0.0) / total) if total > 0 else math.inf
    return max(RATE_MIN_SHIFT, RATE_SE_MULTIPLE * se)


def match_rate_shifts(match_rates: pd.DataFrame | None) -> pd.DataFrame:
    """Months whose district match rate moves away from the median of the months before (see above)."""
    if match_rates is None or match_rates.empty:
        return pd.DataFrame(columns=COLUMNS[:4])
    mr = match_rates.assign(_m=_month_index(match_rates["month"])).sort_values("_m")
    mr = mr[mr["total"] > 0]
    rate = (mr["matched"] / mr["total"]).to_numpy(dtype=float)
    total = mr["total"].to_numpy(dtype=float)
    rows = []
    for k in range(RATE_MIN_PRIOR_MONTHS, len(mr)):
        median = float(np.median(rate[max(k - RATE_PRIOR_MONTHS, 0) : k]))
        if abs(rate[k] - median) > _rate_threshold(median, total[k]):
            detail = f"rate={rate[k]:.3f};prior_median={median:.3f}"
            rows.append(("", "match_rate_shift", _month_label(int(mr["_m"].iloc[k])), detail))
    return pd.DataFrame(rows, columns=COLUMNS[:4])


# ---------------------------------------------------------------- together


def _first_posts(panel: Panel, cohorts: list[Cohort]) -> dict[str, int]:
    """Each treated compound's earliest first post month."""
    out: dict[str, int] = {}
    for cohort in cohorts:
        for r in cohort.rows:
            cid = panel.compound_ids[r]
            out[cid] = min(out.get(cid, cohort.first_post), cohort.first_post)
    return out


def integrity_flags(
    panel: Panel,
    cohorts: list[Cohort],
    registry_events: pd.DataFrame | None = None,
    match_rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All alarms: compound_id, kind, month ('YYYY-MM'), detail, exclude (see the module docstring)."""
    parts = [drop_to_zero(panel), registry_changes(panel, registry_events), match_rate_shifts(match_rates)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COLUMNS).astype({"exclude": bool})
    flags = pd.concat(parts, ignore_index=True)
    first_post = _first_posts(panel, cohorts)
    since = flags["compound_id"].map(first_post).to_numpy(dtype=float) - EXCLUDE_LEAD_MONTHS
    month = np.array([_mi(pd.Timestamp(f"{m}-01")) for m in flags["month"]], dtype=float)
    flags["exclude"] = flags["kind"].isin(EXCLUDING_KINDS).to_numpy() & (month >= since)  # NaN: untreated
    return flags.sort_values(["kind", "compound_id", "month"], ignore_index=True)[COLUMNS]


def excluded_rows(flags: pd.DataFrame, panel: Panel) -> list[int]:
    """Panel row indices of the compounds the estimate leaves out."""
    pos = {c: i for i, c in enumerate(panel.compound_ids)}
    return sorted({pos[c] for c in flags.loc[flags["exclude"].astype(bool), "compound_id"] if c in pos})
