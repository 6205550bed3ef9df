"""The whole estimate from a panel and its cohorts, as one EffectsResult: the headline figures,
the event study, each compound's counterfactual, the breakdowns and the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.models.effects.breakdowns import _by_category, _cost, _displacement, _per_compound
from analytics.models.effects.estimates import (
    Z95,
    _pct,
    adjusted_effect,
    event_study,
    naive_change,
    placebo_change,
)
from analytics.models.effects.panel import Cohort, Panel, _md
from analytics.models.effects.stacking import build_stacks

METHOD = "stacked Poisson FE (cohort x month FE, selection window excluded, cluster-jackknife SE)"


@dataclass
class EffectsResult:
    treated: int
    controls: int
    selection_window: str | None
    start: str | None
    naive_change_pct: float | None
    placebo_change_pct: float | None
    adjusted_effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    method: str
    event_study: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_cohort: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_compound: pd.DataFrame = field(default_factory=pd.DataFrame)  # long: month series + band
    per_compound_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_category: pd.DataFrame = field(default_factory=pd.DataFrame)
    displacement: pd.DataFrame = field(default_factory=pd.DataFrame)
    cost: dict[str, Any] = field(default_factory=dict)
    naive_detail: dict[str, Any] = field(default_factory=dict)
    placebo_detail: dict[str, Any] = field(default_factory=dict)
    # what loading and estimating found: {"code": ..., values...}, worded by analytics.reports
    notes: list[dict[str, Any]] = field(default_factory=list)
    cohorts: int = 1  # task-force cohorts (start and selection window) in the estimate

    def as_json(self) -> dict[str, Any]:
        return {
            "treated": self.treated,
            "controls": self.controls,
            "selection_window": self.selection_window,
            "start": self.start,
            "naive_change_pct": self.naive_change_pct,
            "placebo_change_pct": self.placebo_change_pct,
            "adjusted_effect_pct": self.adjusted_effect_pct,
            "ci_low_pct": self.ci_low_pct,
            "ci_high_pct": self.ci_high_pct,
            "method": self.method,
        }

    @property
    def crosses_zero(self) -> bool | None:
        if self.ci_low_pct is None or self.ci_high_pct is None:
            return None
        return self.ci_low_pct <= 0 <= self.ci_high_pct


def estimate(
    panel: Panel,
    cohorts: list[Cohort],
    notes: list[dict[str, Any]],
    controls: int | str = "auto",
    seed: int = 0,
    details: bool = True,
    by_category: bool = True,
    *,
    by_cat: dict[str, np.ndarray] | None = None,
    names: dict[str, str] | None = None,
    total_cost: Any = None,
) -> EffectsResult:
    """Naive, placebo and adjusted effects of `cohorts` (see the package docstring).

    notes: what loading found, shown with the result (the notes of this estimate are added).
    controls, seed, details, by_category: as in analytics.services.effects.estimate_effects.
    With details: by_cat is the panel's counts per complaint category (empty: no by-category
    table), names the compounds' names, total_cost the cost logged for the treated compounds.
    """
    stacks = build_stacks(panel, cohorts, controls=controls, seed=seed)
    naive, naive_detail = naive_change(panel, cohorts)
    placebo, placebo_detail = placebo_change(panel, cohorts)
    adj = adjusted_effect(panel, cohorts, stacks)
    treated_rows = sorted({r for c in cohorts for r in c.rows})
    control_rows = sorted({int(r) for st in stacks for r in st.controls})
    first = cohorts[0]
    windows = sorted({(c.window_start, c.window_end) for c in cohorts})
    window_text = f"{_md(windows[0][0]):%Y-%m}:{_md(windows[-1][1]):%Y-%m}"
    if adj.log_effect is not None:
        est = _pct(adj.log_effect)
        lo, hi = _pct(adj.log_effect - Z95 * adj.se), _pct(adj.log_effect + Z95 * adj.se)
    else:
        est = lo = hi = None
        notes.append({"code": "no_adjusted"})
    if len(stacks) < len(cohorts):
        notes.append({"code": "dropped_cohorts", "n": len(cohorts) - len(stacks)})
    res = EffectsResult(
        treated=len(treated_rows),
        controls=len(control_rows),
        selection_window=window_text,
        start=min(c.start for c in cohorts).isoformat() if cohorts else first.start.isoformat(),
        naive_change_pct=naive,
        placebo_change_pct=placebo,
        adjusted_effect_pct=est,
        ci_low_pct=lo,
        ci_high_pct=hi,
        method=METHOD
        if len(cohorts) == 1
        else METHOD.replace("stacked", f"stacked ({len(cohorts)} cohorts)"),
        by_cohort=adj.by_cohort,
        naive_detail=naive_detail,
        placebo_detail=placebo_detail,
        notes=notes,
        cohorts=len(cohorts),
    )
    if details:
        res.event_study = event_study(panel, cohorts, stacks)
        res.per_compound, res.per_compound_summary = _per_compound(panel, cohorts, stacks, adj, names or {})
        if by_category:
            res.by_category = _by_category(panel, cohorts, stacks, by_cat or {})
            res.displacement = _displacement(panel, cohorts, seed)
        res.cost = _cost(adj, total_cost)
    return res
