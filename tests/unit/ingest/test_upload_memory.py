"""An upload keeps DuckDB's share of its memory under a cap and gives the store its own limit back
afterwards: after a good upload, after a rejected file, and after many uploads (no drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.errors import FileRejected, StoreMemoryError
from analytics.ingest import pipeline as ingest
from analytics.store import db
from tests.fixtures.cli import write_csv

HEADERS = ["工单编号", "受理时间", "诉求内容", "诉求地址"]


def _limit(con) -> str:
    return str(db.query_one(con, "SELECT current_setting('memory_limit')"))


def _watch(con) -> tuple[dict[float, str], object]:
    """{progress fraction: the memory limit then} and the progress callback that fills it."""
    seen: dict[float, str] = {}
    return seen, lambda fraction, _message="": seen.setdefault(fraction, _limit(con))


def _upload(path: Path, n: int = 50) -> Path:
    rows = [[f"M{i:04d}", "2024-03-01 08:00", "楼道灯不亮", f"青松苑{i % 9 + 1}号楼"] for i in range(n)]
    return write_csv(path, HEADERS, rows)


@pytest.mark.backends
def test_an_upload_runs_under_the_cap_and_gives_the_limit_back(store, tmp_path):
    before = _limit(store)
    seen, progress = _watch(store)
    result = ingest.ingest_file(store, _upload(tmp_path / "t.csv"), progress=progress)
    assert result.inserted == 50
    # while the rows are parsed, matched and written
    assert all(db._bytes(seen[f]) <= db._bytes(db.upload_memory_limit(store)) for f in (0.3, 0.5, 0.7))
    assert _limit(store) == before


@pytest.mark.backends
def test_a_rejected_file_gives_the_limit_back_too(store, tmp_path):
    before = _limit(store)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    with pytest.raises(FileRejected):
        ingest.ingest_file(store, bad)
    assert _limit(store) == before


def test_a_limit_the_operator_set_survives_many_uploads_unchanged(store, tmp_path):
    store.execute("SET memory_limit = '4GB'")
    set_to = _limit(store)
    for i in range(5):
        ingest.ingest_file(store, _upload(tmp_path / f"t{i}.csv"))
    assert _limit(store) == set_to


def test_a_lower_limit_already_in_force_is_not_raised(store, tmp_path):
    store.execute("SET memory_limit = '500MB'")
    seen, progress = _watch(store)
    ingest.ingest_file(store, _upload(tmp_path / "t.csv"), progress=progress)
    assert set(seen.values()) == {_limit(store)}
    assert db._bytes(_limit(store)) < db._bytes(db.UPLOAD_MEMORY_LIMIT)


def test_the_cap_is_configurable(store, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_UPLOAD_MEMORY", "600MB")
    seen, progress = _watch(store)
    ingest.ingest_file(store, _upload(tmp_path / "t.csv"), progress=progress)
    assert 0.5e9 < db._bytes(seen[0.5]) <= 0.6e9


def test_caps_that_overlap_restore_once_the_last_one_ends(store):
    before = _limit(store)
    with db.memory_capped(store, "800MB"):
        with db.memory_capped(store, "300MB"):  # the first cap holds: one limit per process
            inner = _limit(store)
        assert _limit(store) == inner
    assert db._bytes(inner) <= 0.8e9
    assert _limit(store) == before


@pytest.mark.backends
def test_an_upload_that_needs_more_than_the_cap_runs_again_without_it(store, tmp_path, monkeypatch, caplog):
    """Long texts need more memory than a tight cap leaves (each insert thread builds a row group
    of its own): the upload runs once more without the cap and lands whole.

    One DuckDB thread: with two, duckdb 1.5.5 at times crashes (a segmentation fault in its
    timestamp parser) when both run out of so tight a limit at once; one thread still needs
    more than the cap."""
    store.execute("SET threads = 1")
    before = _limit(store)
    monkeypatch.setenv("HOTLINE_UPLOAD_MEMORY", "32MB")
    text = "楼道灯坏了，夜间无法通行，老人摔倒过两次，物业一直不处理，" * 8
    rows = [
        [f"S{i:06d}", "2024-03-01 08:00", f"{i}:{text}", f"青松苑{i % 30 + 1}号楼"] for i in range(60_000)
    ]
    with caplog.at_level("WARNING", logger="analytics.ingest.pipeline.run"):
        result = ingest.ingest_file(store, write_csv(tmp_path / "big.csv", HEADERS, rows))
    assert (result.inserted, result.rejected) == (60_000, 0)
    assert db.query_one(store, "SELECT count(DISTINCT content) FROM tickets") == 60_000
    assert any("running it again without" in r.getMessage() for r in caplog.records)
    assert _limit(store) == before


def test_the_cap_grows_with_duckdbs_threads(store, monkeypatch):
    monkeypatch.delenv("HOTLINE_UPLOAD_MEMORY", raising=False)
    store.execute("SET threads = 1")
    assert db._bytes(db.upload_memory_limit(store)) == db._bytes(db.UPLOAD_MEMORY_LIMIT)
    store.execute("SET threads = 8")
    assert db._bytes(db.upload_memory_limit(store)) == 8 * db._bytes(db.UPLOAD_MEMORY_PER_THREAD)


def test_an_upload_out_of_all_memory_writes_nothing_not_even_its_waiting_addresses(store, tmp_path):
    """An upload that runs out of all the memory DuckDB may use in its write says nothing was
    written, and nothing is: no ticket, and none of the addresses that would wait for an analyst
    (they are cached by the upload's own transaction)."""
    with db.transaction(store) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('Q1', '青松苑'), ('Q2', '翡翠家园')")
    ingest.ingest_file(store, _upload(tmp_path / "first.csv", 5))  # the store's first upload sets it up
    before = db.table_counts(store)
    text = "楼道灯坏了，夜间无法通行，老人摔倒过两次，物业一直不处理，" * 8
    rows = [[f"W{i:06d}", "2024-03-01 08:00", f"{i}:{text}", f"完全不同的地方{i}号"] for i in range(60_000)]
    path = write_csv(tmp_path / "big.csv", HEADERS, rows)
    store.execute("SET threads = 2")  # the memory an insert needs grows with its threads
    store.execute("SET memory_limit = '48MB'")
    seen, progress = _watch(store)
    with pytest.raises(StoreMemoryError, match="未写入任何内容"):
        ingest.ingest_file(store, path, progress=progress)
    store.execute("SET memory_limit = '4GB'")
    assert 0.7 in seen  # it failed in the write, after the waiting addresses were found
    assert db.table_counts(store) == before
