"""Load the posterior ranking's inputs from the store and draw from it (analytics.models.ranking.posterior).

`posterior(con, window=None, n_draws=N_DRAWS, seed=0)` reads, for the window (default: the
`config.WINDOW_MONTHS` months ending with the latest complete month, from the first month with
data on):

- the valid tickets per compound and month (analytics.metrics.source.compound_months: the
  compound-month summary when fresh, else the tickets; the same counts either way);
- the registry: every compound, with type, is_old, built_year and households as far as known;
- the share counts (repeat calls, unresolved, dissatisfied) of the window
  (analytics.metrics.source.compound_stats),

and returns the model's draws, with the window (first day, day after the last) in
info["window_dates"]. The ranking page asks for the same draws for the list, the stability and
the peer table, so they are kept per store version, registry, window, draws and seed; any write
changes the key. `rank_posterior` ranks them for one preset.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import NotFound
from analytics.metrics import source
from analytics.models.ranking.posterior import N_DRAWS, Draws, posterior_draws, rank_draws
from analytics.services.ranking_windows import default_window
from analytics.store import db
from analytics.store import summary as summaries

REGISTRY_SQL = (
    "SELECT compound_id, name, type, is_old, built_year, households FROM compounds ORDER BY compound_id"
)
REGISTRY_FINGERPRINT_SQL = """
SELECT concat_ws('|', count(*), sum(hash(compound_id, name, community, subdistrict, type, is_old,
                                         built_year, households, property_company)))
FROM compounds
"""
CACHE_SIZE = 2  # a city's draws are ~45 MB each

_cache: OrderedDict[tuple[Any, ...], Draws] = OrderedDict()
_lock = threading.Lock()


def cache_identity(con: duckdb.DuckDBPyConnection, state: summaries.State | None = None) -> tuple | None:
    """What a result computed from this store depends on: its file, the tickets' version and the
    registry's fingerprint; None for an in-memory store or one without a version (never cached).
    `state`: the store's summary state when the caller has it already."""
    path = db.store_path(con)
    version = (state or summaries.state(con)).version
    if path == ":memory:" or version is None:
        return None
    return (path, version, db.query_one(con, REGISTRY_FINGERPRINT_SQL))


def posterior(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> Draws:
    """The posterior draws of every compound's next 12 months, from the window's months."""
    window = window or default_window(con)
    identity = cache_identity(con)
    key = None if identity is None else (*identity, tuple(window), n_draws, seed)
    if key is not None:
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
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
    draws = posterior_draws(monthly, registry, months, shares, n_draws=n_draws, seed=seed)
    draws.info["window_dates"] = (str(pd.Timestamp(start).date()), str(pd.Timestamp(stop).date()))
    draws.info["window_months"] = (str(months[0]), str(months[-1]))
    if key is not None:
        with _lock:
            _cache[key] = draws
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return draws


def rank_posterior(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    preset: str = "volume",
    top: int = 65,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The model's (frame, info) for one preset, with the compound's name added to the frame."""
    frame, info = rank_draws(posterior(con, window, n_draws, seed), preset, top, weights)
    names = db.query_df(con, "SELECT compound_id, name FROM compounds").set_index("compound_id")["name"]
    frame.insert(1, "name", frame["compound_id"].map(names))
    return frame, info
