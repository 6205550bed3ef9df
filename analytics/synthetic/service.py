"""How well the demo district's tickets were handled: response, resolution, satisfaction.

A district's service rates are never flat. Units respond late or not at all when they are
swamped (the heating season, the summer water and power peak, the weeks around the Spring
Festival), some subdistrict offices are better run than others, and the district gets a little
better every year once the rates are published. So in the demo:

- a ticket goes unanswered (status 未响应, never closed) with a probability that is the
  subdistrict's base rate x the month's load x a yearly improvement x subdistrict-month noise:
  about 1-3% a month district-wide, i.e. a 响应率 of roughly 97-99%;
- a ticket is resolved with the compound's own propensity shifted on the log-odds scale by the
  month of the year, the subdistrict, a yearly improvement and subdistrict-month noise:
  about 86-92% a month;
- satisfaction follows resolution (a resolved ticket is mostly 满意 or 基本满意, an unresolved
  one mostly 不满意), so it dips in the same months.

All draws come from the generator the caller passes (the demo's service stream), so the ticket
counts, the task forces and everything the effects are estimated from do not move when these
parameters are tuned.
"""

from __future__ import annotations

import numpy as np

from analytics.synthetic.registry import SUBDISTRICTS

UNRESPONDED_STATUS = "未响应"
# share of tickets a subdistrict's units leave unanswered in an average month of the first year
UNRESPONDED_BASE = {"兰山街道": 0.011, "银雀山街道": 0.015, "金雀山街道": 0.024, "柳青街道": 0.018}
# month-of-year load (Jan..Dec): heating, the Spring Festival, the summer peak
UNRESPONDED_MONTH = (1.25, 1.45, 0.95, 0.7, 0.7, 0.85, 1.2, 1.4, 0.8, 0.7, 1.1, 1.35)
UNRESPONDED_YEARLY = 0.82  # x this each year: the district pushes its units
# log-odds shift of a compound's resolution propensity (Beta(9, 2), mean ~0.82)
RESOLVE_SHIFT = 0.45
RESOLVE_MONTH = (-0.2, -0.15, 0.0, 0.15, 0.15, 0.05, -0.15, -0.2, 0.1, 0.15, -0.05, -0.25)
RESOLVE_SUBDISTRICT = {"兰山街道": 0.15, "银雀山街道": 0.0, "金雀山街道": -0.15, "柳青街道": 0.05}
RESOLVE_YEARLY = 0.12  # log-odds gained per year
# gamma shape of the subdistrict-month noise on the unanswered share (CV ~0.35), and the sd of
# the subdistrict-month noise on resolution's log-odds
NOISE_SHAPE = 8.0
RESOLVE_NOISE_SD = 0.08
# cumulative satisfaction (满意, 基本满意 | 不满意) of resolved and unresolved tickets
SATISFACTION_CUTS_RESOLVED = (0.72, 0.95)
SATISFACTION_CUTS_UNRESOLVED = (0.12, 0.42)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def subdistrict_index(subdistricts) -> np.ndarray:
    """Position of each subdistrict name in SUBDISTRICTS."""
    order = {s: i for i, s in enumerate(SUBDISTRICTS)}
    return np.array([order[s] for s in subdistricts], dtype=np.int64)


def unanswered(
    rng: np.random.Generator, sub: np.ndarray, month: np.ndarray, first_month: int, n_months: int
) -> np.ndarray:
    """Which tickets no unit ever answered; `sub`, `month` are each ticket's subdistrict index and
    month index (0 = the first month, whose month of year is `first_month`)."""
    base = np.array([UNRESPONDED_BASE[s] for s in SUBDISTRICTS])
    moy = (first_month - 1 + np.arange(n_months)) % 12
    load = np.array(UNRESPONDED_MONTH)[moy] * UNRESPONDED_YEARLY ** (np.arange(n_months) / 12)
    noise = rng.gamma(NOISE_SHAPE, 1.0 / NOISE_SHAPE, (len(SUBDISTRICTS), n_months))
    p = np.clip(base[:, None] * load[None, :] * noise, 0.0, 0.2)
    return rng.random(len(sub)) < p[sub, month]


def resolve_probability(
    rng: np.random.Generator,
    propensity: np.ndarray,
    sub: np.ndarray,
    month: np.ndarray,
    first_month: int,
    n_months: int,
) -> np.ndarray:
    """Each ticket's chance of being resolved: its compound's `propensity` shifted by month of
    year, subdistrict, year and subdistrict-month noise."""
    moy = (first_month - 1 + np.arange(n_months)) % 12
    by_month = np.array(RESOLVE_MONTH)[moy] + RESOLVE_YEARLY * np.arange(n_months) / 12
    by_sub = np.array([RESOLVE_SUBDISTRICT[s] for s in SUBDISTRICTS])
    noise = rng.normal(0.0, RESOLVE_NOISE_SD, (len(SUBDISTRICTS), n_months))
    shift = RESOLVE_SHIFT + by_sub[:, None] + by_month[None, :] + noise
    return _expit(_logit(propensity) + shift[sub, month])


def satisfaction_level(resolved: np.ndarray, u: np.ndarray) -> np.ndarray:
    """0 满意, 1 基本满意, 2 不满意 from a uniform draw `u`, by whether the ticket was resolved."""
    return np.where(
        resolved,
        np.searchsorted(SATISFACTION_CUTS_RESOLVED, u, side="right"),
        np.searchsorted(SATISFACTION_CUTS_UNRESOLVED, u, side="right"),
    )
