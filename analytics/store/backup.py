"""Store administration: backup to Parquet, restore into an empty store, read the audit log.

A backup is a folder (or a ZIP of it) with one `<table>.parquet` per table plus
`manifest.json` = {"schema_version", "created_at", "counts": {table: rows}}. Every table is
included, the settings too (but not `derived_results`: stored results are rebuilt from the data
and a restore empties them), so the caller-hash salt and the caller key's fingerprint travel
with the tickets. `schema_version` itself is not copied: the target store is migrated by
`db.connect`.

The caller key never goes into a backup (analytics.callerkey): not the `<store>.key` file beside
the store, not $HOTLINE_CALLER_KEY. That is the point of it: a backup that leaks reveals no
caller. It also means a backup alone cannot continue the repeat-caller links: to restore on
another machine, copy the key file there too (kept apart from the backups, e.g. in the
password safe) as `<new store>.key`, mode 0600, before or after the restore. Until it is there,
uploads into the restored store are refused with a message that says so; the restored tickets
and every page still work. A backup from before keyed hashes (store version < 5), or from
before a rotation of the target's own keys, is re-keyed with the target's keys as it is
restored.

A restore runs in one transaction: it checks the manifest against the files, refuses a store
that already holds data unless `overwrite=True`, inserts every table by column name and moves
the id sequences past the restored ids.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from analytics import privacy
from analytics.errors import ValidationError
from analytics.store import callerkey, db

MANIFEST = "manifest.json"
SKIP_TABLES = frozenset({"schema_version"})  # written by migrations, not by users
# stored results rebuilt from the data (analytics.store.results): never backed up, a restore empties
# them, and a backup that holds one anyway has it ignored
DERIVED_TABLES = frozenset({"derived_results"})
# sequence -> (table, id column): after a restore each sequence must start past the ids in use
SEQUENCES: dict[str, tuple[str, str]] = {
    "seq_batch": ("ingest_batches", "batch_id"),
    "seq_snapshot": ("ranking_snapshots", "snapshot_id"),
    "seq_taskforce": ("task_forces", "taskforce_id"),
    "seq_action": ("taskforce_actions", "action_id"),
    "seq_model": ("category_models", "model_id"),
}
AUDIT_LIMIT = 5000  # rows the admin page reads at most


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _all_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(db.store_tables(con))


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables a backup holds: the users' data."""
    return sorted(_all_tables(con) - SKIP_TABLES - DERIVED_TABLES)


def _data_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {name: n for name, n in db.table_counts(con).items() if name not in SKIP_TABLES | DERIVED_TABLES}


