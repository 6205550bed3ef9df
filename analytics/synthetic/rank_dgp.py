"""Simulated districts with a known answer for the posterior ranking (analytics.models.ranking.posterior).

`simulate_rank_district(process, seed)` builds, in memory, a district of `n_compounds` compounds
(default 1,105) with monthly valid-ticket counts for `process.months` months ending with
`LAST_MONTH`, the registry the ranking reads (type, is_old, built_year, households; about 5% of
households unknown), the share counts (repeat calls, unresolved, dissatisfied) and the truth.

Each compound's monthly mean is

    lambda_it = base_i x households_i / 100 x season(month) x M_it x noise_it

- base_i: persistent rate per 100 households: a gamma propensity times its type and age
  multiplier and a size effect (larger compounds complain a little less per household);
- M_it: the compound's transient deviations, by `process.kind`: six-month shocks that start with
  the calendar half-years (`half_year`) or in any month (`rolling`), or a stationary monthly AR(1)
  on the log scale (`ar1`, with `process.rho`);
- noise_it: white gamma noise, mean 1.

The truth is `expected_next12`: the expected tickets of the 12 months after the data, given
everything that has happened up to the last month (the shocks under way and the AR state), that
is sum over the next 12 months of E[lambda | state] - the next 12 months' mean, not realised
counts. `persistent_next12` is the long-run version (12 months at the compound's average
multiplier). Registry households are hidden for ~5% of compounds; the truth uses the real ones.
Deterministic for a given (process, seed, n_compounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.synthetic.rates import SIM_OLD_RATE, SIM_TYPE_RATE, propensity
from analytics.synthetic.registry import sim_compounds
from analytics.synthetic.seasons import SIM_SEASONAL, normalised

LAST_MONTH = pd.Period("2024-06", freq="M")
HORIZON = 12
TICKETS_PER_YEAR = 350_000.0
HOUSEHOLDS_LOG_MEDIAN = np.log(450.0)
HOUSEHOLDS_SIGMA = 0.9  # wider than the demo registry: tiny and huge compounds both occur
HOUSEHOLDS_RANGE = (8, 9000)
SIZE_ELASTICITY = -0.15  # per-household rate falls a little with size
MISSING_HOUSEHOLDS = 0.05
TINY_SHARE = 0.02
HUGE_SHARE = 0.01
SHOCK_RANGE = (1.8, 3.2)
SHARE_SIGNAL_BETA = {"repeat": (2.0, 18.0), "unresolved": (2.0, 10.0), "dissatisfied": (2.0, 8.0)}
RESOLVED_ASKED = 0.9  # share of tickets with a resolved flag
SATISFACTION_ASKED = 0.3  # share of tickets with a satisfaction answer


@dataclass(frozen=True)
class Process:
    """One data-generating process of the transient deviations."""

    name: str
    kind: str  # half_year | rolling | ar1
    months: int = 24
    shock_prob: float = 0.12  # per compound and half-year (rolling: spread over six start months)
    rho: float = 0.0  # ar1: monthly autocorrelation of the log deviation
    ar_sd: float = 0.4  # ar1: stationary sd of the log deviation
    noise_shape: float = 25.0  # white gamma noise per compound-month (CV 0.2)
    share_signal: bool = True  # shares differ between compounds (else one district-wide share)
    shock_months: int = 6  # length of a shock (half_year / rolling)


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process("half_year", "half_year", share_signal=True),
        Process("rolling", "rolling", share_signal=False),
        Process("ar1_050", "ar1", rho=0.5, share_signal=True),
        Process("ar1_085", "ar1", rho=0.85, share_signal=False),
        Process("ar1_085_12m", "ar1", months=12, rho=0.85, share_signal=True),
    )
}
# shocks of other lengths, never used to choose a constant: reported beside PROCESSES as a check
# of shapes the model was not tuned on
UNTUNED_PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process("rolling_3m", "rolling", shock_months=3, shock_prob=0.2, share_signal=False),
        Process("rolling_12m", "rolling", shock_months=12, shock_prob=0.08, share_signal=True),
    )
}


@dataclass
class RankDistrict:
    """A simulated district: what the ranking reads and what it should find."""

    process: Process
    seed: int
    registry: pd.DataFrame  # compound_id, name, type, is_old, built_year, households (NaN = unknown)
    months: list[pd.Period]
    counts: np.ndarray  # compounds x months, valid tickets
    shares: pd.DataFrame  # compound_id, repeats, n_caller, unresolved, n_resolved, unsatisfied, n_satisfied
    truth: pd.DataFrame  # compound_id, households, expected_next12, persistent_next12, share probabilities

    @property
    def monthly(self) -> pd.DataFrame:
        """Long form (compound_id, month, n) with no row for a month without tickets, as the store gives it."""
        i, t = np.nonzero(self.counts)
        return pd.DataFrame(
            {
                "compound_id": self.registry["compound_id"].to_numpy()[i],
                "month": pd.PeriodIndex(self.months, freq="M").to_timestamp()[t],
                "n": self.counts[i, t],
            }
        )

    def raw_count(self, months: int) -> pd.Series:
        """Tickets of the last `months` months (all of them when fewer), by compound_id."""
        return pd.Series(self.counts[:, -months:].sum(axis=1), index=self.registry["compound_id"])

    def true_top(self, n: int = 65, column: str = "expected_next12") -> set[str]:
        return set(self.truth.nlargest(n, column)["compound_id"])


def _shocks(
    rng: np.random.Generator, n: int, first: pd.Period, n_total: int, n_data: int, proc: Process
) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier [compound, month] over data and horizon, its expectation given the data months' state).

    A shock lasts `shock_months` (six by default); aligned shocks start with the calendar
    half-years (chance `shock_prob`), rolling ones in any month (chance shock_prob / 6), so they
    straddle windows.
    """
    aligned = proc.kind == "half_year"
    step = 6 if aligned else 1
    prob = proc.shock_prob if aligned else proc.shock_prob / 6
    mean_mult = 1.0 + prob * (np.mean(SHOCK_RANGE) - 1.0)
    path = np.ones((n, n_total))
    expected = np.ones((n, n_total))
    first_start = -((first.month - 1) % 6) if aligned else -(proc.shock_months - 1)
    for start in range(first_start, n_total, step):
        hit = rng.random(n) < prob
        mult = rng.uniform(*SHOCK_RANGE, n)
        lo, hi = max(start, 0), min(start + proc.shock_months, n_total)
        if hi <= lo:
            continue
        factor = np.where(hit, mult, 1.0)[:, None]
        path[:, lo:hi] *= factor
        if start < n_data:  # under way when the data end: known
            expected[:, lo:hi] *= factor
        else:  # starts after the data: only its expectation is known
            expected[:, lo:hi] *= mean_mult
    return path, expected


