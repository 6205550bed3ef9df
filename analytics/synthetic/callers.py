"""Callers and repeat calls, and how the demo's callers are hashed into the store.

In the demo, each compound has a pool of frequent callers who make a compound-specific share of
its tickets; everyone else is a new number. Callers are synthetic numbers hashed with the store's
salt inside DuckDB (the same `sha256(salt || digits)` as ingestion); no number is stored. In a
simulated district a repeat ticket copies the caller, category and text of the compound's
previous first-time ticket, and callers are plain labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from analytics.store import callerkey, db

FREQUENT_CALLERS = 8  # pool of frequent callers per compound
PHONE_PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    156,
    157,
    158,
    159,
    177,
    180,
    186,
    188,
)


def phones(rng: np.random.Generator, comp: np.ndarray, repeat_p: np.ndarray) -> np.ndarray:
    """A caller's number per ticket: one of its compound's frequent callers, or someone new."""
    total, n_comp = len(comp), len(repeat_p)
    prefixes = np.array(PHONE_PREFIXES, dtype=np.int64)
    frequent = prefixes[rng.integers(len(prefixes), size=(n_comp, FREQUENT_CALLERS))] * 10**8 + rng.integers(
        0, 10**8, (n_comp, FREQUENT_CALLERS)
    )
    k_frequent = rng.integers(2, FREQUENT_CALLERS + 1, n_comp)
    is_frequent = rng.random(total) < repeat_p[comp]
    which = (rng.random(total) * k_frequent[comp]).astype(int)
    fresh = prefixes[rng.integers(len(prefixes), size=total)] * 10**8 + rng.integers(0, 10**8, total)
    return np.where(is_frequent, frequent[comp, which], fresh)


def repeat_roots(rng: np.random.Generator, c_idx: np.ndarray, repeat_p: np.ndarray) -> np.ndarray:
    """Per ticket (sorted by compound), the index of the first-time ticket it repeats (itself if none)."""
    total = len(c_idx)
    first_of_compound = np.r_[True, c_idx[1:] != c_idx[:-1]]
    is_rep = (rng.random(total) < repeat_p[c_idx]) & ~first_of_compound
    root = np.where(is_rep, -1, np.arange(total))
    return np.maximum.accumulate(root)


def sim_callers(seed: int, root: np.ndarray) -> np.ndarray:
    """A simulated caller label per ticket: one per first-time ticket (`root`, numbered district-wide)."""
    return np.char.add(f"s{seed}h", root.astype(str))


# --- hashing the demo's callers ------------------------------------------------------------------


def _demo_salt(seed: int) -> str:
    """A fixed salt per seed, so the same seed gives the same caller hashes in every demo store."""
    return hashlib.sha256(f"hotline-demo-{seed}".encode()).hexdigest()[:32]


def hashed_ticket_writer(
    con: duckdb.DuckDBPyConnection, seed: int
) -> Callable[[duckdb.DuckDBPyConnection, pa.Table], None]:
    """Call before the write: returns `write(cur, frame)`, which records the caller salt and inserts
    the demo's ticket rows inside the open transaction, each caller's digits (`phone`) hashed."""
    salt = db.get_setting(con, "caller_salt") or _demo_salt(seed)
    # hashed exactly as ingestion does: HMAC(store's caller key, sha256(salt || digits))
    caller_keys = callerkey.caller_keys(con)
    caller_hash, key_params = callerkey.sql_keyed("sha256(? || phone)", caller_keys)

    def write(cur: duckdb.DuckDBPyConnection, frame: pa.Table) -> None:
        db.set_setting(cur, "caller_salt", salt)
        cur.register("demo_tickets", frame)
        cur.execute(
            f"""
            INSERT INTO tickets (ticket_id, created_at, closed_at, due_at, title, content, category, category_raw,
                category_source, address, compound_id, match_score, match_method, caller_hash, satisfaction,
                satisfied, resolved, status, handling_unit, is_valid, reopened, batch_id)
            SELECT ticket_id, created_at, closed_at, due_at, title, content, category, category, 'given', address,
                compound_id, match_score, match_method, {caller_hash}, satisfaction, satisfied, resolved,
                status, handling_unit, is_valid, reopened, batch_id
            FROM demo_tickets
            """,  # noqa: S608 - the keyed-hash expression is built from constants
            [*key_params, salt],
        )
        cur.unregister("demo_tickets")

    return write