def backup_to_dir(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> dict[str, int]:
    """Write every table to `out_dir/<table>.parquet` plus the manifest; returns rows per table."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    cur = db.cursor(con)
    try:
        # one read transaction: all tables from the same moment even if someone writes meanwhile
        cur.execute("BEGIN TRANSACTION")
        for name in _tables(con):
            table = cur.execute(f"SELECT * FROM {_quote(name)}").arrow()  # noqa: S608 - catalog name
            if hasattr(table, "read_all"):  # newer DuckDB returns a RecordBatchReader
                table = table.read_all()
            pq.write_table(table, out / f"{name}.parquet")
            counts[name] = table.num_rows
        cur.execute("COMMIT")
    except duckdb.Error as exc:
        raise db.translate(exc) from None
    finally:
        cur.close()
    manifest = {
        "schema_version": db.schema_version(con),
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "counts": counts,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return counts


def backup_zip_bytes(con: duckdb.DuckDBPyConnection) -> bytes:
    """The backup folder as one ZIP file, for a download button."""
    with tempfile.TemporaryDirectory(prefix="hotline-backup-") as tmp:
        backup_to_dir(con, tmp)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(Path(tmp).iterdir()):
                zf.write(path, arcname=path.name)
        return buffer.getvalue()


def _read_manifest(in_dir: Path) -> dict[str, Any]:
    path = in_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        counts = {str(k): int(v) for k, v in manifest["counts"].items()}
        version = int(manifest["schema_version"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ValidationError(
            "这不是本系统的备份：缺少或无法读取 manifest.json。请选择“生成备份”得到的 ZIP 文件。",
            "This is not a backup of this tool: manifest.json is missing or unreadable. "
            "Choose a ZIP made by 'Prepare a backup'.",
        ) from None
    return {"counts": counts, "schema_version": version}


def restore_from_dir(
    con: duckdb.DuckDBPyConnection, in_dir: str | Path, overwrite: bool = False, user: str | None = None
) -> dict[str, int]:
    """Load a backup folder into this store; returns rows restored per table.

    Raises ValidationError when the store already holds data and `overwrite` is False, when
    the backup comes from a newer program, or when its files do not match its manifest.
    Nothing changes unless everything succeeds.
    """
    folder = Path(in_dir)
    manifest = _read_manifest(folder)
    manifest["counts"] = {
        name: n for name, n in manifest["counts"].items() if name not in SKIP_TABLES | DERIVED_TABLES
    }
    current_version = db.schema_version(con)
    if manifest["schema_version"] > current_version:
        raise ValidationError(
            f"该备份来自更新版本的程序（数据库版本 {manifest['schema_version']}，本程序 {current_version}），"
            "请先升级程序。",
            f"The backup comes from a newer program (store version {manifest['schema_version']}, "
            f"this program {current_version}); upgrade first.",
        )
    store_tables = set(_tables(con))
    unknown = sorted(set(manifest["counts"]) - store_tables)
    if unknown:
        raise ValidationError(
            f"备份中的表在本数据库中不存在：{'、'.join(unknown)}。",
            f"The backup holds tables this store does not have: {', '.join(unknown)}.",
        )
    tables = {}
    for name, expected in manifest["counts"].items():
        path = folder / f"{name}.parquet"
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:
            raise ValidationError(
                f"备份文件 {path.name} 缺失或已损坏。", f"Backup file {path.name} is missing or damaged."
            ) from exc
        if table.num_rows != expected:
            raise ValidationError(
                f"备份文件 {path.name} 的行数（{table.num_rows}）与清单（{expected}）不符，备份可能不完整。",
                f"{path.name} has {table.num_rows} rows but the manifest says {expected}; "
                "the backup may be incomplete.",
            )
        tables[name] = table
    # the caller hashes restored are brought under this store's keys where they can be: plain
    # salted ones from before keyed hashing, or ones from before a rotation of these keys
    legacy = manifest["schema_version"] < callerkey.HMAC_SCHEMA_VERSION
    try:
        caller_keys = callerkey.load_keys(db.store_path(con), create=True)
    except callerkey.CallerKeyError:
        if legacy:  # plain hashes must not be stored again without a key
            raise
        caller_keys = None  # restored as they are; uploads say what is wrong with the key
    rows = _data_rows(con)
    # every store records its caller key's fingerprint on its first start: that row alone is no
    # data a restore could destroy
    if db.get_setting(con, callerkey.FINGERPRINT_SETTING) is not None:
        rows["settings"] -= 1
    nonempty = {name: n for name, n in rows.items() if n}
    if nonempty and not overwrite:
        raise ValidationError(
            f"当前数据库已有数据（{sum(nonempty.values())} 行），为防止误覆盖已拒绝恢复。"
            "如确需用备份替换全部数据，请勾选覆盖确认后重试。",
            f"The store already holds data ({sum(nonempty.values())} rows); restore refused so "
            "nothing is overwritten by mistake. Tick the overwrite confirmation to replace everything.",
        )
    restored: dict[str, int] = {}
    with db.transaction(con) as cur:
        # derived results were computed from the data being replaced
        for name in sorted(store_tables | (_all_tables(con) & DERIVED_TABLES)):
            cur.execute(f"DELETE FROM {_quote(name)}")  # noqa: S608 - catalog name
        for name, table in sorted(tables.items()):
            if table.num_rows:
                cur.register("restore_source", table)
                cur.execute(f"INSERT INTO {_quote(name)} BY NAME SELECT * FROM restore_source")  # noqa: S608
                cur.unregister("restore_source")
            restored[name] = table.num_rows
        if caller_keys is not None:
            callerkey.catch_up(cur, caller_keys, legacy=legacy)
        # a backup made before today's masking rule may hold numbers in its text
        privacy.remask_stored_text(cur)
        for sequence, (table_name, column) in SEQUENCES.items():
            if table_name not in store_tables:
                continue
            sql = f"SELECT coalesce(max({_quote(column)}), 0) FROM {_quote(table_name)}"  # noqa: S608
            db.restart_sequence(cur, sequence, int(cur.execute(sql).fetchone()[0]))
        db.audit(cur, user, "restore", {"rows": sum(restored.values()), "overwrite": overwrite})
    return restored


def restore_from_zip(
    con: duckdb.DuckDBPyConnection, zip_path: str | Path, overwrite: bool = False, user: str | None = None
) -> dict[str, int]:
    """Restore from a ZIP made by `backup_zip_bytes`. Only flat *.parquet / manifest.json
    entries are extracted, so a crafted archive cannot write outside a temporary folder."""
    try:
        with zipfile.ZipFile(zip_path) as zf, tempfile.TemporaryDirectory(prefix="hotline-restore-") as tmp:
            for info in zf.infolist():
                name = info.filename
                if "/" in name or "\\" in name or not (name == MANIFEST or name.endswith(".parquet")):
                    continue
                (Path(tmp) / name).write_bytes(zf.read(info))
            return restore_from_dir(con, tmp, overwrite=overwrite, user=user)
    except zipfile.BadZipFile:
        raise ValidationError(
            "无法读取该文件：它不是 ZIP 格式的备份。", "Cannot read this file: it is not a ZIP backup."
        ) from None


def audit_log(
    con: duckdb.DuckDBPyConnection,
    user: str | None = None,
    action: str | None = None,
    text: str | None = None,
    limit: int = AUDIT_LIMIT,
) -> pd.DataFrame:
    """Newest audit entries first, optionally only one user's / one action's / containing text."""
    return db.query_df(
        con,
        """
        SELECT logged_at, "user", action, detail FROM audit_log
        WHERE (? IS NULL OR "user" = ?)
          AND (? IS NULL OR action = ?)
          AND (? IS NULL OR contains(lower(coalesce(detail, '')), lower(?)))
        ORDER BY logged_at DESC
        LIMIT ?
        """,
        [user, user, action, action, text or None, text or None, int(limit)],
    )


def audit_actions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The distinct actions in the audit log, for a filter menu."""
    df = db.query_df(con, "SELECT DISTINCT action FROM audit_log ORDER BY action")
    return list(df["action"])


def audit_users(con: duckdb.DuckDBPyConnection) -> list[str]:
    df = db.query_df(con, 'SELECT DISTINCT "user" FROM audit_log WHERE "user" IS NOT NULL ORDER BY 1')
    return list(df["user"])
