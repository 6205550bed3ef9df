"""Stored derived results: compute once per store state, read in milliseconds afterwards.

Some results take a second or more to compute (the effects model fits a dozen regressions) but
change only when the data do. `get_or_compute` keeps one row per (name, args) in
`derived_results` (migration 003) with the result as JSON and the `version` of the store it was
computed from, and returns the stored result only while that version equals `row_version(con,
code)` now. A stale row is never returned: it is recomputed (and stored again when the write lock is
free at once), so correctness never depends on anyone remembering to rebuild.

`store_version` fingerprints everything the stored results read: the tickets
(`summaries.fingerprint`: count, time span, batches, undo, in-place compound/category/validity
changes), the task forces, their actions (costs) and the compounds' names and places, plus
`CODE_VERSION`, bumped whenever the payload format changes. Each caller adds a `code` version
(a hash of the source files that compute its result), so new code never reads old results.

Payloads are JSON, never pickle: a store can be restored from files someone else made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from analytics.errors import StoreError
from analytics.store import db
from analytics.store import summary as summaries

TABLE = "derived_results"
# bump when the payload format changes: every stored row then counts as stale
CODE_VERSION = "r1"

# the columns of the non-ticket tables whose changes can move a stored result
FINGERPRINT_SQL = """
SELECT
    (SELECT concat_ws('|', count(*), sum(hash(taskforce_id, compound_id, leader, head, start_date,
                      end_date, status, snapshot_id, selection_start, selection_end,
                      target_monthly, exit_months)))
     FROM task_forces),
    (SELECT concat_ws('|', count(*), sum(hash(action_id, taskforce_id, date, cost))) FROM taskforce_actions),
    (SELECT concat_ws('|', count(*), sum(hash(compound_id, name, community, subdistrict))) FROM compounds)
"""

READ_SQL = f"SELECT payload FROM {TABLE} WHERE name = ? AND args = ? AND version = ?"  # noqa: S608
RESULT_COLUMNS = ["name", "args", "version", "payload", "built_at", "seconds"]

# JSON tags for values JSON has no type for; a tagged value is a one-key object
TAG_FRAME = "__frame__"
TAG_TIMESTAMP = "__timestamp__"
TAG_DATETIME = "__datetime__"
TAG_DATE = "__date__"
TAG_NAT = "__nat__"
TAG_NA = "__na__"

T = TypeVar("T")


def store_version(con: duckdb.DuckDBPyConnection) -> str:
    """The fingerprint of everything a stored result depends on (see module docstring)."""
    tickets = summaries.fingerprint(con)
    row = con.cursor().execute(FINGERPRINT_SQL).fetchone()
    return f"{CODE_VERSION}|{tickets}|tf:{row[0]}|act:{row[1]}|cmp:{row[2]}"


def row_version(con: duckdb.DuckDBPyConnection, code: str = "") -> str:
    """The `version` a row computed now by `code` carries: the store's fingerprint and the code's."""
    return f"{store_version(con)}|code:{code}"


@functools.cache
def source_version(*paths: Path) -> str:
    """A short hash of source files: a stored result computed by other code is stale, even when
    nobody remembered to bump CODE_VERSION (a comment-only change costs one recomputation)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def canonical_args(**kwargs: Any) -> str:
    """Arguments as a stable key: JSON with sorted keys."""
    return json.dumps(kwargs, sort_keys=True, ensure_ascii=False)


def _read(con: duckdb.DuckDBPyConnection, name: str, args: str, version: str) -> str | None:
    try:
        row = con.cursor().execute(READ_SQL, [name, args, version]).fetchone()
    except duckdb.Error:
        return None  # a store without the table (should not happen after migration): compute
    return row[0] if row else None


def get_or_compute(
    con: duckdb.DuckDBPyConnection,
    name: str,
    args: str,
    compute: Callable[[], T],
    encode: Callable[[T], str],
    decode: Callable[[str], T],
    code: str = "",
) -> T:
    """`decode(payload)` of the stored row when it was computed from the store as it is now (and
    by the same `code`, e.g. a `source_version` of the modules that compute it); otherwise
    `compute()`, stored for the next reader when the write lock is free at once.

    A reader never waits for a writer: when another write holds the lock, or the store is
    read-only, the computed value is returned without being stored. It is stored only when the
    store did not change while it was computed (same version before and after), so a row never
    carries a version its payload was not computed from.
    """
    try:
        version = row_version(con, code)
    except duckdb.Error as exc:
        raise db.translate(exc) from None
    payload = _read(con, name, args, version)
    if payload is not None:
        try:
            return decode(payload)
        except (ValueError, KeyError, TypeError):
            pass  # unreadable (e.g. written by other code with the same CODE_VERSION): recompute
    t0 = time.perf_counter()
    value = compute()
    seconds = time.perf_counter() - t0
    try:
        text = encode(value)
        with db.transaction(con, timeout_s=0) as cur:
            # holding the write lock: no write of this process can land between check and insert
            if row_version(con, code) == version:
                db.merge(
                    cur,
                    TABLE,
                    RESULT_COLUMNS,
                    ["name", "args"],
                    "SELECT ?, ?, ?, ?, now(), ?",
                    [name, args, version, text, seconds],
                )
    except StoreError:
        pass  # busy or read-only: the caller still gets the right value, the next reader retries
    return value


