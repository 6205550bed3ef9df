"""Load the posterior ranking's inputs from the store and run it (analytics.models.ranking.posterior).

`rank_posterior(con, window=None, preset="volume", top=65, n_draws=1000, seed=0, weights=None)`
reads, for the window (default: the `POSTERIOR_WINDOW_MONTHS` months ending with the latest
complete month, from the first month with data on):

- the valid tickets per compound and month (analytics.metrics.source.compound_months: the
  compound-month summary when fresh, else the tickets; the same counts either way);
- the registry: every compound, with type, is_old, built_year and households as far as known;
- the share counts (repeat calls, unresolved, dissatisfied) of the window
  (analytics.metrics.source.compound_stats),

and returns the model's (frame, info) with the compound's name added to the frame and the window
(first day, day after the last) in info["window_dates"].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import NotFound
from analytics.metrics import source
from analytics.models.ranking.posterior import posterior_rank
from analytics.services.ranking import default_window
from analytics.store import db

POSTERIOR_WINDOW_MONTHS = 24  # two of every season: enough to tell a lasting problem from a shock

REGISTRY_SQL = (
    "SELECT compound_id, name, type, is_old, built_year, households FROM compounds ORDER BY compound_id"
)


def rank_posterior(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    preset: str = "volume",
    top: int = 65,
    n_draws: int = 1000,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    window = window or default_window(con, POSTERIOR_WINDOW_MONTHS)
    start, stop, months = calendar.window_bounds(window)
    src = source.choose(con, start, stop)
    first = source.first_valid(con, src, before=stop)
    if first is not None and pd.Timestamp(first) > start:
        months = [m for m in months if m >= pd.Timestamp(first).to_period("M")]
    if not months:
        raise NotFound("所选时段内没有工单。", "There are no tickets in the chosen window.")
    registry = db.query_df(con, REGISTRY_SQL)
    if registry.empty:
        raise NotFound("小区名录为空，请先导入小区名录。", "The compound registry is empty; import it first.")
    monthly = source.compound_months(con, src, start, stop)
    shares = source.compound_stats(con, src, start, stop)
    frame, info = posterior_rank(
        monthly, registry, months, shares, preset=preset, top=top, n_draws=n_draws, seed=seed, weights=weights
    )
    names = registry.set_index(registry["compound_id"].astype(str))["name"]
    frame.insert(1, "name", frame["compound_id"].map(names))
    info["window_dates"] = (str(pd.Timestamp(start).date()), str(pd.Timestamp(stop).date()))
    return frame, info
