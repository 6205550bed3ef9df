"""Concurrency on a real DuckDB file, with threads in one process as Streamlit runs sessions.

- An analyst ingests a large export while reader threads run the overview's analytics, each on
  its own cursor: no reader errors, and every ticket count a reader sees is the count before
  the batch or after it (never a half-loaded batch).
- Two analysts upload at once: both batches land (the second waits for the first) and the
  counts add up exactly; a writer that cannot get its turn is told, in Chinese, to wait.
- The batch interface run against a store another process holds open exits 2 with a one-line
  "in use" message and no traceback.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from analytics.errors import StoreBusyError
from analytics.ingest import pipeline as ingest
from analytics.ingest.registry import compounds
from analytics.metrics import trends
from analytics.services import ranking
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv
from tests.fixtures import ROOT
from tests.fixtures.apptest import copy_store_file

COMPOUNDS = 200
BASE_TICKETS = 20_000
BIG_TICKETS = 120_000  # the upload readers run against
PAIR_TICKETS = 15_000  # each of the two simultaneous uploads
READERS = 6
READER_DRAWS = 20  # ranking draws per reader call: the real code path, kept cheap
HOLDER_START_S = 60
UPLOAD_LIMIT_S = 180  # far above the few seconds an upload takes here: beyond it, it hangs
ADDRESS_COMPOUND = r"^\D+\d+号(.+?)\d+号楼$"  # road, number, compound, building (gen_tickets)


@dataclass
class ReaderLog:
    counts: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    rounds: int = 0


def registry_csv(folder: Path) -> Path:
    frame = make_compounds(COMPOUNDS, seed=11)
    path = folder / "registry.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["小区编号", "小区名称", "所属社区", "所属街道", "户数"])
        for i, r in enumerate(frame.itertuples()):
            w.writerow([r.compound_id, r.name, f"{r.subdistrict[:2]}社区{i % 20}", r.subdistrict, 200 + i])
    return path


def tickets_csv(folder: Path, name: str, n: int, seed: int, prefix: str) -> Path:
    """n generated tickets whose numbers start with `prefix` (files never share a ticket), with
    the 小区 column a district export carries (so matching is a lookup, not address search)."""
    frame = make_tickets(n, make_compounds(COMPOUNDS, seed=11), seed=seed)
    frame["工单编号"] = prefix + frame["工单编号"]
    frame["小区"] = frame["诉求地址"].str.extract(ADDRESS_COMPOUND, expand=False)
    return write_csv(frame, folder / name)


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A store with the registry and BASE_TICKETS tickets, built once; tests copy it."""
    folder = tmp_path_factory.mktemp("concurrency")
    path = folder / "base.duckdb"
    con = db.connect(path)
    try:
        compounds.import_compounds(con, registry_csv(folder), user="fixture")
        ingest.ingest_file(con, tickets_csv(folder, "base.csv", BASE_TICKETS, 1, "B"), user="fixture")
        db.caller_salt(con)
    finally:
        con.close()
    return path


def private_copy(base: Path, folder: Path) -> Path:
    return copy_store_file(base, folder / "store.duckdb")


