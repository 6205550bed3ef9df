"""The store: one DuckDB file opened once per process, or a DuckLake shared by many (analytics.store.lake).

- `connect()` opens (creating the folder and file if needed) and migrates the schema by version.
  A target `ducklake:<catalog> DATA_PATH=<folder>` opens the DuckLake backend instead.
- `cursor(con)` / `query_df(con, sql, params)`: a fresh cursor per query, so threads (Streamlit
  sessions) never share one.
- `transaction(con)`: every write runs inside one, all or nothing, one writer at a time (on a
  DuckLake, one at a time across processes too: a write that lost the race fails whole and
  `retrying` runs it again).
- `merge(...)`: insert-or-update by key, the one upsert both backends understand.
- DuckDB exceptions are turned into `StoreError` with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import StoreBusyError, StoreError, StoreMemoryError
from analytics.store import lake

DEFAULT_DB_PATH = "data/hotline.duckdb"
SCHEMA_FILE = Path(__file__).with_name("schema.sql")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# seconds a writer waits for another writer in the same process before it is told to wait
WRITE_LOCK_TIMEOUT_S = 30.0

_write_lock = threading.RLock()


def default_path() -> str:
    return os.environ.get("HOTLINE_DB") or DEFAULT_DB_PATH


# A step of the schema's history: plain SQL, or a Python `upgrade(cur, store_path)` for the
# steps SQL alone cannot take (rewriting stored text with rules defined in Python, re-keying
# caller hashes with a key that lives outside the store).
Migration = str | Callable[[duckdb.DuckDBPyConnection, str], None]


def _load_python_migration(path: Path) -> Callable[[duckdb.DuckDBPyConnection, str], None]:
    spec = importlib.util.spec_from_file_location(f"analytics_migration_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load migration {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.upgrade


def _migrations() -> list[tuple[int, Migration]]:
    """(version, step) in order: version 1 is schema.sql, then migrations/NNN_name.sql|py."""
    found: list[tuple[int, Migration]] = [(1, SCHEMA_FILE.read_text(encoding="utf-8"))]
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.*")):
        if path.suffix == ".sql":
            found.append((int(path.name[:3]), path.read_text(encoding="utf-8")))
        elif path.suffix == ".py":
            found.append((int(path.name[:3]), _load_python_migration(path)))
    versions = [v for v, _ in found]
    if versions != sorted(set(versions)):
        raise RuntimeError(f"migration versions must be unique and increasing: {versions}")
    return found


SCHEMA_VERSION = _migrations()[-1][0]


def translate(exc: Exception, path: str | None = None) -> StoreError:
    """Turn a DuckDB exception into a StoreError that tells the user what to do."""
    text = str(exc)
    where = f" ({path})" if path else ""
    if "lock" in text.lower() and ("conflicting" in text.lower() or "could not set" in text.lower()):
        return StoreBusyError(
            f"数据库{where}正被另一个程序占用（例如正在运行的看板或另一项导入）。请等其结束后重试。",
            f"The store{where} is in use by another process (the dashboard or another import). "
            "Wait for it to finish and try again.",
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return StoreMemoryError(
            "内存不足：这项操作所需的内存超过了数据库可用的上限，未写入任何内容。"
            "请分批导入较小的文件，或在更大内存的机器上运行。",
            "Out of memory: this operation needs more memory than the store may use; nothing was "
            "written. Upload the file in smaller parts, or run it on a machine with more memory.",
        )
    # another writer got there first (a SQL error naming a "conflict target" is not one; nor is
    # a statement refused because an earlier one of the same transaction failed)
    aborted = "transaction is aborted" in text.lower()
    if (
        isinstance(exc, duckdb.TransactionException) and not aborted
    ) or "transaction conflict" in text.lower():
        return StoreBusyError(
            "另一项写入正在进行，请稍候再试。",
            "Another write is in progress; please wait and try again.",
        )
    if isinstance(exc, duckdb.SerializationException) or "not a valid DuckDB" in text:
        return StoreError(
            f"数据库文件{where}已损坏或不是本系统的数据库。请从备份恢复，或指定另一个 --db 路径。",
            f"The store file{where} is damaged or not a store of this tool. Restore a backup "
            "or give another --db path.",
        )
    if isinstance(exc, duckdb.IOException | PermissionError | OSError):
        return StoreError(
            f"无法打开或写入数据库文件{where}：请检查路径、磁盘空间和文件权限。详情：{text}",
            f"Cannot open or write the store{where}: check the path, free disk space and "
            f"permissions. Detail: {text}",
        )
    return StoreError(
        f"数据库操作失败：{text}。如问题持续，请联系系统管理员并附上此信息。",
        f"Store operation failed: {text}. If this persists, report it with this message.",
    )


def connect(path: str | os.PathLike[str] | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store at `path` (default $HOTLINE_DB or data/hotline.duckdb) and migrate it.

    `path=":memory:"` gives an in-memory store (tests). Read-only connections are not migrated
    and fail with a StoreError if the store is older than this code.
    """
    target = str(path) if path is not None else default_path()
    if lake.is_lake(target):
        return _connect_lake(target)
    if target != ":memory:" and not read_only:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.Error as exc:
        raise translate(exc, target) from None
    except OSError as exc:
        raise translate(exc, target) from None
    if read_only:
        if schema_version(con) < SCHEMA_VERSION:
            con.close()
            raise StoreError(
                f"数据库 {target} 版本过旧，请先以可写方式打开一次（例如运行 python -m analytics init）。",
                f"The store {target} is older than this program; open it writable once "
                "(e.g. `python -m analytics init`).",
            )
        return con
    migrate(con)
    return con


