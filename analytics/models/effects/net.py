"""Displacement netted out: controls from outside the treated compounds' communities, and the net
effect of the task forces on the treated compounds and their same-community neighbours.

A task force may not remove complaints but move them: residents call about the next compound,
or the property company's other compounds in the same community get the problems. Two
consequences for the estimate:

1. Neighbours are not controls. If tickets moved to them, they rose because of the task forces,
   and as controls they would push the in-place estimate too far. `community_rows` gives the
   untreated compounds of every community that has a treated compound; the stacks exclude them.
2. The net effect. One stacked Poisson model (analytics.models.effects.stacking) holds the
   treated cohorts and, as cohorts of their own with the same windows and starts, the untreated
   compounds of each cohort's communities (`neighbour_cohorts`), all against the same controls
   from other communities; the cluster jackknife by compound gives the joint covariance of all
   post effects. With Y the observed post-start tickets of a cohort's treated (T) or neighbour (N)
   compounds and b its log effect, the counterfactual is Y exp(-b) and
       net = (Y_T + Y_N - cf_T - cf_N) / cf_T
   is the change in treated plus neighbours as a share of the treated compounds' counterfactual
   tickets (-30% with no displacement; about -10% when two thirds of the removed tickets reappear
   next door). Its 95% interval is the delta method on the joint covariance (Y held at what
   was observed, as for the in-place effect: estimates.pooled_effect), with the in-place effect's
   t reference (treated compounds - 1 degrees of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.models.effects.estimates import adjusted_effect, t_critical, treated_clusters
from analytics.models.effects.panel import Cohort, Panel
from analytics.models.effects.stacking import build_stacks

MIN_OUTSIDE_CONTROLS = 100  # compounds outside the treated communities needed to bar the neighbours


def community_rows(panel: Panel, cohorts: list[Cohort]) -> set[int]:
    """The untreated compounds in a community that holds a treated compound: never controls.

    Treated compounds of other cohorts are not in it: a later cohort's compounds stay controls
    until their own start (analytics.models.effects.stacking), since leaving them out would keep
    only compounds without a spike in that cohort's window, a control group chosen on its outcomes
    (simulated staggered cohorts: 3 points of bias towards zero)."""
    treated = {r for c in cohorts for r in c.rows}
    if not panel.community:
        return set()
    hot = {panel.community[r] for r in treated if panel.community[r]}
    return {r for r, com in enumerate(panel.community) if com in hot and r not in treated}


def barred_neighbours(panel: Panel, cohorts: list[Cohort]) -> tuple[set[int], bool]:
    """`community_rows` when enough compounds remain outside the treated communities to serve as
    controls (at least MIN_OUTSIDE_CONTROLS and twice the treated), else nothing and False: where
    task forces cover nearly every community the neighbours stay controls and the result says so."""
    rows = community_rows(panel, cohorts)
    treated = {r for c in cohorts for r in c.rows}
    outside = len(panel.compound_ids) - len(treated) - len(rows)
    if outside >= max(MIN_OUTSIDE_CONTROLS, 2 * len(treated)):
        return rows, True
    return set(), False


def neighbour_cohorts(panel: Panel, cohorts: list[Cohort], skip: set[int] | None = None) -> list[Cohort]:
    """Per cohort, the compounds of its treated compounds' communities not treated by then (each
    once); `skip`: rows that are neither (a compound left out for an integrity alarm).

    A compound a later cohort treats is a neighbour until that cohort's start (the stacks censor
    it there, analytics.models.effects.stacking), as it is a control until then: leaving it out
    would keep only the neighbours without a spike in the later cohort's selection window, a
    group chosen on its outcome (simulated staggered cohorts: the net effect 9 points too low)."""
    skipped = set(skip or ())
    out: list[Cohort] = []
    seen: set[int] = set()
    if not panel.community:
        return out
    for c in cohorts:
        treated = {r for k in cohorts if k.first_post <= c.first_post for r in k.rows} | skipped
        comms = {panel.community[r] for r in c.rows if panel.community[r]}
        rows = [
            r for r, com in enumerate(panel.community) if com in comms and r not in treated and r not in seen
        ]
        seen.update(rows)
        out.append(Cohort(c.window_start, c.window_end, c.first_post, c.start, rows))
    return out


@dataclass
class Net:
    effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    neighbours: int  # untreated compounds in the treated compounds' communities
    neighbour_change_pct: float | None  # the neighbours' own change against their counterfactual
    treated_counterfactual: float | None  # tickets the treated would have had over the post months
    moved: float | None  # tickets added at the neighbours (observed - counterfactual)


EMPTY = Net(None, None, None, 0, None, None, None)


def net_effect(
    panel: Panel,
    cohorts: list[Cohort],
    controls: int | str = "auto",
    seed: int = 0,
    exclude: set[int] | None = None,
) -> Net:
    """The net effect (see the module docstring); `exclude`: rows that may not be controls either
    (compounds left out for an integrity alarm)."""
    nb = neighbour_cohorts(panel, cohorts, skip=exclude)
    every = cohorts + [c for c in nb if c.rows]
    n_nb = sum(len(c.rows) for c in nb)
    neighbours, enough = barred_neighbours(panel, cohorts)
    if not enough or not n_nb:
        return Net(None, None, None, n_nb, None, None, None)
    barred = neighbours | set(exclude or ())
    stacks = build_stacks(panel, every, controls=controls, seed=seed, exclude=barred)
    adj = adjusted_effect(panel, every, stacks)
    if adj.fit is None or adj.design is None:
        return Net(None, None, None, n_nb, None, None, None)
    des, fit = adj.design, adj.fit
    n_treated_cohorts = len(cohorts)
    idx, y, is_treated = [], [], []
    for s, st in enumerate(stacks):
        idx.append(fit.index(f"post{st.cohort}"))
        y.append(float(des.y[des.post & (des.stack == s)].sum()))
        is_treated.append(st.cohort < n_treated_cohorts)
    b = fit.params[idx]
    v = fit.cov[np.ix_(idx, idx)]
    y_arr, t = np.array(y), np.array(is_treated)
    cf = y_arr * np.exp(-b)
    den = cf[t].sum()
    if den <= 0:
        return Net(None, None, None, n_nb, None, None, None)
    num = (y_arr - cf).sum()
    grad = np.where(t, cf * (den + num) / den**2, cf / den)
    se = math.sqrt(max(float(grad @ v @ grad), 0.0))
    in_treated = np.isin(des.stack, np.flatnonzero(t))
    crit = t_critical(treated_clusters(des, in_treated) - 1)
    est = num / den
    nb_cf = cf[~t].sum()
    nb_change = round(float(y_arr[~t].sum() / nb_cf - 1) * 100, 1) if nb_cf > 0 else None
    return Net(
        effect_pct=round(100 * est, 1),
        ci_low_pct=round(100 * (est - crit * se), 1),
        ci_high_pct=round(100 * (est + crit * se), 1),
        neighbours=n_nb,
        neighbour_change_pct=nb_change,
        treated_counterfactual=round(float(den), 1),
        moved=round(float((y_arr - cf)[~t].sum()), 1) if (~t).any() else 0.0,
    )