def ticket_count(cur: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: an unread result keeps its transaction (and table lock) open
    return int(cur.execute("SELECT count(*) FROM tickets").fetchall()[0][0])


def overview_reader(con: duckdb.DuckDBPyConnection, stop: threading.Event, log: ReaderLog) -> None:
    """What an overview session runs, on the thread's own cursor, until told to stop."""
    cur = con.cursor()
    try:
        month = str(ranking.latest_complete_month(cur))
        while not stop.is_set():
            log.counts.add(ticket_count(cur))
            trends.monthly_counts(cur, "district")
            trends.district_kpis(cur, month)
            ranking.rank_compounds(cur, n_draws=READER_DRAWS)
            log.counts.add(ticket_count(cur))
            log.rounds += 1
    except Exception as exc:  # every failure is the finding: collect it for the assertion
        log.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        cur.close()


def in_thread(fn: Callable[[], object], out: dict[str, object], key: str) -> threading.Thread:
    def run() -> None:
        try:
            out[key] = fn()
        except Exception as exc:  # reported to the test, not lost in the thread
            out[key] = exc

    thread = threading.Thread(target=run, name=key, daemon=True)  # a hang fails, never blocks
    thread.start()
    return thread


def test_readers_never_see_a_half_loaded_batch(base_store, tmp_path) -> None:
    path = private_copy(base_store, tmp_path)
    big = tickets_csv(tmp_path, "big.csv", BIG_TICKETS, 2, "N")
    con = db.connect(path)
    try:
        before = ticket_count(con.cursor())
        stop = threading.Event()
        logs = [ReaderLog() for _ in range(READERS)]
        readers = [
            threading.Thread(target=overview_reader, args=(con, stop, log), name=f"reader{i}", daemon=True)
            for i, log in enumerate(logs)
        ]
        for r in readers:
            r.start()
        time.sleep(0.5)  # readers are mid-query when the upload starts
        out: dict[str, object] = {}
        in_thread(lambda: ingest.ingest_file(con, big, user="analyst1"), out, "upload").join(UPLOAD_LIMIT_S)
        assert "upload" in out, f"the upload did not finish in {UPLOAD_LIMIT_S} s while readers ran"
        # every reader completes a whole round begun after the commit
        at_commit = [log.rounds for log in logs]
        deadline = time.monotonic() + UPLOAD_LIMIT_S
        while any(log.rounds < n + 2 for log, n in zip(logs, at_commit, strict=True)):
            assert time.monotonic() < deadline, "readers stalled after the commit"
            assert not any(log.errors for log in logs), [log.errors for log in logs]
            time.sleep(0.05)
        stop.set()
        for r in readers:
            r.join(timeout=UPLOAD_LIMIT_S)
        assert not any(r.is_alive() for r in readers), "a reader hung"
        after = ticket_count(con.cursor())
        result = out["upload"]
    finally:
        con.close()

    assert isinstance(result, ingest.IngestResult), result
    assert result.inserted == BIG_TICKETS and after == before + BIG_TICKETS
    assert [log.errors for log in logs] == [[]] * READERS
    assert all(log.rounds >= 1 for log in logs), [log.rounds for log in logs]
    seen = set().union(*(log.counts for log in logs))
    assert seen <= {before, after}, sorted(seen)
    assert after in seen  # rounds begun after the commit saw all of it at once


def test_two_simultaneous_uploads_both_land_whole(base_store, tmp_path) -> None:
    path = private_copy(base_store, tmp_path)
    files = {
        "analyst1": tickets_csv(tmp_path, "a.csv", PAIR_TICKETS, 3, "A"),
        "analyst2": tickets_csv(tmp_path, "b.csv", PAIR_TICKETS, 4, "C"),
    }
    con = db.connect(path)
    try:
        before = ticket_count(con.cursor())
        out: dict[str, object] = {}
        threads = [
            in_thread(lambda p=p, u=u: ingest.ingest_file(con, p, user=u), out, u) for u, p in files.items()
        ]
        for th in threads:
            th.join(timeout=UPLOAD_LIMIT_S)
        after = ticket_count(con.cursor())
        batches = db.query_df(con, "SELECT \"user\", inserted FROM ingest_batches WHERE kind = 'tickets'")
    finally:
        con.close()

    landed = {u: r for u, r in out.items() if isinstance(r, ingest.IngestResult)}
    busy = {u: r for u, r in out.items() if isinstance(r, StoreBusyError)}
    assert set(landed) | set(busy) == set(files), out  # nothing else went wrong
    assert all("请稍候" in str(e.zh) for e in busy.values())
    assert all(r.inserted == PAIR_TICKETS for r in landed.values())
    assert after == before + PAIR_TICKETS * len(landed)  # nothing half-loaded, nothing lost
    stored = batches[batches["user"].isin(list(files))]
    assert sorted(stored["user"]) == sorted(landed) and (stored["inserted"] == PAIR_TICKETS).all()
    assert len(landed) == 2  # the lock's timeout is far longer than one such upload


def test_writer_that_cannot_get_its_turn_is_told_to_wait(store) -> None:
    """While one write holds the store, another with a short patience gets StoreBusyError in
    Chinese (the page shows it as a red box) and writes nothing."""
    holding = threading.Event()
    release = threading.Event()

    def long_write() -> None:
        with db.transaction(store) as cur:
            db.audit(cur, "analyst1", "long_write", None)
            holding.set()
            release.wait(timeout=30)

    th = threading.Thread(target=long_write)
    th.start()
    try:
        assert holding.wait(timeout=30)
        with pytest.raises(StoreBusyError) as caught, db.transaction(store, timeout_s=0.2) as cur:
            db.audit(cur, "analyst2", "second_write", None)
    finally:
        release.set()
        th.join(timeout=30)
    assert "请稍候" in caught.value.zh and "wait" in caught.value.en
    actions = db.query_df(store, "SELECT action FROM audit_log")["action"].tolist()
    assert "long_write" in actions and "second_write" not in actions


HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def held_store(base_store, tmp_path):
    """A store file another process (as the dashboard would) holds open for writing."""
    path = private_copy(base_store, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield path
    finally:
        holder.stdin.close()
        holder.wait(timeout=HOLDER_START_S)


@pytest.mark.parametrize(
    "args",
    [
        ["tickets", "ingest", "{csv}"],
        ["rank", "--top", "5"],
        ["init"],
    ],
)
def test_cli_against_a_store_in_use_exits_2(held_store, tmp_path, args) -> None:
    csv_path = tickets_csv(tmp_path, "cli.csv", 100, 9, "Q")
    argv = [a.format(csv=csv_path) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(held_store), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "占用" in proc.stderr and "in use" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""
