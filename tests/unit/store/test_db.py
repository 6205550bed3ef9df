"""The store: migrations by version, transactions all-or-nothing, errors users can act on."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analytics.errors import StoreBusyError, StoreError, StoreMemoryError
from analytics.store import db

pytestmark = pytest.mark.backends


def test_new_store_is_migrated_to_current_version(store):
    assert db.schema_version(store) == db.SCHEMA_VERSION
    assert "tickets" in db.table_counts(store)


def test_reopening_does_not_migrate_twice(tmp_path):
    path = tmp_path / "s.duckdb"
    db.connect(path).close()
    con = db.connect(path)
    assert db.query_one(con, "SELECT count(*) FROM schema_version") == db.SCHEMA_VERSION


def test_transaction_rolls_back_everything_on_error(store):
    with pytest.raises(ZeroDivisionError), db.transaction(store) as cur:
        cur.execute("INSERT INTO subdistricts VALUES ('兰山街道')")
        raise ZeroDivisionError
    assert db.query_one(store, "SELECT count(*) FROM subdistricts") == 0


def test_caller_salt_is_created_once(store):
    assert db.caller_salt(store) == db.caller_salt(store)
    assert len(db.caller_salt(store)) == 32


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all" * 100,  # junk
        b"",  # empty file
    ],
)
def test_a_file_that_is_not_a_store_gives_a_bilingual_error(tmp_path, content):
    path = tmp_path / "broken.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        db.connect(path)
    assert "损坏" in info.value.zh and "damaged" in info.value.en
    assert "\n" not in info.value.one_line()


def test_a_version_1_store_is_migrated_forward_on_open(tmp_path):
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    con.execute("DROP TABLE compound_month")
    con.execute("DELETE FROM schema_version WHERE version > 1")
    con.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION >= 2
    assert "compound_month" in db.table_counts(con)


@pytest.mark.parametrize(
    ("table", "key", "rows", "not_null"),
    [
        (
            "tickets",
            "ticket_id",
            "(ticket_id, created_at, content, compound_id, batch_id) VALUES "
            "('T1', '2024-01-02 08:00', '楼道灯坏了', 'LS0001', 1), ('T2', '2024-01-03 09:00', NULL, NULL, 1)",
            {"ticket_id", "created_at", "is_valid", "reopened", "batch_id"},
        ),
        (
            "address_matches",
            "address",
            "(address, compound_id, match_score, status, candidates) VALUES "
            "('青松苑3号楼', 'LS0001', 0.95, 'confirmed', '[]'), ('不知道哪里', NULL, NULL, 'unmatched', '[]')",
            {"address", "status"},
        ),
    ],
)
def test_a_store_whose_keys_have_an_index_loses_it_and_keeps_every_row(tmp_path, table, key, rows, not_null):
    """Stores made before version 10 hold ticket_id and the cached address as primary keys; the
    migration rebuilds each table without the key, with every row, column type, default and NOT
    NULL as they were."""
    path = tmp_path / "keyed.duckdb"
    con = db.connect(path)
    ddl = db.query_one(con, "SELECT sql FROM duckdb_tables() WHERE table_name = ?", [table])
    con.execute(f"DROP TABLE {table}")
    con.execute(ddl.replace(f"{key} VARCHAR NOT NULL", f"{key} VARCHAR PRIMARY KEY"))
    con.execute(f"INSERT INTO {table} {rows}")
    before = db.query_df(con, f"SELECT * FROM {table} ORDER BY {key}")
    con.execute("DELETE FROM schema_version WHERE version >= 10")
    con.close()

    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION
    kinds = db.query_df(
        con,
        "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() WHERE table_name = ?",
        [table],
    )
    assert "PRIMARY KEY" not in set(kinds["constraint_type"])
    assert {c[0] for t, c in kinds.itertuples(index=False) if t == "NOT NULL"} == not_null
    pd.testing.assert_frame_equal(db.query_df(con, f"SELECT * FROM {table} ORDER BY {key}"), before)
    assert db.query_one(con, "SELECT sql FROM duckdb_tables() WHERE table_name = ?", [table]) == ddl
    with pytest.raises(duckdb.ConstraintException):
        con.execute(f"INSERT INTO {table} ({key}) VALUES (NULL)")


def test_two_writers_on_a_shared_store_never_half_land(store, store_target, backend):
    """Another process's write lands while this one's is open: this one fails whole at its
    commit, is told the store is busy, and lands when run again."""
    if backend != "ducklake":
        pytest.skip("the DuckDB file has one writing process; its writers queue on a lock")
    other = db.connect(store_target)  # a second process's connection: its own DuckDB instance
    try:
        with pytest.raises(StoreBusyError), db.transaction(store) as cur:
            cur.execute("INSERT INTO settings VALUES ('mine', '1')")
            with db.transaction(other) as theirs:
                theirs.execute("INSERT INTO settings VALUES ('theirs', '2')")
        assert db.get_setting(store, "mine") is None
        assert db.get_setting(store, "theirs") == "2"

        tries: list[StoreBusyError] = []

        def write() -> None:
            with db.transaction(store) as cur:
                db.set_setting(cur, "mine", "1")
                if not tries:  # the first time, another process commits in between
                    with db.transaction(other) as theirs:
                        db.set_setting(theirs, "theirs", "3")

        db.retrying(write, wait_s=0.01, on_retry=tries.append)
        assert len(tries) == 1
        assert (db.get_setting(store, "mine"), db.get_setting(store, "theirs")) == ("1", "3")
    finally:
        other.close()


def test_work_larger_than_memory_spills_to_a_local_folder(store):
    """A sort past the memory limit spills to DuckDB's temporary folder: for a DuckLake a local
    folder of the process (DuckDB would name it after the catalog's connection string)."""
    before = db.query_one(store, "SELECT current_setting('memory_limit')")
    store.execute("SET memory_limit = '64MB'")
    try:
        rows = db.query_one(
            store,
            """SELECT count(*) FROM (SELECT range % 1000003 AS k, repeat('x', 100) || range AS s
                                    FROM range(3000000) ORDER BY k, s)""",
        )
    finally:
        store.execute(f"SET memory_limit = '{db._bytes(before, middle=True):.0f}B'")
    assert rows == 3_000_000


def test_running_out_of_memory_is_said_as_such_not_as_busy():
    oom = db.translate(duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block"))
    assert isinstance(oom, StoreMemoryError) and not isinstance(oom, StoreBusyError)
    assert "内存不足" in oom.zh and "nothing was written" in oom.en
    # a statement refused after an earlier one failed is not another writer
    aborted = db.translate(duckdb.TransactionException("Current transaction is aborted (please ROLLBACK)"))
    assert not isinstance(aborted, StoreBusyError)
    assert isinstance(db.translate(duckdb.TransactionException("Transaction conflict")), StoreBusyError)
