"""The empirical-Bayes prior of the ranking: peer groups, over-dispersion, the Poisson-Gamma fit, beta priors.

Rates are shrunk towards similar compounds: the prior mean of a compound's rate comes from a
Poisson GLM with exposure over type, size band and is_old, the gamma shape from the method of
moments, after the within-compound over-dispersion measured from the monthly counts. Shares are
shrunk towards the district share with a beta prior by moments.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

# households bands used for peer groups (upper bounds inclusive)
SIZE_BANDS: tuple[tuple[float, str], ...] = (
    (300, "≤300户"),
    (800, "301-800户"),
    (1500, "801-1500户"),
    (math.inf, ">1500户"),
)
UNKNOWN_BAND = "户数未知"
UNKNOWN_TYPE = "类型未知"
# block lengths (months) over which within-compound over-dispersion is measured; the largest wins
PHI_BLOCKS = (1, 3, 6)
MIN_ALPHA_INV = 1e-3


def size_band(households: pd.Series) -> pd.Series:
    out = pd.Series(UNKNOWN_BAND, index=households.index, dtype=object)
    known = households.notna() & (households > 0)
    lower = 0.0
    for upper, label in SIZE_BANDS:
        out[known & (households > lower) & (households <= upper)] = label
        lower = upper
    return out


def overdispersion(monthly: pd.DataFrame, months: list[pd.Period]) -> float:
    """Relative variance `c` of a compound's window total beyond Poisson: Var(total) = mu + c * mu^2.

    Half-year shocks and month-to-month noise multiply a compound's rate, so their variance grows
    with the square of its mean (a quasi-Poisson constant would under-cover large compounds). For
    blocks of 1, 3 and 6 months, kappa (relative variance per block) is estimated by moments from
    each compound's block counts around its own total x the district's seasonal share, and
    converted to the window total (c = kappa * sum of squared block shares); the largest c wins,
    since half-year shocks show up only at the half-year scale. 0 means pure Poisson.
    """
    if monthly.empty or len(months) < 2:
        return 0.0
    wide = monthly.pivot_table(index="compound_id", columns="month", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[m.start_time for m in months], fill_value=0).to_numpy(float)
    found = [0.0]
    for length in PHI_BLOCKS:
        n_blocks = len(months) // length
        if n_blocks < 2:
            continue
        blocks = wide[:, : n_blocks * length].reshape(len(wide), n_blocks, length).sum(axis=2)
        totals = blocks.sum(axis=1)
        keep = totals > 0
        if keep.sum() < 5:
            continue
        share = blocks[keep].sum(axis=0) / blocks[keep].sum()
        expected = totals[keep, None] * share[None, :]
        # E[sum (y_b - T s_b)^2] ~ (1 - 1/B) * sum (e_b + kappa e_b^2)
        squares = ((blocks[keep] - expected) ** 2).sum() / (1.0 - 1.0 / n_blocks)
        kappa = (squares - expected.sum()) / (expected**2).sum()
        found.append(kappa * float((share**2).sum()))
    return float(max(found))


def fit_prior(frame: pd.DataFrame, c: float) -> tuple[np.ndarray, float]:
    """Prior mean rate per compound (Poisson GLM with exposure) and the common gamma shape alpha."""
    # the GLM module alone: statsmodels.api imports far more and costs a first visitor ~0.25 s
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    y = frame["tickets"].to_numpy(float)
    exposure = frame["exposure"].to_numpy(float)
    design = pd.get_dummies(frame[["type", "size_band"]].astype(str), drop_first=True, dtype=float)
    design["is_old"] = frame["is_old"].fillna(False).astype(float)
    design = design.loc[:, design.std() > 0]
    design.insert(0, "const", 1.0)
    mu = np.full(len(frame), y.sum() / exposure.sum())
    if len(frame) >= 20 and design.shape[1] > 1:
        # the covariates are categorical, so the Poisson likelihood depends on the data only
        # through the totals per design cell (at most a few dozen): fit on those, same estimate
        x = design.to_numpy()
        cells, cell_of = np.unique(x, axis=0, return_inverse=True)
        cell_of = cell_of.ravel()
        y_cell = np.bincount(cell_of, weights=y, minlength=len(cells))
        e_cell = np.bincount(cell_of, weights=exposure, minlength=len(cells))
        try:
            # with as many cells as parameters the fit is exact: statsmodels then warns about
            # perfect prediction and a zero residual scale, neither of which the prior uses
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", PerfectSeparationWarning)
                fit = GLM(y_cell, cells, family=families.Poisson(), exposure=e_cell).fit()
            mu = np.asarray(fit.predict(cells, exposure=np.ones(len(cells))))[cell_of]
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            pass  # intercept-only prior: still a valid shrinkage target
    expected = mu * exposure
    # Var(y) = e + c e^2 (within compound) + e^2 / alpha (between compounds)
    alpha_inv = ((y - expected) ** 2 - expected - c * expected**2).sum() / max((expected**2).sum(), 1e-12)
    return mu, 1.0 / max(alpha_inv, MIN_ALPHA_INV)


def beta_prior(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Beta(a, b) prior of a share across units by the method of moments (beta-binomial).

    Falls back to Jeffreys (0.5, 0.5) when there is too little data or no excess variation.
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    keep = n > 0
    if keep.sum() < 5 or n[keep].sum() <= 0:
        return 0.5, 0.5
    m = k[keep].sum() / n[keep].sum()
    if m <= 0 or m >= 1:
        return 0.5, 0.5
    p = k[keep] / n[keep]
    w = n[keep] / n[keep].sum()
    between = float((w * (p - m) ** 2).sum() - m * (1 - m) * (w / n[keep]).sum())
    if between <= 1e-9:
        return 0.5, 0.5
    strength = max(m * (1 - m) / between - 1.0, 1.0)
    return m * strength, (1 - m) * strength
