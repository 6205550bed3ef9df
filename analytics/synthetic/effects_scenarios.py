"""The effect estimates' simulation study: ten simulated worlds with a known truth, run the way the
dashboard runs them (analytics.models.effects.result.estimate on a panel and its cohorts).

Worlds (analytics.synthetic.effects_sim; 1,105 compounds, 30 months from 2022-01, task forces on
the top 65 of a selection window; half-year surges that end by themselves):

- null, minus15, minus30, minus50: a constant effect from the start;
- ramp: the effect builds from 0 to -50% over the first 12 months (the 12-month average is not
  the effect at the end);
- heterogeneous: two cohorts, -50% and 0%, different windows and starts;
- staggered: two cohorts of -30% starting six months apart;
- displacement: -30%, and 30% of the removed tickets reappear at the untreated compounds of the
  same community (the in-place effect is -30%, the net effect about -21%);
- split: -30%, and five treated compounds are split in the registry from month 22, so their
  tickets stop matching and their counts fall to zero (the integrity alarm must catch it);
- window12: -30% with a 12-month selection window, recorded as such.

`run(scenario, seed)` returns one row: the truths (in place, net), the adjusted, net and
empirical-Bayes estimates with their intervals, the naive figure and which compounds the
integrity alarms left out. `study(seeds)` stacks the rows; `summary(rows)` gives per world and
estimate the mean bias, the 95% coverage and the mean width of the intervals (percentage points).
Forty districts measure a true 95% coverage only to within about 3.5 points (binomial standard
error), and the worlds share their seeds (null, minus15, minus30, minus50, ramp and displacement
differ only in the effect), so they tend to miss in the same districts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.models.effects.result import estimate
from analytics.synthetic.effects_sim import Wave, simulate, to_panel

SPLIT_COMPOUNDS = 5
SPLIT_MONTH = 22  # month index (2023-11) from which the split compounds' tickets go unmatched


def ramp(since: np.ndarray) -> np.ndarray:
    """-50% reached after 12 months, linearly from the start."""
    return -0.5 * np.minimum(np.asarray(since) + 1, 12) / 12


@dataclass(frozen=True)
class Scenario:
    name: str
    simulate: dict[str, Any] = field(default_factory=dict)
    split: int = 0  # treated compounds whose tickets go unmatched from SPLIT_MONTH


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("null", {"effect": 0.0}),
    Scenario("minus15", {"effect": -0.15}),
    Scenario("minus30", {"effect": -0.30}),
    Scenario("minus50", {"effect": -0.50}),
    Scenario("ramp", {"effect": ramp}),
    Scenario("heterogeneous", {"waves": [Wave(6, 11, 12, 33, -0.5), Wave(12, 17, 18, 32, 0.0)]}),
    Scenario("staggered", {"waves": [Wave(6, 11, 12, 33, -0.3), Wave(12, 17, 18, 32, -0.3)]}),
    Scenario("displacement", {"effect": -0.30, "displacement": 0.3}),
    Scenario("split", {"effect": -0.30}, split=SPLIT_COMPOUNDS),
    Scenario("window12", {"waves": [Wave(6, 17, 18, 65, -0.3)]}),
)
BY_NAME = {s.name: s for s in SCENARIOS}

# (estimate, its truth) compared in `summary`
ESTIMATES: dict[str, str] = {"adjusted": "truth", "net": "net_truth", "eb": "truth"}


def run(
    scenario: Scenario,
    seed: int,
    eb: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """One simulated district of `scenario`, estimated as the dashboard estimates it.

    `eb`: the empirical-Bayes before-after (analytics.models.effects.eb.eb_before_after) when the
    row should carry it."""
    sim = simulate(seed=seed, **scenario.simulate)
    panel, cohorts = to_panel(sim)
    split_rows: list[int] = []
    if scenario.split:
        split_rows = list(cohorts[0].rows[: scenario.split])
        panel.counts[split_rows, SPLIT_MONTH:] = 0.0
    res = estimate(panel, cohorts, [], details=False)
    left_out = set()
    if not res.integrity.empty:
        left_out = set(res.integrity.loc[res.integrity["exclude"], "compound_id"])
    row = {
        "scenario": scenario.name,
        "seed": seed,
        "truth": sim.truth_pct,
        "net_truth": sim.net_truth_pct,
        "naive": res.naive_change_pct,
        "placebo": res.placebo_change_pct,
        "adjusted": res.adjusted_effect_pct,
        "adjusted_low": res.ci_low_pct,
        "adjusted_high": res.ci_high_pct,
        "net": res.net_effect_pct,
        "net_low": res.net_ci_low_pct,
        "net_high": res.net_ci_high_pct,
        "split_flagged": all(panel.compound_ids[r] in left_out for r in split_rows) if split_rows else None,
        "false_exclusions": len(left_out - {panel.compound_ids[r] for r in split_rows}),
    }
    if eb is not None:
        out = eb(panel, cohorts, seed=seed)
        row.update(eb=out.effect_pct, eb_low=out.ci_low_pct, eb_high=out.ci_high_pct)
    return row


def study(
    seeds: Iterable[int], names: Iterable[str] | None = None, eb: Callable[..., Any] | None = None
) -> pd.DataFrame:
    chosen = [BY_NAME[n] for n in names] if names is not None else list(SCENARIOS)
    return pd.DataFrame([run(s, seed, eb) for s in chosen for seed in seeds])


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per world and estimate: runs, mean truth, mean estimate, mean bias, 95% coverage and the
    mean interval width."""
    out = []
    for name, group in rows.groupby("scenario", sort=False):
        for est, truth_col in ESTIMATES.items():
            if est not in group or group[est].isna().all():
                continue
            g = group.dropna(subset=[est, f"{est}_low", f"{est}_high"])
            covered = (g[f"{est}_low"] <= g[truth_col]) & (g[truth_col] <= g[f"{est}_high"])
            out.append(
                {
                    "scenario": name,
                    "estimate": est,
                    "runs": len(g),
                    "truth": round(float(g[truth_col].mean()), 1),
                    "mean": round(float(g[est].mean()), 1),
                    "bias": round(float((g[est] - g[truth_col]).mean()), 1),
                    "coverage": round(float(covered.mean()), 2),
                    "width": round(float((g[f"{est}_high"] - g[f"{est}_low"]).mean()), 1),
                }
            )
    return pd.DataFrame(out)