def _connect_lake(target: str) -> duckdb.DuckDBPyConnection:
    """The DuckLake backend: every process migrates it on opening (one at a time, by the lock row)."""
    parsed = lake.parse(target)
    try:
        con = lake.open_lake(parsed)
    except duckdb.Error as exc:
        raise translate(exc, parsed.describe()) from None
    except OSError as exc:
        raise translate(exc, parsed.data_path) from None
    try:
        retrying(lambda: migrate(con))  # replicas starting together: one migrates, the others wait
    except StoreError:
        con.close()
        raise
    return con


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    return lake.data_path(con) is not None


def store_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file behind a connection (":memory:" for an in-memory store); for a DuckLake its data
    folder, beside which its key files live."""
    folder = lake.data_path(con)
    if folder is not None:
        return folder
    row = (
        con.cursor()
        .execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
        .fetchone()
    )
    return row[0] if row and row[0] else ":memory:"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        row = con.cursor().execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0] or 0) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the store's version, each in its own transaction."""
    cur = con.cursor()
    on_lake = is_lake(con)
    try:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)")
        current = schema_version(con)
        for version, step in _migrations():
            if version <= current:
                continue
            cur.execute("BEGIN TRANSACTION")
            try:
                if on_lake:
                    lake.take_write_lock(cur)
                    # another process may have applied it while this one waited
                    if cur.execute(
                        "SELECT count(*) FROM schema_version WHERE version = ?", [version]
                    ).fetchone()[0]:
                        cur.execute("ROLLBACK")
                        continue
                _apply(cur, step, on_lake, con)
                cur.execute("INSERT INTO schema_version VALUES (?, now())", [version])
                cur.execute("COMMIT")
            except Exception:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"数据库版本（{current}）比本程序（{SCHEMA_VERSION}）新，请升级程序。",
                f"The store (version {current}) is newer than this program ({SCHEMA_VERSION}); "
                "upgrade the program.",
            )
    except duckdb.Error as exc:
        raise translate(exc) from None
    return schema_version(con)


def _apply(
    cur: duckdb.DuckDBPyConnection, step: Migration, on_lake: bool, con: duckdb.DuckDBPyConnection
) -> None:
    if not isinstance(step, str):
        step(cur, store_path(con))
    elif on_lake:
        statements, sequences = lake.lake_ddl(step)
        for statement in statements:
            cur.execute(statement)
        lake.add_counters(cur, sequences)
    else:
        cur.execute(step)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A fresh cursor: use one per query or per thread, never share one across threads.

    Read every result fully (.df(), .fetchall()) before running more queries: a reader that keeps
    a half-read result open on a long-lived cursor can block DuckDB's checkpoint after another
    thread's commit and hang the process (seen with DuckDB 1.4.5).
    """
    return con.cursor()


def query_df(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run a read query with `?` parameters on a fresh cursor and return a DataFrame."""
    try:
        return con.cursor().execute(sql, list(params or [])).df()
    except duckdb.Error as exc:
        raise translate(exc) from None


def query_one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """First column of the first row (or None)."""
    try:
        row = con.cursor().execute(sql, list(params or [])).fetchone()
    except duckdb.Error as exc:
        raise translate(exc) from None
    return row[0] if row else None


