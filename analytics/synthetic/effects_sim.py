"""Simulated districts with task forces, for checking the effect estimates against a known truth.

A compound's monthly tickets are Poisson around
    rate_i (persistent: gamma propensity x log-normal size) x season(month of year) x shock_it
    x gamma noise x effect_it,
where shocks are transient half-year surges (a burst pipe, a dispute with the property company)
that end by themselves: aligned to calendar half-years as in analytics.synthetic.simulate, or starting in
any month. Task forces go to the compounds with the most tickets in a selection window; because
surges end anyway, their tickets fall afterwards even with no effect (regression to the mean).
`effect` is the true multiplicative change (-0.3 = 30% fewer tickets); it may also be a function
of months since start, and waves may start at different months. Unlike analytics.synthetic.simulate this
works in memory, so hundreds of districts can be estimated in seconds.

- `simulate(...) -> SimDistrict` (panels as numpy arrays, task forces, the realised truth)
- `write_store(con, sim, seed=0, with_taskforces=True)` loads compounds, tickets and task forces
- `to_panel(sim)` gives the estimator's in-memory inputs (a Panel and a Cohort list)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.models.effects.panel import Cohort, Panel
from analytics.store import db
from analytics.synthetic.categories import PANEL_CATEGORIES, PANEL_CATEGORY_WEIGHTS
from analytics.synthetic.rates import (
    SIM_MONTH_NOISE_SHAPE,
    SIM_SHOCK_PROB,
    SIM_SHOCK_RANGE,
    month_noise,
    propensity,
    rolling_shocks,
)
from analytics.synthetic.registry import panel_communities, panel_compound_ids, panel_registry
from analytics.synthetic.seasons import PANEL_SEASON, add_months, normalised
from analytics.synthetic.taskforces import Effect, effect_multiplier, top_n
from analytics.synthetic.tickets import N_MONTHS, START, expand_counts


@dataclass
class Wave:
    """One round of task forces: ranked on [window_start, window_end], moving in at `start` (month indices)."""

    window_start: int
    window_end: int
    start: int
    n_treated: int
    effect: Effect = 0.0


@dataclass
class SimDistrict:
    first_month: dt.date
    compound_ids: list[str]
    community: list[str]
    counts: np.ndarray  # (compounds, months) observed tickets
    expected_cf: np.ndarray  # (compounds, months) expected tickets without any task force
    expected: np.ndarray  # (compounds, months) expected tickets with the task forces' effect
    taskforces: pd.DataFrame  # compound_id, wave, start_date, selection_start, selection_end
    waves: list[Wave]
    # realised effect over the treated compounds' first 12 months: their expected tickets with the
    # effect over those without, summed over the waves, i.e. the waves' ratios weighted by their
    # counterfactual post tickets (the estimator's definition: estimates.pooled_effect)
    truth_pct: float
    truth_by_wave: list[float] = field(default_factory=list)
    # treated plus same-community neighbours over the treated compounds' counterfactual (%); equals
    # truth_pct when nothing is displaced
    net_truth_pct: float = float("nan")

    def month(self, k: int) -> dt.date:
        return add_months(self.first_month, k)

    def month_end(self, k: int) -> dt.date:
        return self.month(k + 1) - dt.timedelta(days=1)


def simulate(
    n_compounds: int = 1105,
    n_months: int = N_MONTHS,
    waves: Sequence[Wave] | None = None,
    effect: Effect = 0.0,
    seed: int = 0,
    first_month: dt.date = START,
    mean_rate: float = 26.0,
    shock_prob: float = SIM_SHOCK_PROB,
    shock_range: tuple[float, float] = SIM_SHOCK_RANGE,
    aligned_shocks: bool = True,
    noise_shape: float = SIM_MONTH_NOISE_SHAPE,
    horizon: int = 12,
    displacement: float = 0.0,
) -> SimDistrict:
    """A district; by default one wave: top 65 of months 12-17 move in at month 18, effect `effect`.

    Persistent rate: gamma(2) propensity x log-normal household count (as in analytics.synthetic.simulate).
    Shocks: with `aligned_shocks` each calendar half-year has a `shock_prob` chance of a surge of
    x`shock_range`; otherwise a surge may start in any month (then it can straddle a window).
    `displacement`: the share of the tickets a task force removes that reappear, month by month,
    at the untreated compounds of the same community (in proportion to their expected tickets).
    """
    rng = np.random.default_rng(seed)
    if waves is None:
        waves = [Wave(12, 17, 18, 65, effect)]
    size = np.exp(rng.normal(-0.245, 0.7, n_compounds))  # mean 1
    rate = mean_rate * propensity(rng, n_compounds) * size
    month_of_year = (first_month.month - 1 + np.arange(n_months)) % 12
    season = normalised(PANEL_SEASON)[month_of_year]
    shock = rolling_shocks(
        rng, n_compounds, n_months, first_month.month, shock_prob, shock_range, aligned_shocks
    )
    noise = month_noise(rng, noise_shape, (n_compounds, n_months))
    expected_cf = rate[:, None] * season[None, :] * shock * noise
    counts_cf = rng.poisson(expected_cf)

    multiplier = np.ones((n_compounds, n_months))
    treated_any = np.zeros(n_compounds, dtype=bool)
    rows = []
    wave_idx = np.full(n_compounds, -1)
    for w, wave in enumerate(waves):
        window = counts_cf[:, wave.window_start : wave.window_end + 1].sum(axis=1).astype(float)
        window[treated_any] = -1
        chosen = top_n(window, wave.n_treated)
        treated_any[chosen] = True
        wave_idx[chosen] = w
        since = np.arange(n_months) - wave.start
        mult = np.where(since >= 0, effect_multiplier(wave.effect, np.maximum(since, 0)), 1.0)
        multiplier[chosen] = mult[None, :]
        for i in chosen:
            rows.append((i, w))
    expected = expected_cf * multiplier
    ids = panel_compound_ids(n_compounds)
    communities = panel_communities(n_compounds)
    if displacement:
        removed = np.where(treated_any[:, None], np.maximum(expected_cf - expected, 0.0), 0.0)
        comm = pd.Series(communities)
        for members in comm.groupby(comm).groups.values():
            members = np.asarray(members)
            gone = removed[members].sum(axis=0)
            takers = members[~treated_any[members]]
            if not gone.any() or not len(takers):
                continue
            share = expected_cf[takers] / expected_cf[takers].sum(axis=0, keepdims=True)
            expected[takers] += displacement * gone[None, :] * share
        multiplier = np.where(expected_cf > 0, expected / np.where(expected_cf > 0, expected_cf, 1.0), 1.0)
    # thin the no-effect counts so a compound's noise is shared between the two worlds
    counts = np.where(multiplier < 1, rng.binomial(counts_cf, np.minimum(multiplier, 1.0)), counts_cf)
    up = multiplier > 1
    if up.any():
        counts = counts + np.where(up, rng.poisson(np.maximum(expected - expected_cf, 0)), 0)

    sim = SimDistrict(
        first_month, ids, communities, counts, expected_cf, expected, pd.DataFrame(), list(waves), 0.0
    )
    tf = []
    for i, w in rows:
        wave = waves[w]
        tf.append(
            {
                "compound_id": ids[i],
                "wave": w,
                "start_date": sim.month(wave.start),
                "selection_start": sim.month(wave.window_start),
                "selection_end": sim.month_end(wave.window_end),
            }
        )
    sim.taskforces = pd.DataFrame(tf)
    # truth: ratio of expected tickets with vs without the effect over each wave's first `horizon`
    # months, sum_w cf_w r_w / sum_w cf_w (cf_w: the wave's expected tickets without the effect)
    num = den = 0.0
    by_wave = []
    for w, wave in enumerate(waves):
        members = wave_idx == w
        cols = slice(wave.start, min(wave.start + horizon, n_months))
        a, b = expected[members, cols].sum(), expected_cf[members, cols].sum()
        by_wave.append(100 * (a / b - 1) if b else float("nan"))
        num, den = num + a, den + b
    sim.truth_pct = 100 * (num / den - 1) if den else float("nan")
    sim.truth_by_wave = by_wave
    # net: treated and their communities' untreated compounds, over each wave's horizon
    moved = 0.0
    comm = np.array(communities)
    for w, wave in enumerate(waves):
        members = wave_idx == w
        nb = np.isin(comm, comm[members]) & ~treated_any
        cols = slice(wave.start, min(wave.start + horizon, n_months))
        moved += expected[nb, cols].sum() - expected_cf[nb, cols].sum()
    sim.net_truth_pct = 100 * (num - den + moved) / den if den else float("nan")
    return sim


def write_store(
    con: duckdb.DuckDBPyConnection, sim: SimDistrict, seed: int = 0, with_taskforces: bool = True
) -> int:
    """Load the simulated registry, one ticket row per count, and (optionally) the task forces.

    Returns the number of tickets written. Tickets get a category and a time inside their month.
    """
    rng = np.random.default_rng(seed)
    n_m = sim.counts.shape[1]
    compounds = panel_registry(sim.compound_ids, sim.community)
    comp_idx, month_idx = expand_counts(sim.counts)
    total = len(comp_idx)
    month_starts = np.array([np.datetime64(sim.month(k)) for k in range(n_m + 1)], dtype="datetime64[s]")
    span = (month_starts[month_idx + 1] - month_starts[month_idx]).astype(np.int64)
    created = month_starts[month_idx] + (rng.random(total) * span).astype("timedelta64[s]")
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"S{k:08d}" for k in range(total)],
            "created_at": created,
            "category": np.array(PANEL_CATEGORIES)[
                rng.choice(len(PANEL_CATEGORIES), total, p=PANEL_CATEGORY_WEIGHTS)
            ],
            "compound_id": np.array(sim.compound_ids)[comp_idx],
        }
    )
    with db.transaction(con) as cur:
        cur.register("sim_compounds", compounds)
        cur.execute(
            "INSERT INTO compounds (compound_id, name, community, subdistrict) "
            "SELECT compound_id, name, community, subdistrict FROM sim_compounds"
        )
        cur.register("sim_tickets", tickets)
        cur.execute(
            "INSERT INTO tickets (ticket_id, created_at, category, compound_id, batch_id) "
            "SELECT ticket_id, created_at, category, compound_id, 0 FROM sim_tickets"
        )
        if with_taskforces:
            for rec in sim.taskforces.itertuples(index=False):
                tf_id = db.next_id(cur, "seq_taskforce")
                cur.execute(
                    "INSERT INTO task_forces (taskforce_id, compound_id, leader, start_date, selection_start, "
                    "selection_end, exit_months) VALUES (?, ?, ?, ?, ?, ?, 3)",
                    [
                        tf_id,
                        rec.compound_id,
                        f"领导{tf_id % 38 + 1}",
                        rec.start_date,
                        rec.selection_start,
                        rec.selection_end,
                    ],
                )
        cur.unregister("sim_compounds")
        cur.unregister("sim_tickets")
    return total


def to_panel(sim: SimDistrict) -> tuple[Panel, list[Cohort]]:
    """The simulated counts and waves as the estimator's in-memory inputs (no store needed)."""

    first = sim.first_month.year * 12 + sim.first_month.month - 1
    panel = Panel(list(sim.compound_ids), first, sim.counts.astype(float), list(sim.community))
    pos = {c: i for i, c in enumerate(sim.compound_ids)}
    cohorts = []
    for w, wave in enumerate(sim.waves):
        rows = [pos[c] for c in sim.taskforces.loc[sim.taskforces["wave"] == w, "compound_id"]]
        cohorts.append(
            Cohort(
                first + wave.window_start,
                first + wave.window_end,
                first + wave.start,
                sim.month(wave.start),
                rows,
            )
        )
    return panel, cohorts
