"""Crash safety: the batch interface killed with SIGKILL at random points never half-writes.

An upload, a registry import and a task-force import each run in a real subprocess
(`python -m analytics ...`) that is killed at seeded random moments spread over its run. After
every kill the store opens (DuckDB replays its write-ahead log), holds the whole batch or none of
it, and re-running the same command completes it; running it once more adds nothing.
"""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analytics.ingest import pipeline as ingest
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv
from tests.fixtures import ROOT

TICKETS = 120_000
COMPOUNDS = 3_000
TASKFORCES = 300
SEED = 20240607
TICKET_KILLS_PARSE, TICKET_KILLS_COMMIT, TICKET_KILLS_LATE = 3, 4, 1
OTHER_KILLS = 4
MAX_TRIES = 4  # a kill whose run finished first is retried with half the delay
GROWING_BYTES = 2 << 20  # the store file has grown by this much: the commit is writing


def _start(db_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "analytics", "--db", str(db_path), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(db_path: Path, *args: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(db_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.strip().splitlines()]


def _kill_after(db_path: Path, delay: float, *args: str) -> bool:
    """Start the command, SIGKILL it after `delay` seconds; True when the kill landed."""
    return _kill_when(db_path, lambda: True, delay, *args)[0]


@dataclass
class Tally:
    attempted: int = 0
    landed: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    whole: int = 0  # kills after which the store held the whole batch
    none: int = 0  # ... or none of it
    lost: int = 0
    store_mb: list[float] = field(default_factory=list)  # store file size found after each kill

    def add(self, phase: str, landed: bool) -> None:
        self.attempted += 1
        self.landed += landed
        key = phase if landed else "finished first"
        self.phases[key] = self.phases.get(key, 0) + 1


def _orphans(con) -> int:
    return int(
        db.query_one(
            con,
            "SELECT count(*) FROM rejected_rows WHERE batch_id NOT IN (SELECT batch_id FROM ingest_batches)",
        )
    )


# ---------------------------------------------------------------- tickets


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "tickets_120k.csv"
    write_csv(make_tickets(TICKETS, make_compounds(), seed=5), path)
    return path


def _phases(tmp: Path, export: Path) -> tuple[float, float, float]:
    """(size of a freshly opened store in bytes, seconds of work before the commit, seconds of
    commit) from one in-process ingest with progress marks."""
    con = db.connect(tmp / "timing.duckdb")
    con.execute("CHECKPOINT")
    fresh = (tmp / "timing.duckdb").stat().st_size
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    ingest.ingest_file(
        con, export, progress=lambda f, _m: marks.setdefault(f"{f:.1f}", time.perf_counter() - t0)
    )
    done = time.perf_counter() - t0
    con.close()
    return fresh, marks["0.7"], done - marks["0.7"]


def _kill_when(db_path: Path, ready: Callable[[], bool], delay: float, *args: str) -> tuple[bool, float]:
    """Start the command; once `ready()` holds, wait `delay` seconds and SIGKILL it.

    Anchoring on something the store shows (open; growing) rather than on time since launch keeps
    the kills where they are meant to land even when the machine is busy. Returns (landed,
    store size in MB at the kill)."""
    proc = _start(db_path, *args)
    try:
        deadline = time.monotonic() + 300
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                return False, 0.0
            time.sleep(0.005)
        try:
            proc.wait(timeout=delay)
            return False, db_path.stat().st_size / 1e6
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            size = db_path.stat().st_size / 1e6 if db_path.exists() else 0.0
            proc.wait()
            return True, size
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _check_tickets(db_path: Path, n: int) -> int:
    """The store after a kill: opens, holds all n tickets of the one batch or none; returns count."""
    con = db.connect(db_path)
    try:
        count = int(db.query_one(con, "SELECT count(*) FROM tickets"))
        batches = db.query_df(
            con, "SELECT batch_id, inserted, status FROM ingest_batches WHERE kind = 'tickets'"
        )
        audits = int(db.query_one(con, "SELECT count(*) FROM audit_log WHERE action = 'tickets.ingest'"))
        assert count in (0, n), f"half a batch survived: {count} of {n}"
        # every batch row is a finished upload, and what they say they inserted is what is there
        assert set(batches["status"]) <= {"committed"} and audits == len(batches)
        assert int(batches["inserted"].sum()) == count
        assert (batches["inserted"] > 0).sum() == (count > 0)
        assert _orphans(con) == 0
        assert (
            int(
                db.query_one(
                    con,
                    "SELECT count(*) FROM tickets WHERE batch_id NOT IN (SELECT batch_id FROM ingest_batches)",
                )
            )
            == 0
        )
        return count
    finally:
        con.close()


@pytest.mark.slow
def test_ticket_upload_survives_sigkill_at_any_point(big_export, tmp_path, capsys):
    fresh, parse_s, commit_s = _phases(tmp_path, big_export)
    rng = random.Random(SEED)
    kills = (
        # mid-parse: soon after the store is opened, well before the commit
        [("parse", "opened", rng.uniform(0.0, 0.8 * parse_s)) for _ in range(TICKET_KILLS_PARSE)]
        # mid-commit: once the commit has started writing the tickets' blocks into the store
        + [("commit", "growing", rng.uniform(0.0, commit_s)) for _ in range(TICKET_KILLS_COMMIT)]
        # late: around COMMIT, the checkpoint and exit
        + [("late", "growing", rng.uniform(0.7 * commit_s, 1.2 * commit_s)) for _ in range(TICKET_KILLS_LATE)]
    )
    tally = Tally()
    for i, (phase, anchor, delay) in enumerate(kills):
        for attempt in range(MAX_TRIES):
            store = tmp_path / f"kill{i}_{attempt}.duckdb"

            def ready(store: Path = store, anchor: str = anchor) -> bool:
                size = store.stat().st_size if store.exists() else 0
                return size > 0 if anchor == "opened" else size > fresh + GROWING_BYTES

            landed, size_mb = _kill_when(
                store, ready, delay / 2**attempt, "tickets", "ingest", str(big_export)
            )
            tally.add(phase, landed)
            held = _check_tickets(store, TICKETS)
            if landed:
                break  # a run that finished first is checked, then tried again with a shorter fuse
        tally.store_mb.append(round(size_mb, 1))
        tally.whole += held == TICKETS
        tally.none += held == 0
        # re-sending completes the upload; sending it once more adds nothing
        first, second = _run(store, "tickets", "ingest", str(big_export), str(big_export))
        assert first["inserted"] == TICKETS - held
        assert (second["inserted"], second["duplicates"]) == (0, TICKETS)
        final = _check_tickets(store, TICKETS)
        tally.lost += TICKETS - final
    assert tally.attempted >= 8 and tally.lost == 0
    assert tally.landed >= 8, f"too few kills landed mid-run: {tally}"
    with capsys.disabled():
        print(
            f"\n[crash] tickets x{TICKETS}: parse~{parse_s:.1f}s commit~{commit_s:.1f}s in-process; "
            f"delays={[round(d, 2) for *_, d in kills]}; {tally}"
        )


# ---------------------------------------------------------------- registry and task forces


def _registry_file(folder: Path) -> Path:
    frame = make_compounds(COMPOUNDS, seed=11)
    path = folder / "registry.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["小区编号", "小区名称", "所属社区", "所属街道", "户数", "别名"])
        for i, r in enumerate(frame.itertuples()):
            w.writerow(
                [
                    r.compound_id,
                    r.name,
                    f"{r.subdistrict[:2]}社区{i % 40}",
                    r.subdistrict,
                    100 + i % 900,
                    f"{r.name}小区",
                ]
            )
    return path


def _measure(db_path: Path, *args: str) -> float:
    t0 = time.perf_counter()
    _run(db_path, *args)
    return time.perf_counter() - t0


def _registry_state(db_path: Path) -> tuple[int, int, int, int]:
    con = db.connect(db_path)
    try:
        assert _orphans(con) == 0
        return (
            int(db.query_one(con, "SELECT count(*) FROM compounds")),
            int(db.query_one(con, "SELECT count(*) FROM communities")),
            int(db.query_one(con, "SELECT count(*) FROM compound_aliases")),
            int(db.query_one(con, "SELECT count(*) FROM ingest_batches WHERE kind = 'compounds'")),
        )
    finally:
        con.close()


@pytest.mark.slow
def test_registry_import_survives_sigkill(tmp_path, capsys):
    path = _registry_file(tmp_path)
    full_store = tmp_path / "full.duckdb"
    runtime = _measure(full_store, "compounds", "import", str(path))
    full = _registry_state(full_store)
    assert full[0] == COMPOUNDS and full[3] == 1
    rng = random.Random(SEED + 1)
    tally = Tally()
    for i in range(OTHER_KILLS):
        store = tmp_path / f"reg{i}.duckdb"
        delay = rng.uniform(0.35 * runtime, 1.0 * runtime)
        tally.add("import", _kill_after(store, delay, "compounds", "import", str(path)))
        state = _registry_state(store)
        assert state in ((0, 0, 0, 0), full), f"half a registry import survived: {state}"
        tally.whole += state == full
        tally.none += state[0] == 0
        _run(store, "compounds", "import", str(path))
        (again,) = _run(store, "compounds", "import", str(path))
        assert again["added"] == 0
        assert _registry_state(store)[:3] == full[:3]
    with capsys.disabled():
        print(f"\n[crash] registry x{COMPOUNDS}: runtime {runtime:.1f}s; {tally}")


def _taskforce_file(folder: Path) -> Path:
    path = folder / "taskforces.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["小区编号", "包保领导", "专班组长", "进驻日期"])
        for i in range(TASKFORCES):
            w.writerow([f"LS{i + 1:04d}", f"区领导{i % 38}", f"组长{i}", f"2023-{1 + i % 12:02d}-01"])
    return path


def _taskforce_state(db_path: Path) -> tuple[int, int, int]:
    con = db.connect(db_path)
    try:
        assert _orphans(con) == 0
        return (
            int(db.query_one(con, "SELECT count(*) FROM task_forces")),
            int(db.query_one(con, "SELECT count(*) FROM ingest_batches WHERE kind = 'taskforces'")),
            int(db.query_one(con, "SELECT count(*) FROM audit_log WHERE action = 'taskforces.import'")),
        )
    finally:
        con.close()


WINDOW = ("--selection-window", "2022-07:2022-12")  # every task force names the window it was picked on


@pytest.mark.slow
def test_taskforce_import_survives_sigkill(tmp_path, capsys):
    base = tmp_path / "base.duckdb"
    _run(base, "compounds", "import", str(_registry_file(tmp_path)))
    path = _taskforce_file(tmp_path)
    timed = tmp_path / "timed.duckdb"
    timed.write_bytes(base.read_bytes())
    runtime = _measure(timed, "taskforces", "import", str(path), *WINDOW)
    assert _taskforce_state(timed) == (TASKFORCES, 1, 1)
    rng = random.Random(SEED + 2)
    tally = Tally()
    for i in range(OTHER_KILLS):
        store = tmp_path / f"tf{i}.duckdb"
        store.write_bytes(base.read_bytes())
        delay = rng.uniform(0.35 * runtime, 1.0 * runtime)
        tally.add("import", _kill_after(store, delay, "taskforces", "import", str(path), *WINDOW))
        state = _taskforce_state(store)
        assert state in ((0, 0, 0), (TASKFORCES, 1, 1)), f"half a task-force import survived: {state}"
        tally.whole += state[0] == TASKFORCES
        tally.none += state[0] == 0
        _run(store, "taskforces", "import", str(path), *WINDOW)
        (again,) = _run(store, "taskforces", "import", str(path), *WINDOW)
        assert again["inserted"] == 0 and again["updated"] == TASKFORCES
        assert _taskforce_state(store)[0] == TASKFORCES
    with capsys.disabled():
        print(f"\n[crash] task forces x{TASKFORCES}: runtime {runtime:.1f}s; {tally}")
