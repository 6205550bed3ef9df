"""The store as the pages see it: one connection per process, cached reads, demo on first start.

- `get_connection()` opens `analytics.store.db.connect(db.default_path())` once per process and store
  path (`st.cache_resource`); every query takes its own cursor from it.
- `ensure_demo(con)` builds the demo district when the store is completely empty (no compounds,
  no tickets, no users), with a progress bar, so a first start shows something to click.
- `cached(fn, *args)` runs a pure `analytics` read through `st.cache_data`; every write made
  from the app calls `invalidate()` afterwards so nobody sees stale numbers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from analytics.errors import HotlineError, StoreBusyError
from analytics.store import db, lake
from analytics.store import summary as summaries
from ui.i18n import t

CACHE_TTL_S = 600  # reads are refreshed at least every ten minutes
CACHE_MAX_ENTRIES = 512
SUMMARY_REFRESH_WAIT_S = 2.0  # after a write, rebuild the summary unless another write holds on
EMPTY_TABLES = ("compounds", "tickets", "users")  # all empty = a first start: build the demo
# ticket volume of the demo built on a first start (1.0 = a district year, ~15 s); a smaller
# value suits a weak machine or a quick test
DEMO_SCALE_ENV = "HOTLINE_DEMO_SCALE"

T = TypeVar("T")
_demo_lock = threading.Lock()  # two sessions arriving at once must not both build the demo
GENERATION_TTL_S = 1.0  # how stale another process's write may look to this one, at most
_generation_lock = threading.Lock()
_generation_seen: list[Any] = [None, float("-inf")]  # (generation, when read)


def store_key() -> str:
    """Which store this process serves (part of every cache key)."""
    path = db.default_path()
    return path if path == ":memory:" or lake.is_lake(path) else str(Path(path).resolve())


def _generation(con: duckdb.DuckDBPyConnection) -> str:
    """What every cached read is keyed on besides its arguments: on a DuckLake, the count of write
    transactions (its lock row), so a write by another replica or a batch command is seen by this
    one's next page run; re-read at most every GENERATION_TTL_S. On the file backend only this
    process writes, and `invalidate` clears the cache after each of its writes."""
    now = time.monotonic()
    with _generation_lock:
        if now - _generation_seen[1] > GENERATION_TTL_S:
            _generation_seen[:] = [db.write_generation(con), now]
        return str(_generation_seen[0])


@st.cache_resource(show_spinner=False)
def _open(path: str) -> duckdb.DuckDBPyConnection:
    return db.connect(path)


def get_connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection to the store at $HOTLINE_DB (or data/hotline.duckdb)."""
    return _open(store_key())


def store_is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    counts = db.table_counts(con)
    return all(counts.get(name, 0) == 0 for name in EMPTY_TABLES)


def ensure_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """Build the demo district into an empty store; True when it was built now."""
    if not store_is_empty(con):
        return False
    from analytics.synthetic import demo

    with _demo_lock:
        if not store_is_empty(con):
            return False
        bar = st.progress(0.0, text=t("demo_building"))

        # the demo names its steps in both languages ("生成工单 / tickets"): each is shown from
        # the catalogue, in the reader's language only (an unknown step as the general line)
        steps = {
            "registry": "demo_step_registry",
            "tickets": "demo_step_tickets",
            "ticket text and addresses": "demo_step_text",
            "writing the store": "demo_step_store",
            "task forces and accounts": "demo_step_taskforces",
            "done": "demo_step_done",
        }

        def progress(fraction: float, message: str = "") -> None:
            step = steps.get(message.rpartition(" / ")[2].strip(), "demo_building")
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=t(step))

        try:
            demo.build_demo(con, progress=progress, scale=float(os.environ.get(DEMO_SCALE_ENV) or 1.0))
        except StoreBusyError:
            # on a shared store another replica built it at the same moment: use theirs
            if store_is_empty(con):
                raise
        bar.empty()
    invalidate()
    st.toast(t("demo_built"))
    return True


def is_demo() -> bool:
    return cached(db.is_demo)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_MAX_ENTRIES, show_spinner=False)
def _cached_call(
    _fn: Callable[..., Any], _con: duckdb.DuckDBPyConnection, name: str, key: str, args: str
) -> Any:
    # `name`, `key` (the store) and `args` (repr of the arguments) make the cache key; the
    # function and connection themselves are not hashed.
    del name, key, args
    return _fn(_con)


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(con, *args, **kwargs)` from the cache. Arguments must have a stable repr."""
    con = get_connection()
    name = f"{fn.__module__}.{fn.__qualname__}"

    def call(c: duckdb.DuckDBPyConnection) -> T:
        return fn(c, *args, **kwargs)

    key = f"{store_key()}#{_generation(con)}"
    return _cached_call(call, con, name, key, repr((args, sorted(kwargs.items()))))


def invalidate() -> None:
    """Forget every cached read (after an upload, undo, edit or restore).

    The monthly summary and the stored effects results are rebuilt here, right after the write,
    so the next reader does not pay for them; if another write holds the store, the first read
    after it rebuilds them instead (a stale stored result is never shown).
    """
    st.cache_data.clear()
    _generation_seen[1] = float("-inf")
    con = get_connection()
    try:
        if not summaries.is_fresh(con):
            summaries.refresh(con, timeout_s=SUMMARY_REFRESH_WAIT_S)
    except HotlineError:
        pass
    from analytics.services import effects  # scipy and the model load only when a write needs them

    effects.refresh_stored(con)


def table_counts() -> dict[str, int]:
    return cached(db.table_counts)