def _ar1(
    rng: np.random.Generator, n: int, n_total: int, n_data: int, proc: Process
) -> tuple[np.ndarray, np.ndarray]:
    """Stationary log-AR(1) multiplier with mean 1 and its expectation given the last data month."""
    sd, rho = proc.ar_sd, proc.rho
    a = np.empty((n, n_total))
    a[:, 0] = rng.normal(0.0, sd, n)
    innov = sd * np.sqrt(1.0 - rho**2)
    for t in range(1, n_total):
        a[:, t] = rho * a[:, t - 1] + rng.normal(0.0, innov, n)
    path = np.exp(a - sd**2 / 2)
    expected = path.copy()
    h = np.arange(1, n_total - n_data + 1)
    last = a[:, n_data - 1][:, None]
    # E[exp(a_{T+h})|a_T] = exp(rho^h a_T + sd^2 (1 - rho^2h) / 2)
    expected[:, n_data:] = np.exp(rho**h * last + sd**2 * (1 - rho ** (2 * h)) / 2 - sd**2 / 2)
    return path, expected


def simulate_rank_district(
    process: Process | str, seed: int, n_compounds: int = 1105, tickets_per_year: float = TICKETS_PER_YEAR
) -> RankDistrict:
    proc = {**PROCESSES, **UNTUNED_PROCESSES}[process] if isinstance(process, str) else process
    rng = np.random.default_rng([seed, sum(map(ord, proc.name))])
    reg = sim_compounds(rng, n_compounds)
    n = len(reg)
    households = np.clip(
        np.round(rng.lognormal(HOUSEHOLDS_LOG_MEDIAN, HOUSEHOLDS_SIGMA, n)), *HOUSEHOLDS_RANGE
    ).astype(float)
    # a few tiny (a single building) and huge (a whole new town) compounds in every district
    tiny, huge = rng.random(n) < TINY_SHARE, rng.random(n) < HUGE_SHARE
    households[tiny] = rng.integers(8, 30, tiny.sum())
    households[huge] = rng.integers(4000, 9000, huge.sum())
    kind = reg["type"].map(SIM_TYPE_RATE).to_numpy() * np.where(reg["is_old"], SIM_OLD_RATE, 1.0)
    base = kind * propensity(rng, n) * (households / np.exp(HOUSEHOLDS_LOG_MEDIAN)) ** SIZE_ELASTICITY
    base *= tickets_per_year / 12.0 / float((base * households / 100.0).sum())

    months = list(pd.period_range(LAST_MONTH - proc.months + 1, LAST_MONTH, freq="M"))
    n_total = proc.months + HORIZON
    all_months = list(pd.period_range(months[0], periods=n_total, freq="M"))
    season = normalised(SIM_SEASONAL)[np.array([p.month for p in all_months]) - 1]
    if proc.kind == "ar1":
        path, expected = _ar1(rng, n, n_total, proc.months, proc)
        stationary = np.ones(n)
    else:
        path, expected = _shocks(rng, n, months[0], n_total, proc.months, proc)
        stationary = np.full(n, 1.0 + proc.shock_prob * proc.shock_months / 6 * (np.mean(SHOCK_RANGE) - 1.0))
    level = base * households / 100.0
    lam = level[:, None] * season[None, :] * path
    if proc.noise_shape:
        lam = lam * rng.gamma(proc.noise_shape, 1.0 / proc.noise_shape, lam.shape)
    counts = rng.poisson(lam[:, : proc.months])
    future = slice(proc.months, n_total)
    truth = pd.DataFrame(
        {
            "compound_id": reg["compound_id"],
            "households": households,
            "expected_next12": (level[:, None] * season[None, future] * expected[:, future]).sum(axis=1),
            "persistent_next12": level * season[future].sum() * stationary,
        }
    )

    totals = counts.sum(axis=1)
    probs = {}
    for name, (a, b) in SHARE_SIGNAL_BETA.items():
        probs[name] = rng.beta(a, b, n) if proc.share_signal else np.full(n, a / (a + b))
        truth[f"{name}_share"] = probs[name]
    n_resolved = rng.binomial(totals, RESOLVED_ASKED)
    n_satisfied = rng.binomial(totals, SATISFACTION_ASKED)
    shares = pd.DataFrame(
        {
            "compound_id": reg["compound_id"],
            "n_caller": totals,
            "repeats": rng.binomial(totals, probs["repeat"]),
            "n_resolved": n_resolved,
            "unresolved": rng.binomial(n_resolved, probs["unresolved"]),
            "n_satisfied": n_satisfied,
            "unsatisfied": rng.binomial(n_satisfied, probs["dissatisfied"]),
        }
    )
    registry = reg[["compound_id", "name", "community", "subdistrict", "type", "is_old", "built_year"]].copy()
    registry["households"] = np.where(rng.random(n) < MISSING_HOUSEHOLDS, np.nan, households)
    return RankDistrict(proc, seed, registry, months, counts, shares, truth)