@contextlib.contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, timeout_s: float = WRITE_LOCK_TIMEOUT_S
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One write, all or nothing: yields a cursor inside BEGIN ... COMMIT.

    Writers in this process queue on a lock; one that waits longer than `timeout_s` is told to
    wait (StoreBusyError) instead of failing half-way. Any exception rolls everything back.
    """
    if not _write_lock.acquire(timeout=timeout_s):
        raise StoreBusyError(
            "另一项上传或修改正在进行，请稍候再试。",
            "Another upload or edit is in progress; please wait and try again.",
        )
    cur = con.cursor()
    try:
        try:
            cur.execute("BEGIN TRANSACTION")
            if is_lake(cur):
                lake.take_write_lock(cur)
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise translate(exc) from None
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise translate(exc) from None
            raise
    finally:
        cur.close()
        _write_lock.release()


# DuckDB's own memory during an upload: UPLOAD_MEMORY_LIMIT, or UPLOAD_MEMORY_PER_THREAD for each
# of its threads where that is more (each thread of an insert builds a row group of its own, a few
# hundred MB for long complaint texts); $HOTLINE_UPLOAD_MEMORY sets it outright. Past it the
# staging tables spill to the store's temporary folder. The Python side of an upload (matchers,
# the category model, the rows handed between them) comes on top, about 0.7 GB at a million
# rows. Measured on a 1.1-million-row realistic upload on 2 cores (benchmarks/ingest.py
# --realistic): a peak of about 1.7 GB instead of 2.1 GB, and no slower. An upload that needs
# more runs again without the cap (pipeline.run.ingest_file).
UPLOAD_MEMORY_LIMIT = "1GB"
UPLOAD_MEMORY_PER_THREAD = "500MB"
_memory_lock = threading.Lock()
_memory_holders = 0
_memory_before: str | None = None
_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20,
          "gib": 2**30, "tib": 2**40}  # fmt: skip


def _bytes(setting: str, middle: bool = False) -> float:
    """'953.6 MiB', '1GB', '18.8 GiB' -> bytes. DuckDB prints a limit cut to one decimal:
    `middle` gives the middle of the values it may stand for, which prints the same again (so
    putting a limit back does not lower it a little every time)."""
    text = setting.strip().lower().replace(" ", "")
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = _UNITS[text[len(number) :]]
    return (float(number) + (0.05 if middle and "." in number else 0.0)) * unit


def upload_memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    """The cap of an upload (see UPLOAD_MEMORY_LIMIT), as DuckDB reads a memory limit."""
    if given := os.environ.get("HOTLINE_UPLOAD_MEMORY"):
        return given
    threads = int(query_one(con, "SELECT current_setting('threads')"))
    return f"{max(_bytes(UPLOAD_MEMORY_LIMIT), threads * _bytes(UPLOAD_MEMORY_PER_THREAD)):.0f}B"


@contextlib.contextmanager
def memory_capped(con: duckdb.DuckDBPyConnection, limit: str | None = None) -> Iterator[bool]:
    """DuckDB's memory limit lowered to `limit` (default `upload_memory_limit`) while the block
    runs, and put back when the last such block of this process ends. A lower limit already in
    force stays. The limit is the instance's: queries that run meanwhile spill to disk sooner
    rather than push the process past it. Yields whether a cap of this process is in force."""
    global _memory_holders, _memory_before
    limit = limit or upload_memory_limit(con)
    with _memory_lock:
        if _memory_holders == 0:
            before = str(query_one(con, "SELECT current_setting('memory_limit')"))
            if _bytes(limit) < _bytes(before):
                con.execute(f"SET memory_limit = '{_bytes(limit):.0f}B'")
                _memory_before = before
            else:
                _memory_before = None
        _memory_holders += 1
        capped = _memory_before is not None
    try:
        yield capped
    finally:
        with _memory_lock:
            _memory_holders -= 1
            if _memory_holders == 0 and _memory_before is not None:
                with contextlib.suppress(duckdb.Error):
                    # SET, not RESET: after RESET the setting reads the default but the buffer
                    # manager kept the cap (duckdb 1.5.5: the next large insert ran out of it)
                    con.execute(f"SET memory_limit = '{_bytes(_memory_before, middle=True):.0f}B'")
                _memory_before = None


def write_generation(con: duckdb.DuckDBPyConnection) -> int | None:
    """How many write transactions a DuckLake has committed (None on the file backend, where only
    this process writes): readers in other processes key their caches on it."""
    if not is_lake(con):
        return None
    return int(query_one(con, f"SELECT n FROM {lake.LOCK}"))  # noqa: S608 - fixed name


def next_id(cur: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """Next value of one of the schema's sequences (seq_batch, seq_snapshot, ...)."""
    if sequence not in {"seq_batch", "seq_snapshot", "seq_taskforce", "seq_action", "seq_model"}:
        raise ValueError(f"unknown sequence {sequence}")
    if is_lake(cur):
        return lake.next_id(cur, sequence)
    return int(cur.execute(f"SELECT nextval('{sequence}')").fetchone()[0])


