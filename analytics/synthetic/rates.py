"""Compound-level rates and over-dispersion.

Every compound has a persistent complaint rate per household: a gamma-distributed propensity
(shape `RATE_SHAPE`, mean 1) times a multiplier for its type and age - what a ranking should
find. On top of it come transient shocks (a burst pipe, a fight with the property company: real,
but gone after six months, so regression to the mean is real) and gamma month-to-month noise.
Per-ticket propensities (resolution, repeat calls, satisfaction) are beta-distributed per
compound. Each helper draws from the caller's generator, so each generator keeps its own order
of draws; the parameters of the demo district and of the simulated districts differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATE_SHAPE = 2.0  # gamma shape of the persistent per-household rate (CV ~0.7)

# the demo district
TYPE_RATE = {"商开": 1.0, "还建": 1.4, "家属院": 1.25, "混合": 1.1}
OLD_RATE = 1.35
SHOCK_PROB = 0.15  # chance that a compound has a shock in a given half-year
SHOCK_RANGE = (2.0, 3.5)
MONTH_NOISE_SHAPE = 20.0  # gamma noise per compound-month (CV ~0.22)
RESOLVE_BETA = (9, 2)  # per-compound share of tickets resolved (mean ~0.82)
REPEAT_BETA = (2.0, 8.0)  # per-compound share of tickets from its frequent callers (mean 0.2)

# simulated districts (analytics.synthetic.simulate) and in-memory panels (effects_sim)
SIM_TYPE_RATE = {"商开": 1.0, "还建": 1.4, "家属院": 1.2, "混合": 1.1}
SIM_OLD_RATE = 1.3
SIM_SHOCK_PROB = 0.12
SIM_SHOCK_RANGE = (1.8, 3.2)  # multiplier of a shock half-year
SIM_MONTH_NOISE_SHAPE = 25.0  # gamma noise per compound-month (CV 0.2)
SIM_REPEAT_BETA = (2, 18)
SIM_UNRESOLVED_BETA = (2, 10)
SIM_DISSATISFACTION_BETA = (2, 8)


def propensity(rng: np.random.Generator, n: int, shape: float = RATE_SHAPE) -> np.ndarray:
    """The persistent gamma propensity per compound (mean 1)."""
    return rng.gamma(shape, 1.0 / shape, n)


def kind_multiplier(types: pd.Series, is_old, type_rate: dict[str, float], old_rate: float) -> np.ndarray:
    """Resettlement and old compounds complain more: the rate multiplier of each compound's type and age."""
    return types.map(type_rate).to_numpy() * np.where(is_old, old_rate, 1.0)


def half_year_shocks(
    rng: np.random.Generator, n: int, n_halves: int, prob: float, multiplier: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(shocked [compound, half-year], multiplier: uniform in `multiplier` where shocked, else 1)."""
    shocked = rng.random((n, n_halves)) < prob
    return shocked, np.where(shocked, rng.uniform(*multiplier, shocked.shape), 1.0)


def rolling_shocks(
    rng: np.random.Generator,
    n: int,
    n_months: int,
    first_month: int,
    prob: float,
    multiplier: tuple[float, float],
    aligned: bool,
) -> np.ndarray:
    """Six-month shocks [compound, month]: per calendar half-year (`aligned`) or starting in any month.

    `first_month` is the month of year (1..12) of column 0; unaligned shocks start with chance
    prob / 6 a month, so they can straddle a window.
    """
    shock = np.ones((n, n_months))
    months_per_start = 6 if aligned else 1
    first_start = -((first_month - 1) % 6) if aligned else -5
    for start in range(first_start, n_months, months_per_start):
        hit = rng.random(n) < (prob if aligned else prob / 6)
        mult = rng.uniform(*multiplier, hit.sum())
        lo, hi = max(start, 0), min(start + 6, n_months)
        shock[hit, lo:hi] *= mult[:, None]
    return shock


def month_noise(rng: np.random.Generator, shape: float, size) -> np.ndarray:
    """Gamma month-to-month noise with mean 1 (CV 1/sqrt(shape))."""
    return rng.gamma(shape, 1.0 / shape, size)
