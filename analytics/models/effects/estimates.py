"""The three headline figures from a panel and its cohorts: the naive change, the placebo and the
adjusted effect with its 95% interval (cohort effects of the stacked model), and the event study.
Log effects b become (exp(b) - 1) * 100 percent, interval ends transformed the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.models.effects.panel import HORIZON, Cohort, Panel, _md
from analytics.models.effects.poisson import PoissonFit, poisson_fe
from analytics.models.effects.stacking import Design, Stack, _design, build_stacks

Z95 = 1.959963984540054


def _pct(log_effect: float | None) -> float | None:
    if log_effect is None or not math.isfinite(log_effect):
        return None
    try:
        return round((math.exp(log_effect) - 1) * 100, 1)
    except OverflowError:  # a category with almost no tickets on one side: no percent to give
        return None


def _ratio_pct(num: float, den: float) -> float | None:
    return round(float(num / den - 1) * 100, 1) if den > 0 else None


@dataclass
class Adjusted:
    log_effect: float | None
    se: float | None
    by_cohort: pd.DataFrame
    fit: PoissonFit | None
    design: Design | None


def adjusted_effect(
    panel: Panel, cohorts: list[Cohort], stacks: list[Stack], counts: np.ndarray | None = None
) -> Adjusted:
    """Cohort post effects from the stacked model, aggregated by treated post-start tickets."""
    empty = pd.DataFrame(
        columns=["cohort", "start", "treated", "controls", "effect_pct", "ci_low_pct", "ci_high_pct"]
    )
    if not stacks:
        return Adjusted(None, None, empty, None, None)
    des = _design(panel, cohorts, stacks, counts)
    if des.y[des.post].sum() + des.y[des.treated & ~des.post].sum() == 0:
        return Adjusted(None, None, empty, None, des)
    fit = poisson_fe(des.y, des.unit, des.cluster, des.z, des.names)
    idx = [fit.index(f"post{st.cohort}") for st in stacks]
    b, v = fit.params[idx], fit.cov[np.ix_(idx, idx)]
    weights = np.array([des.y[des.post & (des.stack == s)].sum() for s in range(len(stacks))], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones(len(stacks))
    w = weights / weights.sum()
    log_effect = float(w @ b)
    se = float(math.sqrt(max(w @ v @ w, 0.0)))
    rows = []
    for j, st in enumerate(stacks):
        sej = math.sqrt(max(v[j, j], 0.0))
        rows.append(
            {
                "cohort": st.cohort,
                "start": cohorts[st.cohort].start.isoformat(),
                "treated": len(st.treated),
                "controls": len(st.controls),
                "effect_pct": _pct(b[j]),
                "ci_low_pct": _pct(b[j] - Z95 * sej),
                "ci_high_pct": _pct(b[j] + Z95 * sej),
            }
        )
    return Adjusted(log_effect, se, pd.DataFrame(rows), fit, des)


def event_study(panel: Panel, cohorts: list[Cohort], stacks: list[Stack]) -> pd.DataFrame:
    """Treated-vs-control difference by month relative to start (0 = first month with the task force).

    Coefficients are centred so the months before the selection window average zero; flat,
    near-zero pre-window values are what parallel trends look like. Window months show the
    selection spike.
    """
    cols = ["rel_month", "period", "coef", "se", "effect_pct", "ci_low_pct", "ci_high_pct"]
    if not stacks:
        return pd.DataFrame(columns=cols)
    des = _design(panel, cohorts, stacks, event_study=True)
    fit = poisson_fe(des.y, des.unit, des.cluster, des.z, des.names)
    rel_names = [nm for nm in fit.names if nm.startswith("rel")]
    rel_vals = [int(nm[3:]) for nm in rel_names]
    idx = [fit.index(nm) for nm in rel_names]
    ref = min(
        int(r)
        for r in (des.month - np.array([cohorts[st.cohort].first_post for st in stacks])[des.stack])[
            des.treated
        ]
    )
    window_rel = min(cohorts[st.cohort].window_start - cohorts[st.cohort].first_post for st in stacks)
    all_rel = [ref] + rel_vals
    k = len(all_rel)
    # full vector (ref = 0) = E @ b ; centred = (I - 1 m') full, m averaging the pre-window months
    e = np.zeros((k, len(idx)))
    e[1:, :] = np.eye(len(idx))
    pre = np.array([r < window_rel for r in all_rel], dtype=float)
    m = pre / pre.sum() if pre.sum() else np.zeros(k)
    a = (np.eye(k) - np.outer(np.ones(k), m)) @ e
    b = a @ fit.params[idx]
    v = a @ fit.cov[np.ix_(idx, idx)] @ a.T
    se = np.sqrt(np.maximum(np.diag(v), 0))
    rows = []
    for r, coef, s in zip(all_rel, b, se, strict=True):
        period = "baseline" if r < window_rel else ("selection" if r < 0 else "post")
        rows.append((r, period, coef, s, _pct(coef), _pct(coef - Z95 * s), _pct(coef + Z95 * s)))
    return pd.DataFrame(rows, columns=cols).sort_values("rel_month").reset_index(drop=True)


# ---------------------------------------------------------------- naive and placebo


def naive_change(panel: Panel, cohorts: list[Cohort]) -> tuple[float | None, dict[str, Any]]:
    """Treated tickets in the months from start vs the same calendar months a year earlier (%)."""
    num = den = 0.0
    months_used = 0
    for cohort in cohorts:
        for k in range(HORIZON):
            m = cohort.first_post + k
            if m > panel.last_month or m - 12 < panel.first_month:
                continue
            num += panel.counts[cohort.rows, panel.col(m)].sum()
            den += panel.counts[cohort.rows, panel.col(m - 12)].sum()
            months_used = max(months_used, k + 1)
    return _ratio_pct(num, den), {"after": int(num), "before": int(den), "months": months_used}


def _yoy_pairs(panel: Panel, first: int, horizon_end: int) -> list[tuple[int, int]]:
    """(month, same month a year earlier) for months first..horizon_end that the data cover."""
    last = min(horizon_end, panel.last_month)
    return [(m, m - 12) for m in range(first, last + 1) if m - 12 >= panel.first_month]


def placebo_change(panel: Panel, cohorts: list[Cohort]) -> tuple[float | None, dict[str, Any]]:
    """How much a top N falls by itself: the same rule where there were no task forces (%).

    Preferred ('year_earlier'): rank all compounds without a task force in that year by the
    selection window shifted back twelve months, take the top N, and compare their tickets in
    the year after the shifted start with the same calendar months a year before (only the month
    pairs the data cover). When the data do not reach back that far ('below_cut'): rank the
    compounds that never got a task force by the real selection window, take the next N below the
    cut, and compute their year-on-year change over exactly the naive figure's months.
    """
    num = den = 0.0
    detail: list[dict[str, Any]] = []
    treated_all = {r for c in cohorts for r in c.rows}
    for cohort in cohorts:
        n_top = len(cohort.rows)
        ws, we, fp = cohort.window_start - 12, cohort.window_end - 12, cohort.first_post - 12
        kind = "year_earlier"
        pairs = _yoy_pairs(panel, fp, fp + HORIZON - 1) if ws >= panel.first_month else []
        if pairs:
            horizon_end = fp + HORIZON - 1
            blocked = {r for other in cohorts if other.first_post <= horizon_end for r in other.rows}
        else:
            kind = "below_cut"
            ws, we, fp = cohort.window_start, cohort.window_end, cohort.first_post
            pairs = _yoy_pairs(panel, fp, fp + HORIZON - 1)
            blocked = treated_all
        if not pairs or ws < panel.first_month:
            continue
        eligible = np.array([r for r in range(len(panel.compound_ids)) if r not in blocked], dtype=int)
        window = panel.counts[eligible, panel.col(ws) : panel.col(we) + 1].sum(axis=1)
        top = eligible[np.argsort(-window, kind="stable")[:n_top]]
        a = sum(panel.counts[top, panel.col(m)].sum() for m, _ in pairs)
        b = sum(panel.counts[top, panel.col(m0)].sum() for _, m0 in pairs)
        num, den = num + a, den + b
        detail.append(
            {
                "kind": kind,
                "window": f"{_md(ws):%Y-%m}:{_md(we):%Y-%m}",
                "top": len(top),
                "after_months": f"{_md(pairs[0][0]):%Y-%m}:{_md(pairs[-1][0]):%Y-%m}",
                "before_months": f"{_md(pairs[0][1]):%Y-%m}:{_md(pairs[-1][1]):%Y-%m}",
                "change_pct": _ratio_pct(a, b),
            }
        )
    return _ratio_pct(num, den), {"cohorts": detail}


def estimate_from_panel(
    panel: Panel, cohorts: list[Cohort], controls: int | str = "auto", seed: int = 0
) -> dict[str, Any]:
    """The three headline figures straight from a panel (simulations and tests)."""
    stacks = build_stacks(panel, cohorts, controls=controls, seed=seed)
    naive, _ = naive_change(panel, cohorts)
    placebo, _ = placebo_change(panel, cohorts)
    adj = adjusted_effect(panel, cohorts, stacks)
    if adj.log_effect is None:
        return {"naive": naive, "placebo": placebo, "effect": None, "low": None, "high": None}
    return {
        "naive": naive,
        "placebo": placebo,
        "effect": _pct(adj.log_effect),
        "low": _pct(adj.log_effect - Z95 * adj.se),
        "high": _pct(adj.log_effect + Z95 * adj.se),
        "log_effect": adj.log_effect,
        "se": adj.se,
    }
