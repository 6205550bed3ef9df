"""Headline figures from a panel and its cohorts: the naive change and the adjusted effect with its
95% interval (cohort effects of the stacked model, pooled on the ratio scale with the cohorts'
counterfactual post tickets as weights, an SE that carries the weights' uncertainty, and a t
reference with treated compounds - 1 degrees of freedom), and the event study.
The placebo is analytics.models.effects.placebo's.
Log effects b become (exp(b) - 1) * 100 percent, interval ends transformed the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

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
    df: int | None = None  # degrees of freedom of the interval's t reference (treated compounds - 1)
    # per stack: the treated compounds' counterfactual post tickets (the pooling weights)
    counterfactual: np.ndarray | None = None

    @property
    def crit(self) -> float:
        """The 95% interval's multiplier of the standard error."""
        return t_critical(self.df)

    def interval(self) -> tuple[float, float] | None:
        """The 95% interval of the log effect, or None without an estimate."""
        if self.log_effect is None or self.se is None:
            return None
        return self.log_effect - self.crit * self.se, self.log_effect + self.crit * self.se


def t_critical(df: int | None) -> float:
    """97.5% quantile of Student's t with `df` degrees of freedom (the normal's without)."""
    return float(stats.t.ppf(0.975, df)) if df is not None and df >= 1 else Z95


def two_sided_p(t: float, df: int | None) -> float:
    """Two-sided p-value of a t statistic on `df` degrees of freedom (the normal's without)."""
    if df is not None and df >= 1:
        return float(2 * stats.t.sf(abs(t), df))
    return float(2 * stats.norm.sf(abs(t)))


def counterfactual_post(des: Design, fit: PoissonFit, stacks: list[Stack]) -> np.ndarray:
    """Per stack, its treated compounds' tickets over the post months had nothing been done:
    sum over their post compound-months of the fitted mean without the post term, mu exp(-b_j).

    With the compound effects profiled out this equals each treated compound's baseline tickets
    times the stack's month effects summed over its post months over the same sum over its
    baseline months (the per-compound counterfactual of breakdowns._per_compound, summed), and
    also Y_j exp(-b_j), Y_j the observed post tickets: a cohort that fell more does not lose
    weight for it. The month effects come from the fit, with each compound's own level profiled
    out; a ratio of the controls' raw mean tickets instead moves with which controls are present
    (an earlier cohort's compounds, the district's top in their window, serve in a later stack's
    baseline months only, a later cohort's leave at their start), and gave the first of two
    simulated cohorts 7 points too much weight (a -3.6 point lean of the heterogeneous world)."""
    mu = np.nan_to_num(fit.mu, nan=0.0)
    out = np.zeros(len(stacks))
    for s, st in enumerate(stacks):
        b = fit.params[fit.index(f"post{st.cohort}")]
        out[s] = mu[des.post & (des.stack == s)].sum() * math.exp(-b)
    return out


def pooled_effect(fit: PoissonFit, des: Design, stacks: list[Stack]) -> tuple[float, float, np.ndarray]:
    """log R, its SE and the weights cf (per stack) of the pooled ratio
        R = sum_j cf_j exp(b_j) / sum_j cf_j = sum_j Y_j / sum_j Y_j exp(-b_j),
    the treated compounds' observed post tickets Y over their counterfactual ones cf
    (`counterfactual_post`): the cohorts' rate ratios pooled with the counterfactual post
    tickets as fixed weights, which is also how the simulations define the truth.

    SE: the delta method on the cluster-jackknife covariance V of the b_j, with Y held at what
    was observed and cf_j = Y_j exp(-b_j) moving with b_j: gradient g_j = cf_j / C, C = sum cf,
    var = g' V g. Given the treated compounds, the pooled ratio errs by
    sum_i (eps_i / N - u_i / C) (first order; eps_i: compound i's post tickets about their
    expectation, u_i: its counterfactual's error, N = sum Y); a compound's residual in its cohort
    is about eps_i - r_j u_i, and this gradient weighs it 1 / (C r_j), so the variance is right
    when u dominates (month-to-month over-dispersion and surges, as in hotline data: Poisson
    noise of a year's post tickets is a few percent) and the weights' uncertainty is carried.
    With fixed cf (gradient cf_j r_j / N) the weights' uncertainty is left out: heterogeneous
    simulated cohorts (-50% and 0%) came out 10% too narrow (SD 0.077 of the log effect, SE
    0.069; 0.082 with this gradient; tuning seeds 0-39). Resampling the compounds themselves
    (a jackknife that also removes a compound's tickets from Y) adds which compounds make up each
    cohort, which the effect on these compounds does not depend on: 20% too wide there. One
    cohort: g = 1, the CR3 variance of b."""
    idx = [fit.index(f"post{st.cohort}") for st in stacks]
    b, v = fit.params[idx], fit.cov[np.ix_(idx, idx)]
    cf = counterfactual_post(des, fit, stacks)
    n_obs, c_tot = float(cf @ np.exp(b)), float(cf.sum())
    if c_tot <= 0 or n_obs <= 0:
        return math.nan, math.nan, cf
    grad = cf / c_tot
    return math.log(n_obs / c_tot), math.sqrt(max(float(grad @ v @ grad), 0.0)), cf


def treated_clusters(des: Design, rows: np.ndarray | None = None) -> int:
    """Distinct treated compounds (clusters) with a ticket in the design (of `rows` when given)."""
    mask = des.treated if rows is None else des.treated & rows
    return int(np.count_nonzero(np.bincount(des.cluster[mask], weights=des.y[mask])))


def adjusted_effect(
    panel: Panel, cohorts: list[Cohort], stacks: list[Stack], counts: np.ndarray | None = None
) -> Adjusted:
    """Cohort post effects from the stacked model, pooled on the ratio scale with the cohorts'
    counterfactual post tickets as weights (`pooled_effect`); 95% intervals b +- t se, t with
    (treated compounds - 1) degrees of freedom."""
    empty = pd.DataFrame(
        columns=["cohort", "start", "treated", "controls", "effect_pct", "ci_low_pct", "ci_high_pct"]
    )
    if not stacks:
        return Adjusted(None, None, empty, None, None)
    des = _design(panel, cohorts, stacks, counts)
    if des.y[des.post].sum() + des.y[des.treated & ~des.post].sum() == 0:
        return Adjusted(None, None, empty, None, des)
    fit = poisson_fe(des.y, des.unit, des.cluster, des.z_sparse, des.names)
    idx = [fit.index(f"post{st.cohort}") for st in stacks]
    b, v = fit.params[idx], fit.cov[np.ix_(idx, idx)]
    log_effect, se, cf = pooled_effect(fit, des, stacks)
    rows = []
    for j, st in enumerate(stacks):
        sej = math.sqrt(max(v[j, j], 0.0))
        crit = t_critical(treated_clusters(des, des.stack == j) - 1)
        rows.append(
            {
                "cohort": st.cohort,
                "start": cohorts[st.cohort].start.isoformat(),
                "treated": len(st.treated),
                "controls": len(st.controls),
                "effect_pct": _pct(b[j]),
                "ci_low_pct": _pct(b[j] - crit * sej),
                "ci_high_pct": _pct(b[j] + crit * sej),
            }
        )
    ok = math.isfinite(log_effect) and math.isfinite(se)
    return Adjusted(
        log_effect if ok else None,
        se if ok else None,
        pd.DataFrame(rows),
        fit,
        des,
        treated_clusters(des) - 1,
        cf,
    )


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
