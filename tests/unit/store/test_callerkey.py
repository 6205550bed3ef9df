"""Caller hashes keyed with a key kept outside the store: the salted hash alone names nobody.

Real DuckDB files, real uploads through the real parser, the real batch interface in
subprocesses. The keys are read back from the key file and checked with Python's hmac module,
never with the code under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.ingest import pipeline as ingest
from analytics.metrics import repeats
from analytics.store import backup, callerkey, db
from analytics.store.callerkey import CallerKeyError
from tests.fixtures.callers import (
    HEADERS,
    OTHER_KEY,
    PHONES,
    ROOT,
    SEARCH,
    file_keys,
    inner,
    keyed,
    links,
    make_unkeyed_store,
    new_store,
    phone_of,
    run_cli,
    same_caller_flags,
    stored_hashes,
    ticket_rows,
    upload,
)

pytestmark = pytest.mark.backends

# --- the hash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_keys",
    [
        1,  # a store that was never rotated
        2,  # rotated once
        5,  # rotated four times
    ],
)
def test_hmac_in_duckdb_equals_pythons_hmac(n_keys: int) -> None:
    keys = tuple(hashlib.sha256(f"key{i}".encode()).digest() for i in range(n_keys))
    values = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(5000)]
    values += ["", "x", "中文来电", "a" * 200, "13800131234"]
    expr, params = callerkey.sql_keyed("v", keys)
    frame = pd.DataFrame({"v": values})
    with duckdb.connect() as con:
        con.register("src", frame)
        got = con.execute(f"SELECT {expr} FROM src", params).fetchall()
    assert [g[0] for g in got] == [keyed(list(keys), v) for v in values]


def test_an_upload_stores_the_keyed_salted_hash_and_the_key_file_is_private(
    store, store_target, tmp_path
) -> None:
    path = Path(db.store_path(store))
    with db.transaction(store) as cur:
        cur.execute(
            "INSERT INTO compounds (compound_id, name) VALUES ('C0', '小区0'), ('C1', '小区1'), ('C2', '小区2')"
        )
    upload(store, tmp_path, "A")
    key_path = Path(f"{path}.key")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    keys = file_keys(path)
    assert len(keys) == 1 and len(keys[0]) == 32
    salt = db.caller_salt(store)
    assert stored_hashes(store) == {t: keyed(keys, inner(salt, phone_of(t))) for t in stored_hashes(store)}
    store.close()
    again = db.connect(store_target)  # reopened: the same key, not a new one
    assert file_keys(path) == keys
    upload(again, tmp_path, "B", day=10)
    assert len(links(again)) == len(PHONES)  # the new tickets joined the old callers
    again.close()


def test_the_salt_and_a_backup_without_the_key_name_no_caller(tmp_path) -> None:
    """The outside attack: a copy of the store file and a backup, the salt in both, every
    number of the block tried in DuckDB. Without the key file nothing matches; with it, all."""
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    backup.backup_to_dir(con, tmp_path / "bk")
    con.close()
    attacker = duckdb.connect()
    attacker.execute(f"ATTACH '{path}' AS stolen (READ_ONLY)")
    salt = attacker.execute(
        f"SELECT value FROM read_parquet('{tmp_path / 'bk' / 'settings.parquet'}') WHERE key = 'caller_salt'"
    ).fetchone()[0]
    assert (
        salt == attacker.execute("SELECT value FROM stolen.settings WHERE key = 'caller_salt'").fetchone()[0]
    )
    attacker.execute(
        f"""CREATE TABLE seen AS SELECT caller_hash AS h FROM stolen.tickets
            UNION SELECT caller_hash FROM read_parquet('{tmp_path / "bk" / "tickets.parquet"}')"""
    )
    found = attacker.execute(
        "SELECT count(*) FROM range(?, ?) r(n) JOIN seen ON seen.h = sha256(? || n::VARCHAR)",
        [SEARCH.start, SEARCH.stop, salt],
    ).fetchone()[0]
    assert found == 0
    keys = file_keys(path)  # the same search with the key file
    seen = {row[0] for row in attacker.execute("SELECT h FROM seen").fetchall()}
    named = {str(n) for n in SEARCH if keyed(keys, inner(salt, str(n))) in seen}
    assert named == set(PHONES)


# --- where the key lives -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ("not a key at all\n", 0o600, "malformed"),
        ("abcd\n", 0o600, "malformed"),  # far too short to be a key
        ("", 0o600, "malformed"),  # emptied
        ("ab" * 65 + "\n", 0o600, "malformed"),  # longer than one hash block
        ("\xff\xfe binary", 0o600, "malformed"),
        (None, 0o644, "chmod 600"),  # the right key, readable by everyone
        (None, 0o640, "chmod 600"),  # ... by the group
        (None, 0o604, "chmod 600"),  # ... by others
    ],
)
def test_an_unusable_key_file_is_refused_and_nothing_is_written(
    store, tmp_path, content, mode, message
) -> None:
    with db.transaction(store) as cur:
        cur.execute(
            "INSERT INTO compounds (compound_id, name) VALUES ('C0', '小区0'), ('C1', '小区1'), ('C2', '小区2')"
        )
    upload(store, tmp_path, "A")
    key_path = Path(f"{db.store_path(store)}.key")
    if content is not None:
        key_path.write_text(content, encoding="latin-1")
    key_path.chmod(mode)
    with pytest.raises(CallerKeyError) as info:
        upload(store, tmp_path, "B", day=10)
    assert message in info.value.en and "密钥" in info.value.zh and "\n" not in info.value.one_line()
    assert db.query_one(store, "SELECT count(*) FROM tickets") == len(PHONES) * 2


@pytest.mark.parametrize(
    "mode",
    [
        0o600,  # as created
        0o400,  # made read-only by its owner
    ],
)
def test_a_key_file_only_its_owner_reads_is_used(store, tmp_path, mode) -> None:
    with db.transaction(store) as cur:
        cur.execute(
            "INSERT INTO compounds (compound_id, name) VALUES ('C0', '小区0'), ('C1', '小区1'), ('C2', '小区2')"
        )
    Path(f"{db.store_path(store)}.key").chmod(mode)
    assert upload(store, tmp_path, "A").inserted == len(PHONES) * 2


def test_the_environment_key_is_used_and_no_key_file_is_made(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(callerkey.ENV_VAR, OTHER_KEY)
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    assert not Path(f"{path}.key").exists()
    salt = db.caller_salt(con)
    assert set(stored_hashes(con).values()) == {
        keyed([bytes.fromhex(OTHER_KEY)], inner(salt, p)) for p in PHONES
    }


@pytest.mark.parametrize(
    "value",
    [
        "zz" * 32,  # not hex
        "ab" * 8,  # 8 bytes: too short to be a key
        "ab" * 32 + ",xyz",  # the second key of the chain is broken
    ],
)
def test_a_malformed_environment_key_is_refused_before_any_hash_is_made(tmp_path, monkeypatch, value) -> None:
    monkeypatch.setenv(callerkey.ENV_VAR, value)
    path = tmp_path / "hotline.duckdb"
    with pytest.raises(CallerKeyError, match="HOTLINE_CALLER_KEY"):
        db.connect(path)
    monkeypatch.delenv(callerkey.ENV_VAR)
    con = db.connect(path)  # once the environment is put right, the store opens
    assert db.schema_version(con) == db.SCHEMA_VERSION and Path(f"{path}.key").exists()


def test_an_in_memory_store_keys_with_a_key_of_the_process(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    con = new_store(Path(":memory:"))
    upload(con, tmp_path, "A")
    assert len(links(con)) == len(PHONES)
    assert list(tmp_path.glob("*.key")) == []
    salt = db.caller_salt(con)
    assert not set(stored_hashes(con).values()) & {inner(salt, p) for p in PHONES}


# --- a key that is not the store's -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("replace", "does not match"),  # another machine's key file
        ("delete", "missing"),  # the key file left behind
        ("env", "does not match"),  # the environment names another key
    ],
)
def test_uploads_refuse_a_key_that_is_not_the_stores(tmp_path, monkeypatch, change, message) -> None:
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    key_path = Path(f"{path}.key")
    right = key_path.read_bytes()
    if change == "replace":
        key_path.write_text(OTHER_KEY + "\n")
    elif change == "delete":
        key_path.unlink()
    else:
        monkeypatch.setenv(callerkey.ENV_VAR, OTHER_KEY)
    for dry_run in (True, False):
        with pytest.raises(CallerKeyError) as info:
            path_b = tmp_path / "B.csv"
            pd.DataFrame(ticket_rows("B", 10), columns=HEADERS).to_csv(path_b, index=False)
            ingest.ingest_file(con, path_b, dry_run=dry_run)
        assert message in info.value.en and "密钥" in info.value.zh
    assert db.query_one(con, "SELECT count(*) FROM tickets") == len(PHONES) * 2
    monkeypatch.delenv(callerkey.ENV_VAR, raising=False)
    key_path.unlink(missing_ok=True)
    key_path.write_bytes(right)
    key_path.chmod(0o600)
    assert upload(con, tmp_path, "B", day=10).inserted == len(PHONES) * 2
    assert len(links(con)) == len(PHONES)  # every new ticket found its caller


def test_cli_ingest_under_a_foreign_key_exits_2_with_one_line(tmp_path) -> None:
    path = tmp_path / "hotline.duckdb"
    new_store(path).close()
    for prefix in ("A", "B"):
        pd.DataFrame(ticket_rows(prefix, 1), columns=HEADERS).to_csv(tmp_path / f"{prefix}.csv", index=False)
    assert run_cli(path, "tickets", "ingest", str(tmp_path / "A.csv")).returncode == 0
    Path(f"{path}.key").write_text(OTHER_KEY + "\n")
    result = run_cli(path, "tickets", "ingest", str(tmp_path / "B.csv"))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "密钥与数据库不符" in result.stderr and "caller key does not match" in result.stderr
    con = db.connect(path, read_only=True)
    assert db.query_one(con, "SELECT count(*) FROM tickets") == len(PHONES) * 2


# --- the migration -----------------------------------------------------------------------------


def test_the_migration_rekeys_old_hashes_and_keeps_every_link(tmp_path) -> None:
    path = tmp_path / "hotline.duckdb"
    con = make_unkeyed_store(path, tmp_path)
    salt = db.caller_salt(con)
    before = {"tickets": stored_hashes(con), "ticket_history": stored_hashes(con, "ticket_history")}
    flags_before, links_before = same_caller_flags(con), links(con)
    con.close()
    con = db.connect(path)  # the migration runs
    keys = file_keys(path)
    assert stat.S_IMODE(Path(f"{path}.key").stat().st_mode) == 0o600
    for table, old in before.items():
        assert stored_hashes(con, table) == {t: keyed(keys, h) for t, h in old.items()}, table
        assert not set(stored_hashes(con, table).values()) & {inner(salt, p) for p in PHONES}
    assert db.get_setting(con, callerkey.FINGERPRINT_SETTING) == keyed(keys, callerkey.MARKER)
    assert same_caller_flags(con) == flags_before and links(con) == links_before
    upload(con, tmp_path, "B", day=10)  # new tickets from the same numbers
    assert len(links(con)) == len(PHONES)
    flags = same_caller_flags(con)
    assert all(flags[f"B{i}-0"] for i in range(len(PHONES)))  # repeats of the migrated tickets


# --- rotation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rotations",
    [
        1,
        3,
    ],
)
def test_rotation_keeps_links_and_the_old_key_alone_opens_nothing(tmp_path, rotations) -> None:
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    salt = db.caller_salt(con)
    old_keys = file_keys(path)
    rate_before = repeats.repeat_rate(con)
    flags_before, links_before = same_caller_flags(con), links(con)
    for n in range(rotations):
        out = callerkey.rotate_key(con, user="admin1")
        assert out["keys"] == n + 2 and out["rekeyed_tickets"] == len(PHONES) * 2
    keys = file_keys(path)
    assert len(keys) == rotations + 1 and keys[:1] == old_keys
    assert stat.S_IMODE(Path(f"{path}.key").stat().st_mode) == 0o600
    assert not Path(f"{path}.key.new").exists()
    assert db.get_setting(con, callerkey.FINGERPRINT_SETTING) == keyed(keys, callerkey.MARKER)
    hashes = stored_hashes(con)
    assert hashes == {t: keyed(keys, inner(salt, phone_of(t))) for t in hashes}
    for upto in range(1, len(keys)):  # every older chain, the first key alone included
        assert not set(hashes.values()) & {keyed(keys[:upto], inner(salt, p)) for p in PHONES}
    assert same_caller_flags(con) == flags_before and links(con) == links_before
    pd.testing.assert_frame_equal(repeats.repeat_rate(con), rate_before)
    upload(con, tmp_path, "B", day=10)  # uploads after the rotation still find their callers
    assert len(links(con)) == len(PHONES)
    audit = db.query_df(con, "SELECT detail FROM audit_log WHERE action = 'rotate_caller_key'")
    assert len(audit) == rotations and not any(k.hex() in d for k in keys for d in audit["detail"])


def test_cli_rotate_key(tmp_path) -> None:
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    links_before = links(con)
    con.close()
    result = run_cli(path, "callers", "rotate-key")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["keys"], out["rekeyed_tickets"], out["key_file"]) == (2, len(PHONES) * 2, f"{path}.key")
    con = db.connect(path)
    assert links(con) == links_before and len(file_keys(path)) == 2


def test_cli_rotate_key_with_the_environment_key_says_how(tmp_path) -> None:
    path = tmp_path / "hotline.duckdb"
    assert run_cli(path, "init", env_key=OTHER_KEY).returncode == 0
    result = run_cli(path, "callers", "rotate-key", env_key=OTHER_KEY)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "unset HOTLINE_CALLER_KEY" in result.stderr and "callers rotate-key" in result.stderr
    assert f"{path}.key" in result.stderr


def test_a_rotation_killed_after_its_commit_is_finished_on_the_next_start(tmp_path) -> None:
    """The process dies between the commit and the rename: the store is under the new chain,
    the old file still in place, the new one beside it. The next use adopts the new file."""
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    con.close()
    code = (
        "import os, sys\n"
        "from analytics.store import callerkey, db\n"
        "real = os.replace\n"
        "def dying(src, dst, *a, **k):\n"
        "    if str(src).endswith('.key.new'):\n"
        "        os._exit(9)\n"
        "    return real(src, dst, *a, **k)\n"
        "os.replace = dying\n"
        "callerkey.rotate_key(db.connect(sys.argv[1]))\n"
    )
    died = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, timeout=300)
    assert died.returncode == 9, died.stderr
    assert len(file_keys(path)) == 1 and Path(f"{path}.key.new").exists()
    con = db.connect(path)
    upload(con, tmp_path, "B", day=10)
    assert len(file_keys(path)) == 2 and not Path(f"{path}.key.new").exists()
    assert len(links(con)) == len(PHONES)


@pytest.mark.parametrize(
    "leftover",
    [
        "next-chain",  # written and synced, then the process died before its transaction committed
        "torn",  # the process died while writing it
    ],
)
def test_a_rotation_that_never_committed_leaves_the_key_as_it_was(tmp_path, leftover) -> None:
    path = tmp_path / "hotline.duckdb"
    con = new_store(path)
    upload(con, tmp_path, "A")
    keys = file_keys(path)
    pending = Path(f"{path}.key.new")
    text = "".join(k.hex() + "\n" for k in [*keys, os.urandom(32)]) if leftover == "next-chain" else "ab12"
    pending.write_text(text)
    pending.chmod(0o600)
    upload(con, tmp_path, "B", day=10)
    assert file_keys(path) == keys and not pending.exists()
    assert len(links(con)) == len(PHONES)


def test_rotating_an_in_memory_store_is_refused() -> None:
    con = db.connect(":memory:")
    with pytest.raises(ValidationError, match="in-memory"):
        callerkey.rotate_key(con)


# --- keyed digests (login names that match no account) ----------------------------------------


def test_keyed_digest_is_stable_per_store_and_unreadable_without_the_key(tmp_path) -> None:
    a = new_store(tmp_path / "a.duckdb")
    b = new_store(tmp_path / "b.duckdb")
    digest = callerkey.keyed_digest(a, "zhangsan")
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert callerkey.keyed_digest(a, "zhangsan") == digest
    assert callerkey.keyed_digest(a, "lisi") != digest
    assert callerkey.keyed_digest(b, "zhangsan") != digest  # another deployment, another key
    assert digest != hashlib.sha256(b"zhangsan").hexdigest()
    # a typed name equal to a salted hash does not give the stored caller hash back
    upload(a, tmp_path, "A")
    salt = db.caller_salt(a)
    assert callerkey.keyed_digest(a, inner(salt, PHONES[0])) not in set(stored_hashes(a).values())
    callerkey.rotate_key(a)
    assert callerkey.keyed_digest(a, "zhangsan") != digest