def stored_rows(con: duckdb.DuckDBPyConnection, name: str | None = None) -> list[dict[str, Any]]:
    """The stored rows without their payloads (for diagnostics, tests and benchmarks)."""
    frame = db.query_df(
        con,
        f"""SELECT name, args, version, built_at, seconds, length(payload) AS payload_chars
            FROM {TABLE} WHERE ? IS NULL OR name = ? ORDER BY name, args""",  # noqa: S608
        [name, name],
    )
    return frame.to_dict("records")


def forget(con: duckdb.DuckDBPyConnection, name: str | None = None, args: str | None = None) -> int:
    """Delete stored rows (all, one name's, or one (name, args)); they are recomputed on the next read."""
    where = "WHERE (? IS NULL OR name = ?) AND (? IS NULL OR args = ?)"
    params = [name, name, args, args]
    with db.transaction(con) as cur:
        n = cur.execute(f"SELECT count(*) FROM {TABLE} {where}", params).fetchone()[0]  # noqa: S608
        cur.execute(f"DELETE FROM {TABLE} {where}", params)  # noqa: S608 - fixed fragments
    return int(n)


# ---------------------------------------------------------------- JSON that keeps types


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for `value`: scalars, lists, dicts with string keys, DataFrames, dates.

    Types JSON lacks become one-key tagged objects ({"__date__": "2024-03-01"}); numpy scalars
    become Python ones; NaN and infinities are kept (Python's json writes and reads them).
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if value is pd.NaT:
        return {TAG_NAT: True}
    if value is pd.NA:
        return {TAG_NA: True}
    if isinstance(value, pd.Timestamp):  # before datetime: a Timestamp is one
        return {TAG_TIMESTAMP: value.isoformat()}
    if isinstance(value, dt.datetime):
        return {TAG_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG_DATE: value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {TAG_FRAME: _frame_to_jsonable(value)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys can be stored")
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON")


def _from_tag(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    ((key, value),) = obj.items()
    if key == TAG_DATE:
        return dt.date.fromisoformat(value)
    if key == TAG_DATETIME:
        return dt.datetime.fromisoformat(value)
    if key == TAG_TIMESTAMP:
        return pd.Timestamp(value)
    if key == TAG_NAT:
        return pd.NaT
    if key == TAG_NA:
        return pd.NA
    if key == TAG_FRAME:
        return _frame_from_jsonable(value)
    return obj


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_from_tag)


def _index_to_jsonable(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": to_jsonable(index.name)}
    return {"values": to_jsonable(list(index)), "dtype": str(index.dtype), "name": to_jsonable(index.name)}


def _index_from_jsonable(obj: dict[str, Any]) -> pd.Index:
    if "range" in obj:
        return pd.RangeIndex(*obj["range"], name=obj["name"])
    return pd.Index(_column_values(obj["values"], obj["dtype"]), dtype=obj["dtype"], name=obj["name"])


def _frame_to_jsonable(frame: pd.DataFrame) -> dict[str, Any]:
    """Column by column with its dtype: numpy numbers as lists, datetimes as integer ticks,
    everything else (object, strings, nullable types) as tagged values."""
    if frame.columns.has_duplicates:
        raise TypeError("a frame with duplicate column names cannot be stored")
    columns = []
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "mM":
            values: list[Any] = series.to_numpy().view("int64").tolist()
        elif isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            values = series.to_numpy().tolist()
        else:
            values = [to_jsonable(v) for v in series.tolist()]
        columns.append({"dtype": str(dtype), "values": values})
    return {
        "index": _index_to_jsonable(frame.index),
        "columns": _index_to_jsonable(frame.columns),
        "data": columns,
    }


def _column_values(values: list[Any], dtype_name: str) -> Any:
    """The stored values back as an array of the stored dtype."""
    try:
        dtype = np.dtype(dtype_name)
    except TypeError:  # a pandas extension dtype (Int64, string, datetime64[ns, tz], ...)
        return pd.Series(_objects(values), dtype=object).astype(dtype_name).array
    if dtype.kind in "mM":
        return np.array(values, dtype="int64").view(dtype)
    if dtype.kind in "biuf":
        return np.array(values, dtype=dtype)
    return _objects(values)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _frame_from_jsonable(obj: dict[str, Any]) -> pd.DataFrame:
    index = _index_from_jsonable(obj["index"])
    data = {i: _column_values(col["values"], col["dtype"]) for i, col in enumerate(obj["data"])}
    frame = pd.DataFrame(data, index=index)
    frame.columns = _index_from_jsonable(obj["columns"])
    return frame