def restart_sequence(cur: duckdb.DuckDBPyConnection, sequence: str, last: int) -> None:
    """Make `next_id(sequence)` return `last + 1` next (after a restore)."""
    if is_lake(cur):
        lake.set_counter(cur, sequence, last)
    else:  # DuckDB has no setval: recreate the sequence
        cur.execute(f"CREATE OR REPLACE SEQUENCE {sequence} START {int(last) + 1}")


def retrying(
    write: Callable[[], Any],
    attempts: int = 5,
    wait_s: float = 0.5,
    on_retry: Callable[[StoreBusyError], None] | None = None,
) -> Any:
    """Run `write` (which opens its own transaction) again while another writer holds the store.

    On a DuckLake two processes' writes conflict at commit and the later one fails whole, so
    running it again is safe; after `attempts` the StoreBusyError reaches the caller."""
    for attempt in range(attempts):
        try:
            return write()
        except StoreBusyError as exc:
            if attempt == attempts - 1:
                raise
            if on_retry is not None:
                on_retry(exc)
            time.sleep(wait_s * (attempt + 1) * (0.5 + random.random()))  # noqa: S311 - jitter
    return None


def merge(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    source: str,
    params: Sequence[Any] | None = None,
    update: Sequence[str] | None = None,
) -> None:
    """Insert the rows of `source` (a query or VALUES list giving `columns` in order) into `table`,
    updating the columns `update` (default: every non-key column; [] = keep the stored row) of a
    row whose `keys` match. MERGE INTO, which both backends take (a DuckLake has no keys to
    conflict on). Of rows repeating a key in `source`, one is taken."""
    cols = ", ".join(f'"{c}"' for c in columns)
    on = " AND ".join(f'target."{k}" IS NOT DISTINCT FROM source."{k}"' for k in keys)
    todo = [c for c in columns if c not in keys] if update is None else list(update)
    matched = (
        "WHEN MATCHED THEN UPDATE SET " + ", ".join(f'"{c}" = source."{c}"' for c in todo) + " "
        if todo
        else ""
    )
    values = ", ".join(f'source."{c}"' for c in columns)
    key_cols = ", ".join(f'"{k}"' for k in keys)
    cur.execute(
        f"MERGE INTO {table} AS target USING (SELECT DISTINCT ON ({key_cols}) * FROM ({source}) AS s ({cols})) "  # noqa: S608
        "AS source "
        f"ON {on} {matched}WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})",
        list(params or []),
    )


def get_setting(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    value = query_one(con, "SELECT value FROM settings WHERE key = ?", [key])
    return default if value is None else value


def set_setting(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set inside an open transaction (pass the cursor from `transaction`)."""
    merge(cur, "settings", ["key", "value"], ["key"], "VALUES (?, ?)", [key, value])


def caller_salt(con: duckdb.DuckDBPyConnection) -> str:
    """The store's salt for caller hashes: created once, then never changed.

    Not a secret: it travels with the store and its backups, so it only keeps one store's hashes
    apart from another's. What makes a hash irreversible is the caller key kept outside the
    store (analytics.callerkey), applied over sha256(salt || digits)."""
    salt = get_setting(con, "caller_salt")
    if salt:
        return salt
    with transaction(con) as cur:
        row = cur.execute("SELECT value FROM settings WHERE key = 'caller_salt'").fetchone()
        if row:
            return row[0]
        salt = secrets.token_hex(16)
        set_setting(cur, "caller_salt", salt)
    return salt


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    return get_setting(con, "demo") == "1"


def audit(
    cur: duckdb.DuckDBPyConnection, user: str | None, action: str, detail: dict[str, Any] | str | None = None
) -> None:
    """Append to the audit log (inside the caller's transaction, so it lands with the write)."""
    if isinstance(detail, dict):
        detail = json.dumps(detail, ensure_ascii=False, default=str)
    cur.execute("INSERT INTO audit_log VALUES (now(), ?, ?, ?)", [user, action, detail])


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table in the store (used by tests and the admin page)."""
    return {
        name: int(query_one(con, f'SELECT count(*) FROM "{name}"'))  # noqa: S608 - catalog names
        for name in store_tables(con)
    }


def store_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The store's own tables (not the DuckLake's lock and counters, not staged or temporary ones)."""
    names = query_df(
        con,
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE'",
    )
    return sorted(set(names["table_name"]) - lake.INTERNAL_TABLES)
