"""Star ratings of compounds (half-yearly) and property companies' evaluations (quarterly).

Compounds with fewer complaints per household tend to rate higher, companies whose compounds
complain more score lower; both with noise per period. In the demo the task forces also lift
their compounds' stars once they are in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATING_PERIODS = ("2022H1", "2022H2", "2023H1", "2023H2", "2024H1")
EVALUATION_QUARTERS = tuple(f"{y}Q{q}" for y in (2022, 2023) for q in (1, 2, 3, 4)) + ("2024Q1", "2024Q2")


def ratings(rng: np.random.Generator, truth: pd.DataFrame, treated_ids: set[str]) -> pd.DataFrame:
    """Stars: compounds with fewer complaints per household tend to rate higher; noise per period."""
    quality = pd.Series(-truth["rate"].to_numpy()).rank(pct=True).to_numpy()
    base = np.digitize(quality, [0.1, 0.3, 0.6, 0.85]) + 1  # 1..5
    rows = []
    treated = truth["compound_id"].isin(treated_ids).to_numpy()
    for i, period in enumerate(RATING_PERIODS):
        jitter = rng.choice([-1, 0, 1], len(truth), p=(0.12, 0.76, 0.12))
        boost = np.where(treated & (i >= 3), 1, 0)  # task forces also rebuild the party branch
        stars = np.clip(base + jitter + boost, 1, 5)
        rows.append(
            pd.DataFrame(
                {"compound_id": truth["compound_id"], "period": period, "stars": stars.astype("int32")}
            )
        )
    return pd.concat(rows, ignore_index=True)


def evaluations(
    rng: np.random.Generator, compounds: pd.DataFrame, truth: pd.DataFrame, companies: list[str]
) -> pd.DataFrame:
    """Quarterly scores: companies whose compounds complain more score lower; top/bottom 10% listed."""
    per = pd.DataFrame({"company": compounds["property_company"], "rate": truth["rate"]}).dropna()
    mean_rate = per.groupby("company")["rate"].mean().reindex(companies).fillna(per["rate"].mean())
    base = 92 - 12 * (mean_rate.to_numpy() / per["rate"].mean() - 1)
    rows = []
    for quarter in EVALUATION_QUARTERS:
        score = np.clip(np.round(base + rng.normal(0, 3, len(companies)), 1), 40, 100)
        lo, hi = np.quantile(score, [0.1, 0.9])
        listed = np.where(score >= hi, "红榜", np.where(score <= lo, "黑榜", None))
        rows.append(pd.DataFrame({"company": companies, "quarter": quarter, "score": score, "list": listed}))
    return pd.concat(rows, ignore_index=True)


def sim_ratings(
    rng: np.random.Generator, comp: pd.DataFrame, base_rate: np.ndarray, periods: list[pd.Period]
) -> pd.DataFrame:
    """A simulated district's stars: they fall with the compound's complaint rate (noisy); 5 stars = best."""
    halves = sorted({f"{p.year}H{1 if p.month <= 6 else 2}" for p in periods})
    z = (np.log(base_rate) - np.log(base_rate).mean()) / np.log(base_rate).std()
    ratings = []
    for half in halves:
        stars = np.clip(np.round(3 - 0.8 * z + rng.normal(0, 0.8, len(comp))), 1, 5).astype(int)
        ratings.append(pd.DataFrame({"compound_id": comp["compound_id"], "period": half, "stars": stars}))
    return pd.concat(ratings, ignore_index=True)


def sim_evaluations(
    rng: np.random.Generator, comp: pd.DataFrame, periods: list[pd.Period]
) -> pd.DataFrame | None:
    """A simulated district's company scores (no relation to complaints); None without companies."""
    quarters = sorted({f"{p.year}Q{(p.month - 1) // 3 + 1}" for p in periods})
    companies = sorted(comp["property_company"].dropna().unique())
    evals = []
    for q in quarters:
        score = rng.normal(80, 8, len(companies))
        lst = np.where(score >= 92, "红榜", np.where(score <= 68, "黑榜", None))
        evals.append(pd.DataFrame({"company": companies, "quarter": q, "score": score, "list": lst}))
    return pd.concat(evals, ignore_index=True) if companies else None
