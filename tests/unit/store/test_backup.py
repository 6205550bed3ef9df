"""Backup to Parquet and restore: same rows after a round trip, no accidental overwrite."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.services import auth
from analytics.store import backup, callerkey, db
from tests.fixtures.callers import (
    PHONES,
    file_keys,
    inner,
    keyed,
    links,
    make_unkeyed_store,
    new_store,
    phone_of,
    same_caller_flags,
    stored_hashes,
    upload,
)

pytestmark = pytest.mark.backends


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
        ({"text": "unknown user"}, {"login_failed"}),  # unknown names are logged only as a digest
        ({"text": "ADMIN"}, {"add_user"}),  # case-insensitive search in the detail
    ],
)
def test_audit_log_filters(store, filters: dict, expected_actions: set[str]) -> None:
    auth.add_user(store, "admin1", "long-enough-password", "admin")
    auth.authenticate(store, "admin1", "long-enough-password")
    auth.authenticate(store, "nobody", "x")
    df = backup.audit_log(store, **filters)
    assert set(df["action"]) == expected_actions


# --- the caller key stays out of every backup --------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "folder",
        "zip",
    ],
)
def test_a_backup_never_holds_the_caller_key(tmp_path: Path, form: str) -> None:
    path = tmp_path / "a.duckdb"
    source = new_store(path)
    upload(source, tmp_path, "A")
    callerkey.rotate_key(source)  # a chain of two keys: neither may leak
    keys = [k.hex() for k in file_keys(path)]
    out = tmp_path / "bk"
    if form == "zip":
        out.mkdir()
        with zipfile.ZipFile(io.BytesIO(backup.backup_zip_bytes(source))) as zf:
            zf.extractall(out)
    else:
        backup.backup_to_dir(source, out)
    files = sorted(p.name for p in out.iterdir())
    assert not [name for name in files if "key" in name]
    for name in files:
        raw = (out / name).read_bytes()
        assert not any(k.encode() in raw or bytes.fromhex(k) in raw for k in keys), name
        if name.endswith(".parquet"):
            cells = pd.read_parquet(out / name).astype(str).to_numpy().ravel()
            assert not any(k in cell for k in keys for cell in cells), name


def test_restore_on_another_machine_needs_the_key_file(tmp_path: Path) -> None:
    """Back up, restore into a fresh folder without the key file: uploads are refused with the
    message; copy the key file and the next upload links to the callers of before the backup."""
    origin = tmp_path / "origin" / "hotline.duckdb"
    origin.parent.mkdir()
    source = new_store(origin)
    upload(source, tmp_path, "A")
    backup.backup_to_dir(source, tmp_path / "bk")
    source.close()
    target_path = tmp_path / "elsewhere" / "hotline.duckdb"
    target = db.connect(target_path)  # a store of its own, with a key of its own
    backup.restore_from_dir(target, tmp_path / "bk")
    assert db.query_one(target, "SELECT count(*) FROM tickets") == len(PHONES) * 2
    with pytest.raises(callerkey.CallerKeyError) as info:
        upload(target, tmp_path, "B", day=10)
    assert str(target_path) + ".key" in info.value.en and "does not match" in info.value.en
    assert "密钥与数据库不符" in info.value.zh and "\n" not in info.value.one_line()
    assert db.query_one(target, "SELECT count(*) FROM tickets") == len(PHONES) * 2
    shutil.copy(f"{origin}.key", f"{target_path}.key")  # the key file, carried apart from the backup
    assert upload(target, tmp_path, "B", day=10).inserted == len(PHONES) * 2
    assert len(links(target)) == len(PHONES)  # one caller, one hash, before and after the backup
    flags = same_caller_flags(target)
    assert all(flags[f"B{i}-0"] for i in range(len(PHONES)))


def test_a_backup_from_before_keyed_hashes_is_keyed_as_it_is_restored(tmp_path: Path) -> None:
    old = make_unkeyed_store(tmp_path / "old.duckdb", tmp_path)
    salt = db.caller_salt(old)
    plain = stored_hashes(old)
    links_before = links(old)
    counts = backup.backup_to_dir(old, tmp_path / "bk")
    assert counts["tickets"] == len(PHONES) * 2
    assert json.loads((tmp_path / "bk" / "manifest.json").read_text())["schema_version"] < 5
    target_path = tmp_path / "new.duckdb"
    target = db.connect(target_path)
    backup.restore_from_dir(target, tmp_path / "bk")
    keys = file_keys(target_path)
    assert stored_hashes(target) == {t: keyed(keys, h) for t, h in plain.items()}
    assert not set(stored_hashes(target).values()) & {inner(salt, p) for p in PHONES}
    assert links(target) == links_before
    upload(target, tmp_path, "B", day=10)  # accepted: the fingerprint is this store's
    assert len(links(target)) == len(PHONES)


def test_a_backup_from_before_a_rotation_is_brought_up_to_the_rotated_key(tmp_path: Path) -> None:
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    backup.backup_to_dir(con, tmp_path / "bk")
    callerkey.rotate_key(con)
    backup.restore_from_dir(con, tmp_path / "bk", overwrite=True)
    keys = file_keys(path)
    salt = db.caller_salt(con)
    hashes = stored_hashes(con)
    assert hashes == {t: keyed(keys, inner(salt, phone_of(t))) for t in hashes}
    upload(con, tmp_path, "B", day=10)
    assert len(links(con)) == len(PHONES)


def test_a_backup_holding_raw_numbers_is_masked_as_it_is_restored(tmp_path: Path) -> None:
    """Text written before today's masking rule (or by hand) comes back masked."""
    source = db.connect(tmp_path / "a.duckdb")
    _fill(source)
    with db.transaction(source) as cur:  # as an older version stored it
        cur.execute("UPDATE tickets SET content = '来电人电话138 1234 5678，身份证370102199001011234'")
    backup.backup_to_dir(source, tmp_path / "bk")
    target = db.connect(tmp_path / "b.duckdb")
    backup.restore_from_dir(target, tmp_path / "bk")
    texts = db.query_df(target, "SELECT content FROM tickets")["content"]
    assert len(texts) == 10
    assert not texts.str.contains("5678|1234$|19900101").any(), texts.tolist()
