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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.models.effects.panel import Cohort, Panel
from analytics.store import db

# month-of-year multipliers: summer water/power peak, Spring Festival dip (Feb), heating season
SEASON = np.array([1.10, 0.80, 0.95, 1.00, 1.05, 1.15, 1.30, 1.25, 1.05, 0.95, 1.00, 1.15])
CATEGORIES = ("物业管理", "供暖供水", "噪音扰民", "停车管理", "环境卫生", "房屋质量")
CATEGORY_WEIGHTS = np.array([0.30, 0.20, 0.15, 0.15, 0.12, 0.08])
COMPOUNDS_PER_COMMUNITY = 11

Effect = float | Callable[[np.ndarray], np.ndarray]


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
    truth_pct: float  # realised effect over the treated compounds' first 12 months (ratio of expectations)
    truth_by_wave: list[float] = field(default_factory=list)

    def month(self, k: int) -> dt.date:
        n = self.first_month.year * 12 + self.first_month.month - 1 + k
        return dt.date(n // 12, n % 12 + 1, 1)

    def month_end(self, k: int) -> dt.date:
        return self.month(k + 1) - dt.timedelta(days=1)


def _effect_multiplier(effect: Effect, since: np.ndarray) -> np.ndarray:
    if callable(effect):
        return 1.0 + np.asarray(effect(since), dtype=float)
    return np.full(since.shape, 1.0 + float(effect))


def simulate(
    n_compounds: int = 1105,
    n_months: int = 30,
    waves: Sequence[Wave] | None = None,
    effect: Effect = 0.0,
    seed: int = 0,
    first_month: dt.date = dt.date(2022, 1, 1),
    mean_rate: float = 26.0,
    shock_prob: float = 0.12,
    shock_range: tuple[float, float] = (1.8, 3.2),
    aligned_shocks: bool = True,
    noise_shape: float = 25.0,
    horizon: int = 12,
) -> SimDistrict:
    """A district; by default one wave: top 65 of months 12-17 move in at month 18, effect `effect`.

    Persistent rate: gamma(2) propensity x log-normal household count (as in analytics.synthetic.simulate).
    Shocks: with `aligned_shocks` each calendar half-year has a `shock_prob` chance of a surge of
    x`shock_range`; otherwise a surge may start in any month (then it can straddle a window).
    """
    rng = np.random.default_rng(seed)
    if waves is None:
        waves = [Wave(12, 17, 18, 65, effect)]
    size = np.exp(rng.normal(-0.245, 0.7, n_compounds))  # mean 1
    rate = mean_rate * rng.gamma(2.0, 0.5, n_compounds) * size
    month_of_year = (first_month.month - 1 + np.arange(n_months)) % 12
    season = SEASON[month_of_year] / SEASON.mean()
    shock = np.ones((n_compounds, n_months))
    months_per_start = 6 if aligned_shocks else 1
    first_start = -((first_month.month - 1) % 6) if aligned_shocks else -5
    for start in range(first_start, n_months, months_per_start):
        hit = rng.random(n_compounds) < (shock_prob if aligned_shocks else shock_prob / 6)
        mult = rng.uniform(*shock_range, hit.sum())
        lo, hi = max(start, 0), min(start + 6, n_months)
        shock[hit, lo:hi] *= mult[:, None]
    noise = rng.gamma(noise_shape, 1 / noise_shape, (n_compounds, n_months))
    expected_cf = rate[:, None] * season[None, :] * shock * noise
    counts_cf = rng.poisson(expected_cf)

    multiplier = np.ones((n_compounds, n_months))
    treated_any = np.zeros(n_compounds, dtype=bool)
    rows = []
    wave_idx = np.full(n_compounds, -1)
    for w, wave in enumerate(waves):
        window = counts_cf[:, wave.window_start : wave.window_end + 1].sum(axis=1).astype(float)
        window[treated_any] = -1
        chosen = np.argsort(-window, kind="stable")[: wave.n_treated]
        treated_any[chosen] = True
        wave_idx[chosen] = w
        since = np.arange(n_months) - wave.start
        mult = np.where(since >= 0, _effect_multiplier(wave.effect, np.maximum(since, 0)), 1.0)
        multiplier[chosen] = mult[None, :]
        for i in chosen:
            rows.append((i, w))
    expected = expected_cf * multiplier
    # thin the no-effect counts so a compound's noise is shared between the two worlds
    counts = np.where(multiplier < 1, rng.binomial(counts_cf, np.minimum(multiplier, 1.0)), counts_cf)
    up = multiplier > 1
    if up.any():
        counts = counts + np.where(up, rng.poisson(np.maximum(expected - expected_cf, 0)), 0)

    ids = [f"C{i + 1:04d}" for i in range(n_compounds)]
    communities = [f"社区{i // COMPOUNDS_PER_COMMUNITY + 1:03d}" for i in range(n_compounds)]
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
    # truth: ratio of expected tickets with vs without the effect over each wave's first `horizon` months
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
    return sim


def write_store(
    con: duckdb.DuckDBPyConnection, sim: SimDistrict, seed: int = 0, with_taskforces: bool = True
) -> int:
    """Load the simulated registry, one ticket row per count, and (optionally) the task forces.

    Returns the number of tickets written. Tickets get a category and a time inside their month.
    """
    rng = np.random.default_rng(seed)
    n_c, n_m = sim.counts.shape
    compounds = pd.DataFrame(
        {
            "compound_id": sim.compound_ids,
            "name": [f"模拟小区{i + 1:04d}" for i in range(n_c)],
            "community": sim.community,
            "subdistrict": [f"街道{(i // 300) + 1}" for i in range(n_c)],
        }
    )
    flat = sim.counts.ravel()
    total = int(flat.sum())
    comp_idx = np.repeat(np.repeat(np.arange(n_c), n_m), flat)
    month_idx = np.repeat(np.tile(np.arange(n_m), n_c), flat)
    month_starts = np.array([np.datetime64(sim.month(k)) for k in range(n_m + 1)], dtype="datetime64[s]")
    span = (month_starts[month_idx + 1] - month_starts[month_idx]).astype(np.int64)
    created = month_starts[month_idx] + (rng.random(total) * span).astype("timedelta64[s]")
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"S{k:08d}" for k in range(total)],
            "created_at": created,
            "category": np.array(CATEGORIES)[rng.choice(len(CATEGORIES), total, p=CATEGORY_WEIGHTS)],
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
