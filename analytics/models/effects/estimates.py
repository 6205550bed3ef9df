"""Headline figures from a panel and its cohorts: the naive change and the adjusted effect with its
95% interval (cohort effects of the stacked model, pooled with fixed weights), and the event study.
The placebo is analytics.models.effects.placebo's.
Log effects b become (exp(b) - 1) * 100 percent, interval ends transformed the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.models.effects.panel import HORIZON, Cohort, Panel
from analytics.models.effects.poisson import PoissonFit, poisson_fe
from analytics.models.effects.stacking import Design, Stack, _design

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


def baseline_weights(des: Design, stacks: list[Stack]) -> np.ndarray:
    """Each stack's fixed weight: its treated compounds' tickets expected over the post months had
    nothing been done, from before anything was seen of them after the start: their baseline
    tickets (the months before the selection window) scaled by the controls' post-to-baseline
    ratio (seasons and trend). Unlike post-start tickets, a cohort that fell more does not lose
    weight for it."""
    out = np.zeros(len(stacks))
    for s in range(len(stacks)):
        in_stack = des.stack == s
        base = des.treated & ~des.post & in_stack
        post_months = np.unique(des.month[des.post & in_stack])
        base_months = np.unique(des.month[base])
        ctrl = ~des.treated & in_stack
        # per control compound-month (controls leave at their own start), times the months
        y_base = des.y[ctrl & np.isin(des.month, base_months)]
        y_post = des.y[ctrl & np.isin(des.month, post_months)]
        if len(y_base) and len(y_post) and y_base.sum() > 0:
            scale = y_post.mean() * len(post_months) / (y_base.mean() * len(base_months))
        else:
            scale = len(post_months) / max(len(base_months), 1)
        out[s] = des.y[base].sum() * scale
    return out if out.sum() > 0 else np.ones(len(stacks))


def pooled_ratio(b: np.ndarray, v: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """log of the weighted mean rate ratio sum(w exp(b)) / sum(w), and its delta-method SE.

    Pooling on the ratio scale with fixed weights: the pooled figure is what the treated
    compounds' expected tickets would fall by, and a cohort whose tickets fell more does not
    lose weight for it (weights from post-start tickets pull the pooled effect towards zero)."""
    w = weights / weights.sum()
    ratio = float(w @ np.exp(b))
    grad = w * np.exp(b) / ratio  # d log(ratio) / d b
    return math.log(ratio), float(math.sqrt(max(grad @ v @ grad, 0.0)))


def adjusted_effect(
    panel: Panel, cohorts: list[Cohort], stacks: list[Stack], counts: np.ndarray | None = None
) -> Adjusted:
    """Cohort post effects from the stacked model, pooled on the ratio scale with fixed baseline weights."""
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
    log_effect, se = pooled_ratio(b, v, baseline_weights(des, stacks))
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


# ---------------------------------------------------------------- naive


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
