"""The store as a DuckLake: the catalog in PostgreSQL, the data as Parquet files under a data path.

Selected by the store target `ducklake:<catalog> DATA_PATH=<folder>`, e.g.
`HOTLINE_DB="ducklake:postgres:dbname=hotline host=/run/postgresql DATA_PATH=/srv/hotline/data"`.
Every process (dashboard replica, batch command) opens the same catalog and data path and reads
and writes the same tables with snapshot isolation; the embedded DuckDB file stays the default.

What differs from the file backend, and how this module covers it:
- The extensions are loaded from the `duckdb-extension-ducklake` and
  `duckdb-extension-postgres-scanner` packages (same version as `duckdb`), installed into a local
  extension folder once: nothing is downloaded at run time.
- DuckLake has no PRIMARY KEY / UNIQUE constraints, indexes or sequences. The schema's DDL is
  applied without them (`lake_ddl`); ids come from the `lake_counters` table (`next_id`); upserts
  are MERGE INTO on both backends (`db.merge`), so uniqueness is kept by the code, not the engine.
- Writers on different processes: each write transaction first updates the one row of
  `lake_lock`, so two concurrent writes always conflict and the later commit fails as a whole
  (DuckLake commits are atomic); `db.transaction` reports it as "busy" and `db.retrying` runs a
  write again. Without that row, two writers checking the same key could both insert it.
- Small writes are inlined into the catalog (`INLINE_ROWS`), not written as a file each.
- Files the store keeps beside itself (caller key, session-cookie key) live beside the data
  folder: `<DATA_PATH>.key`, shared by every replica that mounts the folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analytics.errors import StoreError

PREFIX = "ducklake:"
EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
COUNTERS = "lake_counters"
LOCK = "lake_lock"
INTERNAL_TABLES = frozenset({COUNTERS, LOCK})
EXTENSION_DIR_ENV = "HOTLINE_DUCKDB_EXTENSIONS"
# writes of fewer rows than this (settings, audit entries, a confirmed address) go into the
# catalog instead of a Parquet file each: no flood of tiny files from everyday edits
INLINE_ROWS = 100

_SEQUENCE = re.compile(r"^\s*CREATE\s+SEQUENCE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LakeTarget:
    catalog: str  # what follows "ducklake:", e.g. "postgres:dbname=hotline host=/run/postgresql"
    data_path: str

    @property
    def uri(self) -> str:
        return PREFIX + self.catalog

    def describe(self) -> str:
        """The target without credentials, for messages."""
        return re.sub(r"password=\S+", "password=***", self.uri)


def is_lake(target: str) -> bool:
    return target.startswith(PREFIX)


def parse(target: str) -> LakeTarget:
    """`ducklake:<catalog> DATA_PATH=<folder>` -> LakeTarget (DATA_PATH may sit anywhere)."""
    rest = target[len(PREFIX) :]
    found = re.search(r"(?:^|\s)DATA_PATH=(\S+)", rest)
    if not found:
        raise StoreError(
            "DuckLake 存储需要数据目录：请在连接串中写明 DATA_PATH=<目录>。",
            "A DuckLake store needs its data folder: add DATA_PATH=<folder> to the target.",
        )
    catalog = (rest[: found.start()] + rest[found.end() :]).strip()
    data_path = str(Path(found.group(1)).expanduser().absolute())
    return LakeTarget(catalog=catalog, data_path=data_path.rstrip("/") + "/")


def extension_dir() -> str:
    """Where the extensions are installed from their packages (per user; shared by processes)."""
    default = Path.home() / ".cache" / "hotline" / "duckdb-extensions"
    return os.environ.get(EXTENSION_DIR_ENV) or str(default)


def _extension_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    folder = Path(spec.origin).parent if spec and spec.origin else None
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension" if folder else None
    if path is None or not path.exists():
        pip_name = package.replace("_", "-")
        raise StoreError(
            f"缺少 DuckLake 所需的扩展包 {pip_name}=={duckdb.__version__}，请先安装（pip install -r requirements.txt）。",
            f"The package {pip_name}=={duckdb.__version__} that DuckLake needs is missing; "
            "install it (pip install -r requirements.txt).",
        )
    return path


def spill_dir() -> str:
    """This process's local folder for DuckDB's temporary files ($HOTLINE_DUCKDB_TEMP, or one
    under the system's temporary folder; per process, as two instances must not share one)."""
    base = os.environ.get("HOTLINE_DUCKDB_TEMP") or tempfile.gettempdir()
    return str(Path(base) / f"hotline-duckdb-{os.getpid()}")


def _install_extensions(config: dict[str, str]) -> None:
    """Copy the packaged extensions into the extension folder once (INSTALL from a file)."""
    with duckdb.connect(config=config) as boot:  # no extension loaded: milliseconds
        platform = boot.execute("PRAGMA platform").fetchone()[0]
        platform_dir = Path(config["extension_directory"]) / f"v{duckdb.__version__}" / platform
        for name, package in EXTENSIONS.items():
            if not (platform_dir / f"{name}.duckdb_extension").exists():
                boot.execute(f"INSTALL '{_extension_file(package, name)}'")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_lake(target: LakeTarget) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the lake (cursors too), creating it if new."""
    # DuckDB names its spill folder after the database path, which for a lake is the catalog's
    # connection string: large work (an upload's staging past db.UPLOAD_MEMORY_LIMIT) spills
    # to a local folder of this process instead (never the shared data folder)
    config = {"extension_directory": extension_dir(), "temp_directory": spill_dir()}
    Path(config["extension_directory"]).mkdir(parents=True, exist_ok=True)
    _install_extensions(config)
    Path(target.data_path).mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target.uri, config=config)
    except duckdb.InvalidInputException as exc:
        if "data_path is not set" not in str(exc):
            raise
        # a new lake: the first attach records the data path in the catalog, later ones read it
        with duckdb.connect(config=config) as boot:
            boot.execute(f"ATTACH {_quote(target.uri)} AS lake_boot (DATA_PATH {_quote(target.data_path)})")
        con = duckdb.connect(target.uri, config=config)
    stored = data_path(con)
    if stored is not None and stored.rstrip("/") != target.data_path.rstrip("/"):
        con.close()
        raise StoreError(
            f"该 DuckLake 的数据目录是 {stored}，而连接串写的是 {target.data_path}：请在每台机器上把同一目录挂载到同一路径。",
            f"This DuckLake's data folder is {stored} but the target says {target.data_path}: mount the same "
            "folder at the same path on every machine.",
        )
    _bootstrap(con)
    return con


def _bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """The lake's own tables: the write lock row and the id counters."""
    cur = con.cursor()
    for _ in range(5):
        try:
            cur.execute("BEGIN TRANSACTION")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {LOCK} (n BIGINT)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {COUNTERS} (name VARCHAR, value BIGINT)")
            if cur.execute(f"SELECT count(*) FROM {LOCK}").fetchone()[0] == 0:  # noqa: S608
                cur.execute(f"INSERT INTO {LOCK} VALUES (0)")  # noqa: S608
            cur.execute("COMMIT")
            set_inlining = (
                "SELECT count(*) FROM ducklake_options(current_database()) "
                "WHERE option_name = 'data_inlining_row_limit'"
            )
            if cur.execute(set_inlining).fetchone()[0] == 0:
                cur.execute(f"CALL set_option('data_inlining_row_limit', {INLINE_ROWS})")
            return
        except duckdb.TransactionException:  # another process made them at the same moment
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
    raise StoreError(
        "无法初始化 DuckLake 存储，请稍后重试。", "Could not initialise the DuckLake store; try again."
    )


def data_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The data folder of the lake behind `con` (None when it is not a lake)."""
    cur = con.cursor()
    row = cur.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or row[0] != "ducklake":
        return None
    found = cur.execute("SELECT data_path FROM ducklake_settings(current_database())").fetchone()
    return str(found[0]).rstrip("/") if found and found[0] else None


def lake_ddl(sql: str) -> tuple[list[str], list[str]]:
    """A schema step's statements as DuckLake takes them, and the sequences it declared.

    Sequences become rows of `lake_counters`; indexes are left out; PRIMARY KEY / UNIQUE
    constraints are dropped (the code keeps keys unique: every upsert is a MERGE)."""
    statements, sequences = [], []
    with duckdb.connect() as parser:
        parts = [s.query for s in parser.extract_statements(sql)]
    for text in parts:
        seq = _SEQUENCE.match(_strip_comments(text))
        if seq:
            sequences.append(seq.group(1))
            continue
        if _INDEX.match(_strip_comments(text)):
            continue
        body = _strip_comments(text)
        body = _TABLE_KEY.sub("", body)
        body = _COLUMN_KEY.sub("", body)
        statements.append(body)
    return statements, sequences


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip()


def add_counters(cur: duckdb.DuckDBPyConnection, sequences: list[str]) -> None:
    for name in sequences:
        if cur.execute(f"SELECT count(*) FROM {COUNTERS} WHERE name = ?", [name]).fetchone()[0] == 0:  # noqa: S608
            cur.execute(f"INSERT INTO {COUNTERS} VALUES (?, 0)", [name])  # noqa: S608


def next_id(cur: duckdb.DuckDBPyConnection, sequence: str) -> int:
    cur.execute(f"UPDATE {COUNTERS} SET value = value + 1 WHERE name = ?", [sequence])  # noqa: S608
    return int(cur.execute(f"SELECT value FROM {COUNTERS} WHERE name = ?", [sequence]).fetchone()[0])  # noqa: S608


def set_counter(cur: duckdb.DuckDBPyConnection, sequence: str, last: int) -> None:
    cur.execute(f"UPDATE {COUNTERS} SET value = ? WHERE name = ?", [int(last), sequence])  # noqa: S608


def take_write_lock(cur: duckdb.DuckDBPyConnection) -> None:
    """Touch the lock row: any two write transactions now conflict, and one of them fails whole."""
    cur.execute(f"UPDATE {LOCK} SET n = n + 1")  # noqa: S608
