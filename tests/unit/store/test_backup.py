"""Backup to Parquet and restore: same rows after a round trip, no accidental overwrite."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from analytics.errors import ValidationError
from analytics.services import auth
from analytics.store import backup, db


def _fill(con) -> None:
    """A small store touching several tables, sequences and the caller salt."""
    db.caller_salt(con)
    with db.transaction(con) as cur:
        for i in range(3):
            cur.execute(
                "INSERT INTO compounds (compound_id, name, community, subdistrict, households) VALUES (?, ?, ?, ?, ?)",
                [f"C{i}", f"小区{i}", "社区A", "街道A", 100 + i],
            )
        for _ in range(2):
            batch = db.next_id(cur, "seq_batch")
            cur.execute(
                "INSERT INTO ingest_batches (batch_id, file_name, loaded_at, rows_read) VALUES (?, ?, now(), 5)",
                [batch, f"f{batch}.csv"],
            )
            for j in range(5):
                cur.execute(
                    "INSERT INTO tickets (ticket_id, created_at, content, compound_id, batch_id) "
                    "VALUES (?, TIMESTAMP '2024-01-01' + to_days(?), ?, ?, ?)",
                    [f"T{batch}-{j}", j, f"漏水 {j}", f"C{j % 3}", batch],
                )
        cur.execute(
            "INSERT INTO category_models VALUES (?, now(), 10, '{}', ?)",
            [db.next_id(cur, "seq_model"), b"\x00\x01"],
        )
    auth.add_user(con, "admin1", "long-enough-password", "admin")


def test_round_trip_gives_identical_counts(tmp_path: Path) -> None:
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    counts = backup.backup_to_dir(source, tmp_path / "bk")
    assert counts["tickets"] == 10
    assert counts["compounds"] == 3
    assert "schema_version" not in counts

    target = db.connect(tmp_path / "b.duckdb")
    restored = backup.restore_from_dir(target, tmp_path / "bk")
    assert restored == counts
    before, after = db.table_counts(source), db.table_counts(target)
    after.pop("audit_log"), before.pop("audit_log")  # the restore itself is audited
    assert after == before
    # the salt came along, so repeat callers hash the same way after the restore
    assert db.caller_salt(target) == db.caller_salt(source)
    # users can still log in with their old password
    assert auth.authenticate(target, "admin1", "long-enough-password") is not None
    # the binary model survived
    assert db.query_one(target, "SELECT model FROM category_models") == b"\x00\x01"


def test_sequences_continue_after_restored_ids(tmp_path: Path) -> None:
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    backup.backup_to_dir(source, tmp_path / "bk")
    target = db.connect(tmp_path / "b.duckdb")
    backup.restore_from_dir(target, tmp_path / "bk")
    with db.transaction(target) as cur:
        assert db.next_id(cur, "seq_batch") == 3
        assert db.next_id(cur, "seq_model") == 2


@pytest.mark.parametrize(
    ("overwrite", "refused"),
    [
        (False, True),  # a store with data is never overwritten silently
        (True, False),  # ... only with the explicit confirmation
    ],
)
def test_non_empty_store_needs_overwrite(tmp_path: Path, overwrite: bool, refused: bool) -> None:
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    backup.backup_to_dir(source, tmp_path / "bk")
    target = db.connect(tmp_path / "b.duckdb")
    auth.add_user(target, "other", "long-enough-password", "admin")
    with db.transaction(target) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('X9', '别的小区')")
    if refused:
        with pytest.raises(ValidationError, match="已有数据"):
            backup.restore_from_dir(target, tmp_path / "bk", overwrite=overwrite)
        assert db.query_one(target, "SELECT count(*) FROM compounds") == 1
    else:
        backup.restore_from_dir(target, tmp_path / "bk", overwrite=overwrite)
        ids = db.query_df(target, "SELECT compound_id FROM compounds ORDER BY 1")["compound_id"].tolist()
        assert ids == ["C0", "C1", "C2"]
        assert auth.get_user(target, "other") is None


def test_zip_round_trip(tmp_path: Path) -> None:
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    data = backup.backup_zip_bytes(source)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {"manifest.json", "tickets.parquet", "settings.parquet"} <= names
    (tmp_path / "b.zip").write_bytes(data)
    target = db.connect(tmp_path / "b.duckdb")
    restored = backup.restore_from_zip(target, tmp_path / "b.zip")
    assert restored["tickets"] == 10


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "不是 ZIP"),
        ("zip-without-manifest", "manifest.json"),
    ],
)
def test_bad_backup_files_are_refused(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "bad.zip"
    if content == "zip-without-manifest":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("tickets.parquet", b"x")
    else:
        path.write_bytes(content)
    target = db.connect(tmp_path / "b.duckdb")
    with pytest.raises(ValidationError, match=message):
        backup.restore_from_zip(target, path)


def test_truncated_backup_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    backup.backup_to_dir(source, tmp_path / "bk")
    (tmp_path / "bk" / "tickets.parquet").unlink()
    target = db.connect(tmp_path / "b.duckdb")
    with pytest.raises(ValidationError, match="tickets.parquet"):
        backup.restore_from_dir(target, tmp_path / "bk")
    assert db.query_one(target, "SELECT count(*) FROM compounds") == 0


@pytest.mark.parametrize(
    ("filters", "expected_actions"),
    [
        ({}, {"add_user", "login", "login_failed"}),
        ({"action": "login"}, {"login"}),
        ({"user": "nobody"}, {"login_failed"}),
        ({"text": "ADMIN"}, {"add_user"}),  # case-insensitive search in the detail
    ],
)
def test_audit_log_filters(store, filters: dict, expected_actions: set[str]) -> None:
    auth.add_user(store, "admin1", "long-enough-password", "admin")
    auth.authenticate(store, "admin1", "long-enough-password")
    auth.authenticate(store, "nobody", "x")
    df = backup.audit_log(store, **filters)
    assert set(df["action"]) == expected_actions
