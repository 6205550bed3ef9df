"""The score's inputs per compound for one window: exposure, posterior rate, trend and shrunk shares.

`build_components` takes what analytics.services.ranking loads (the registry, the window's counts
per compound, the monthly counts) and returns a `Components`: one row per compound with the
posterior (shape, rate) of its rate and every component the score can weigh.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.models.ranking.prior import UNKNOWN_TYPE, beta_prior, fit_prior, overdispersion, size_band

# share component -> (numerator, denominator) count columns
SHARE_INPUTS = {
    "repeat_share": ("repeats", "n_caller"),
    "unresolved_share": ("unresolved", "n_resolved"),
    "dissatisfaction": ("unsatisfied", "n_satisfied"),
}


@dataclass
class Components:
    """Per-compound inputs of the score for one window, plus the fitted model's constants."""

    frame: pd.DataFrame  # one row per compound in the registry
    window: tuple[dt.date, dt.date]
    n_months: int
    dispersion: float  # c in Var(total) = mu + c mu^2 within a compound
    alpha: float
    rate_basis: str  # households / per_compound
    dropped: list[str]
    share_priors: dict[str, tuple[float, float]]


def build_components(
    comp: pd.DataFrame,
    agg: pd.DataFrame,
    monthly: pd.DataFrame,
    window: tuple[dt.date, dt.date],
    months: list[pd.Period],
) -> Components:
    """Counts, exposure, posterior (shape, rate) and the raw components for every compound.

    `comp` is the registry (one row per compound), `agg` the window's counts per compound (tickets,
    recent, n_caller, repeats, n_resolved, unresolved, n_satisfied, unsatisfied), `monthly` the
    valid tickets per compound and month (compound_id, month, n), `months` the window's months
    from the first month with data on.
    """
    n_months = max(1, len(months))
    frame = comp.merge(agg, on="compound_id", how="left")
    count_cols = [
        "tickets",
        "recent",
        "n_caller",
        "repeats",
        "n_resolved",
        "unresolved",
        "n_satisfied",
        "unsatisfied",
    ]
    frame[count_cols] = frame[count_cols].fillna(0).astype(int)
    frame["type"] = frame["type"].fillna(UNKNOWN_TYPE)
    households = pd.to_numeric(frame["households"], errors="coerce").astype(float).where(lambda h: h > 0)
    frame["size_band"] = size_band(households)
    frame["peer_group"] = frame["type"].astype(str) + "·" + frame["size_band"]
    if households.notna().any():
        rate_basis = "households"
        peer_median = households.groupby(frame["type"]).transform("median").fillna(households.median())
        frame["households_imputed"] = households.isna()
        frame["exposure_households"] = households.fillna(peer_median)
        frame["rate_basis"] = np.where(frame["households_imputed"], "imputed_households", "households")
        frame["exposure"] = frame["exposure_households"] / 100.0 * n_months
    else:
        rate_basis = "per_compound"
        frame["households_imputed"] = True
        frame["exposure_households"] = np.nan
        frame["rate_basis"] = "per_compound"
        frame["exposure"] = float(n_months)
    c = overdispersion(monthly, months)
    mu, alpha = fit_prior(frame, c)
    frame["prior_rate"] = mu
    # quasi-likelihood: each compound's counts are worth 1/phi_i Poisson counts, where
    # phi_i = Var/mean of its total = 1 + c * (its expected total)
    expected = 0.5 * (frame["tickets"] + mu * frame["exposure"])
    frame["phi"] = 1.0 + c * expected
    frame["post_shape"] = alpha + frame["tickets"] / frame["phi"]
    frame["post_rate"] = alpha / mu + frame["exposure"] / frame["phi"]
    frame["raw_rate"] = frame["tickets"] / frame["exposure"]
    frame["shrunk_rate"] = frame["post_shape"] / frame["post_rate"]
    frame["shrunk_rate_low"] = stats.gamma.ppf(0.05, frame["post_shape"], scale=1 / frame["post_rate"])
    frame["shrunk_rate_high"] = stats.gamma.ppf(0.95, frame["post_shape"], scale=1 / frame["post_rate"])
    frame["volume"] = frame["tickets"].astype(float)
    earlier = frame["tickets"] - frame["recent"]
    d_recent, d_earlier = frame["recent"].sum(), earlier.sum()
    district = math.log((d_recent + 0.5) / (d_earlier + 0.5)) if len(months) >= 2 else 0.0
    frame["trend"] = np.log((frame["recent"] + 0.5) / (earlier + 0.5)) - district if len(months) >= 2 else 0.0
    # shares are shrunk too (beta-binomial), so a compound with 3 of 5 unsatisfied does not top the list
    priors = {}
    for name, (k_col, n_col) in SHARE_INPUTS.items():
        k, m = frame[k_col].to_numpy(float), frame[n_col].to_numpy(float)
        a, b = priors[name] = beta_prior(k, m)
        frame[f"{name}_raw"] = k / np.where(m > 0, m, np.nan)
        frame[name] = np.where(m > 0, (k + a) / (m + a + b), np.nan)
    dropped = [c for c in ("repeat_share", "unresolved_share", "dissatisfaction") if frame[c].isna().all()]
    if len(months) < 2:
        dropped.append("trend")
    return Components(frame, window, n_months, c, alpha, rate_basis, dropped, priors)
