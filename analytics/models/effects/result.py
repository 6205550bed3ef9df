"""The whole estimate from a panel and its cohorts, as one EffectsResult: the headline figures,
the event study, each compound's counterfactual, the breakdowns and the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import HotlineError
from analytics.models.effects.breakdowns import _by_category, _cost, _displacement, _per_compound
from analytics.models.effects.eb import eb_before_after
from analytics.models.effects.estimates import _pct, adjusted_effect, event_study, naive_change
from analytics.models.effects.integrity import excluded_rows, integrity_flags
from analytics.models.effects.net import barred_neighbours, net_effect
from analytics.models.effects.panel import Cohort, Panel, _md
from analytics.models.effects.placebo import fake_start_placebo, naive_like_placebo, permutation_placebo
from analytics.models.effects.pretrend import effect_path, path_end, pretrend_test
from analytics.models.effects.stacking import build_stacks

METHOD = (
    "stacked Poisson FE (cohort x month FE, selection window excluded, controls outside the treated "
    "compounds' communities, cohorts pooled on the ratio scale with baseline weights, cluster-jackknife SE)"
)
# the empirical-Bayes notes a reader is told (the others are about its internals)
EB_NOTES = {
    "eb_few_reference",
    "eb_short_before",
    "eb_dropped_cohorts",
    "eb_cpf_not_converged",
    "eb_no_interval",
}
SENSITIVITY_WINDOWS = (6, 12, 18)  # selection-window lengths the sensitivity table tries (months)
PERMUTATION_DRAWS = 40  # placebo re-runs of the adjusted estimator kept with the detailed result
EB_BOOTSTRAP = 300  # refits of the empirical-Bayes interval (0.5 s at district scale)


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
    # treated plus same-community neighbours, as % of the treated compounds' counterfactual
    net_effect_pct: float | None = None
    net_ci_low_pct: float | None = None
    net_ci_high_pct: float | None = None
    net_detail: dict[str, Any] = field(default_factory=dict)
    # the empirical-Bayes before-after (Hauer), beside the stacked model
    eb_effect_pct: float | None = None
    eb_ci_low_pct: float | None = None
    eb_ci_high_pct: float | None = None
    eb_per_compound: pd.DataFrame = field(default_factory=pd.DataFrame)
    selection_window_source: str = "given"  # given (an import's window) or snapshot
    # what the method reports when nothing happened: a fake start and random untreated compounds
    fake_start: dict[str, Any] = field(default_factory=dict)
    permutation: dict[str, Any] = field(default_factory=dict)
    # the adjusted effect for other selection-window lengths (months, effect, interval)
    window_sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    # data breaks that would pass for an effect (analytics.models.effects.integrity), with names
    integrity: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the joint pre-trend test (wild cluster score bootstrap) and the effect month by month
    pretrend: dict[str, Any] = field(default_factory=dict)
    path: pd.DataFrame = field(default_factory=pd.DataFrame)
    path_end: dict[str, Any] = field(default_factory=dict)
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
            "net_effect_pct": self.net_effect_pct,
            "net_ci_low_pct": self.net_ci_low_pct,
            "net_ci_high_pct": self.net_ci_high_pct,
            "eb_effect_pct": self.eb_effect_pct,
            "eb_ci_low_pct": self.eb_ci_low_pct,
            "eb_ci_high_pct": self.eb_ci_high_pct,
            "selection_window_source": self.selection_window_source,
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
    window_source: str = "given",
    registry_events: pd.DataFrame | None = None,
    match_rates: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
) -> EffectsResult:
    """Naive, placebo, adjusted (in place) and net effects of `cohorts` (see the package docstring).

    notes: what loading found, shown with the result (the notes of this estimate are added).
    controls, seed, details, by_category: as in analytics.services.effects.estimate_effects.
    With details: by_cat is the panel's counts per complaint category (empty: no by-category
    table), names the compounds' names, total_cost the cost logged for the treated compounds.
    window_source: where the selection windows came from (given or snapshot).
    registry_events, match_rates: for the integrity alarms (analytics.models.effects.integrity);
    treated compounds whose counts broke off are left out of every figure and named.
    covariates: the registry (households, type, is_old, built_year by compound_id) for the
    empirical-Bayes before-after's performance function.
    """
    flags = integrity_flags(panel, cohorts, registry_events, match_rates)
    dropped = set(excluded_rows(flags, panel))
    if dropped:
        notes.append({"code": "integrity_excluded", "n": len(dropped)})
        cohorts = [
            Cohort(
                c.window_start, c.window_end, c.first_post, c.start, [r for r in c.rows if r not in dropped]
            )
            for c in cohorts
        ]
        cohorts = [c for c in cohorts if c.rows]
    # the treated compounds' communities are never controls: tickets may have moved there
    neighbours, barred = barred_neighbours(panel, cohorts)
    if not barred:
        notes.append({"code": "neighbours_in_controls"})
    stacks = build_stacks(panel, cohorts, controls=controls, seed=seed, exclude=neighbours | dropped)
    naive, naive_detail = naive_change(panel, cohorts)
    placebo, placebo_detail = naive_like_placebo(panel, cohorts)
    if placebo is None and placebo_detail.get("reason") == "no_room":
        notes.append(
            {
                "code": "placebo_no_room",
                "needed": placebo_detail["months_needed"],
                "available": placebo_detail["months_available"],
            }
        )
    adj = adjusted_effect(panel, cohorts, stacks)
    net = net_effect(panel, cohorts, controls=controls, seed=seed, exclude=dropped)
    treated_rows = sorted({r for c in cohorts for r in c.rows})
    control_rows = sorted({int(r) for st in stacks for r in st.controls})
    first = cohorts[0]
    windows = sorted({(c.window_start, c.window_end) for c in cohorts})
    window_text = f"{_md(windows[0][0]):%Y-%m}:{_md(windows[-1][1]):%Y-%m}"
    bounds = adj.interval()
    if bounds is not None:
        est = _pct(adj.log_effect)
        lo, hi = _pct(bounds[0]), _pct(bounds[1])
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
        else METHOD.replace("stacked", f"stacked ({len(cohorts)} cohorts)", 1),
        by_cohort=adj.by_cohort,
        naive_detail=naive_detail,
        placebo_detail=placebo_detail,
        notes=notes,
        cohorts=len(cohorts),
        net_effect_pct=net.effect_pct,
        net_ci_low_pct=net.ci_low_pct,
        net_ci_high_pct=net.ci_high_pct,
        net_detail={
            "neighbours": net.neighbours,
            "neighbour_change_pct": net.neighbour_change_pct,
            "treated_counterfactual": net.treated_counterfactual,
            "moved": net.moved,
        },
        selection_window_source=window_source,
        integrity=_named(flags, panel, names or {}),
    )
    _add_eb(res, panel, cohorts, covariates, seed)
    if details:
        res.pretrend = pretrend_test(panel, cohorts, stacks, seed=seed)
        res.path = effect_path(panel, cohorts, stacks, seed=seed)
        res.path_end = path_end(res.path) if len(res.path) else {}
        res.event_study = event_study(panel, cohorts, stacks)
        res.per_compound, res.per_compound_summary = _per_compound(panel, cohorts, stacks, adj, names or {})
        if by_category:
            res.by_category = _by_category(panel, cohorts, stacks, by_cat or {})
            res.displacement = _displacement(panel, cohorts, seed)
        res.cost = _cost(adj, total_cost)
        res.fake_start = fake_start_placebo(panel, cohorts, controls=controls, seed=seed) or {}
        res.permutation = permutation_placebo(
            panel, cohorts, n=PERMUTATION_DRAWS, seed=seed, controls=controls
        )
        res.window_sensitivity = window_sensitivity(panel, cohorts, controls, seed)
    return res


def _add_eb(
    res: EffectsResult, panel: Panel, cohorts: list[Cohort], covariates: pd.DataFrame | None, seed: int
) -> None:
    """The empirical-Bayes before-after beside the stacked model (its notes join the result's)."""
    try:
        eb = eb_before_after(panel, cohorts, covariates, n_boot=EB_BOOTSTRAP, seed=seed)
    except HotlineError:
        res.notes.append({"code": "eb_no_reference"})
        return
    except (np.linalg.LinAlgError, ValueError):  # the reference model cannot be fitted on these data
        res.notes.append({"code": "eb_cpf_not_converged"})
        return
    res.eb_effect_pct, res.eb_ci_low_pct, res.eb_ci_high_pct = eb.effect_pct, eb.ci_low_pct, eb.ci_high_pct
    res.eb_per_compound = eb.per_compound
    res.notes.extend(n for n in eb.notes if n.get("code") in EB_NOTES)


def _named(flags: pd.DataFrame, panel: Panel, names: dict[str, str]) -> pd.DataFrame:
    """The integrity flags with each compound's name (empty for district-wide rows)."""
    if flags.empty:
        return flags.assign(compound_name=pd.Series(dtype=object))
    return flags.assign(compound_name=[names.get(c, c) if c else "" for c in flags["compound_id"]])


def window_sensitivity(panel: Panel, cohorts: list[Cohort], controls: int | str, seed: int) -> pd.DataFrame:
    """The adjusted effect had the selection windows been `SENSITIVITY_WINDOWS` months long (each
    ending where the stored one ends), beside the stored one: a window assumed too short leaves
    part of the selection spike in the baseline and exaggerates the fall. `reason` says why a
    window has no estimate: 'before_data' (no month of data before it, the baseline),
    'no_estimate' (too few baseline months or controls left)."""
    rows = []
    for months in SENSITIVITY_WINDOWS:
        moved = [
            Cohort(c.window_end - months + 1, c.window_end, c.first_post, c.start, list(c.rows))
            for c in cohorts
        ]
        stacks = build_stacks(
            panel, moved, controls=controls, seed=seed, exclude=barred_neighbours(panel, moved)[0]
        )
        adj = adjusted_effect(panel, moved, stacks)
        bounds = adj.interval()
        rows.append(
            {
                "window_months": months,
                "stored": all(c.window_len == months for c in cohorts),
                "effect_pct": _pct(adj.log_effect) if bounds else None,
                "ci_low_pct": _pct(bounds[0]) if bounds else None,
                "ci_high_pct": _pct(bounds[1]) if bounds else None,
                "reason": None
                if bounds
                else ("before_data" if any(c.window_start <= 0 for c in moved) else "no_estimate"),
            }
        )
    return pd.DataFrame(rows)


def estimate_from_panel(
    panel: Panel, cohorts: list[Cohort], controls: int | str = "auto", seed: int = 0
) -> dict[str, Any]:
    """The headline figures straight from a panel (simulations and tests): naive, placebo, the
    in-place adjusted effect against controls outside the treated communities, and the net effect."""
    stacks = build_stacks(
        panel, cohorts, controls=controls, seed=seed, exclude=barred_neighbours(panel, cohorts)[0]
    )
    naive, _ = naive_change(panel, cohorts)
    placebo, _ = naive_like_placebo(panel, cohorts)
    adj = adjusted_effect(panel, cohorts, stacks)
    net = net_effect(panel, cohorts, controls=controls, seed=seed)
    out: dict[str, Any] = {"naive": naive, "placebo": placebo, "net": net.effect_pct, "net_low": net.ci_low_pct,
                           "net_high": net.ci_high_pct}  # fmt: skip
    bounds = adj.interval()
    if bounds is None:
        return {**out, "effect": None, "low": None, "high": None}
    return {
        **out,
        "effect": _pct(adj.log_effect),
        "low": _pct(bounds[0]),
        "high": _pct(bounds[1]),
        "log_effect": adj.log_effect,
        "se": adj.se,
    }
