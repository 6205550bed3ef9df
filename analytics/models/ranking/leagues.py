"""League tables of property companies, communities and subdistricts; party-branch stars against complaints."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import NotFound
from analytics.models.ranking.components import Components
from analytics.models.ranking.prior import MIN_ALPHA_INV
from analytics.models.ranking.score import N_DRAWS, RANK_INTERVAL

GROUP_LEAGUES = {
    "property_company": "property_company",
    "community": "community",
    "subdistrict": "subdistrict",
}
LEAGUE_TAIL = 0.10  # top / bottom 10% of the league


def league_table(
    comps: Components, by: str, n_draws: int = N_DRAWS, seed: int = 0, tail: float = LEAGUE_TAIL
) -> pd.DataFrame:
    """League table of the `by` groups (one of `GROUP_LEAGUES`) by the same method as the compounds.

    Valid tickets per 100 households per month of the compounds each group holds, shrunk towards
    the all-group mean (Poisson-Gamma, prior by moments, the same within-compound dispersion as
    the compound ranking), with a 90% interval of the rate, a 90% rank interval and the
    probability of being in the worst / best `tail` share. Rank 1 = most complaints. Groups with
    no households on record rank by tickets per compound-month instead (rate_basis).
    """
    f = comps.frame[comps.frame[by].notna()]
    if f.empty:
        raise NotFound("没有可排名的对象（名录中缺少该字段）。", f"Nothing to rank: no compound has a {by}.")
    g = f.groupby(by).agg(
        compounds=("compound_id", "size"),
        households=("exposure_households", "sum"),
        tickets=("tickets", "sum"),
        exposure=("exposure", "sum"),
        repeats=("repeats", "sum"),
        n_caller=("n_caller", "sum"),
    )
    g = g[g["exposure"] > 0]
    y, e = g["tickets"].to_numpy(float), g["exposure"].to_numpy(float)
    m = y.sum() / e.sum()
    c = comps.dispersion
    # a group's total over its compounds: relative noise shrinks with the number of compounds
    phi = 1.0 + c * y / np.maximum(g["compounds"].to_numpy(float), 1.0)
    expected = m * e
    alpha_inv = ((y - expected) ** 2 - phi * expected).sum() / max((expected**2).sum(), 1e-12)
    alpha = 1.0 / max(alpha_inv, MIN_ALPHA_INV)
    shape, rate = alpha + y / phi, alpha / m + e / phi
    g["raw_rate"] = y / e
    g["shrunk_rate"] = shape / rate
    g["rate_low"] = stats.gamma.ppf(0.05, shape, scale=1 / rate)
    g["rate_high"] = stats.gamma.ppf(0.95, shape, scale=1 / rate)
    rng = np.random.default_rng(seed)
    draws = rng.gamma(shape, 1 / rate, (n_draws, len(g)))
    order = np.argsort(-draws, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, len(g) + 1), order.shape), axis=1)
    k = max(1, int(math.ceil(tail * len(g))))
    g["rank_low"] = np.floor(np.quantile(ranks, RANK_INTERVAL[0], axis=0)).astype(int)
    g["rank_high"] = np.ceil(np.quantile(ranks, RANK_INTERVAL[1], axis=0)).astype(int)
    g["p_worst"] = (ranks <= k).mean(axis=0)
    g["p_best"] = (ranks > len(g) - k).mean(axis=0)
    g["repeat_share"] = g["repeats"] / g["n_caller"].where(g["n_caller"] > 0)
    g = g.sort_values(["shrunk_rate", "tickets"], ascending=[False, False]).reset_index()
    g["rank"] = np.arange(1, len(g) + 1)
    g["tail"] = np.where(
        g["rank"] <= k, "后10%（投诉最多）", np.where(g["rank"] > len(g) - k, "前10%（投诉最少）", "")
    )
    g["rate_basis"] = comps.rate_basis
    if comps.rate_basis != "households":
        g["households"] = np.nan
    g = g.rename(columns={by: "key"})
    g.attrs.update(by=by, window=(str(comps.window[0]), str(comps.window[1])), alpha=alpha, tail=tail)
    cols = ["rank", "key", "compounds", "households", "tickets", "raw_rate", "shrunk_rate", "rate_low",
            "rate_high", "rank_low", "rank_high", "p_worst", "p_best", "tail", "repeat_share", "rate_basis"]  # fmt: skip
    return g[cols]


@dataclass
class StarsVsRate:
    """Party-branch stars against the compounds' complaint rate in the same half-year.

    table: per star level, compounds, mean and median shrunk rate with a 95% t-interval of the mean.
    spearman: rank correlation of stars and shrunk rate over compounds, with a 95% interval by the
    Fisher z transform (se = 1.06 / sqrt(n - 3), Fieller et al.). Negative = more stars, fewer complaints.
    """

    table: pd.DataFrame
    spearman: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    period: str


def stars_table(comps: Components, stars: pd.DataFrame, period: str) -> StarsVsRate:
    """Stars (compound_id, stars) of `period` against the shrunk rates in `comps`."""
    f = comps.frame.merge(stars, on="compound_id", how="inner")
    table = f.groupby("stars")["shrunk_rate"].agg(["size", "mean", "median", "std"]).reset_index()
    table = table.rename(columns={"size": "compounds", "mean": "mean_rate", "median": "median_rate"})
    half = (
        stats.t.ppf(0.975, np.maximum(table["compounds"] - 1, 1)) * table["std"] / np.sqrt(table["compounds"])
    )
    table["mean_low"], table["mean_high"] = table["mean_rate"] - half, table["mean_rate"] + half
    n = len(f)
    rho = lo = hi = None
    if n >= 5 and f["stars"].nunique() > 1:
        rho = float(stats.spearmanr(f["stars"], f["shrunk_rate"]).statistic)
        se = 1.06 / math.sqrt(n - 3)
        z = math.atanh(max(min(rho, 0.999999), -0.999999))
        lo, hi = math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se)
    return StarsVsRate(table.drop(columns="std"), rho, lo, hi, n, str(period))
