"""One store shared by many processes: three dashboard replicas (separate `streamlit run`
processes, as on separate machines) over one DuckLake with a real PostgreSQL catalog, two batch
uploads landing at the same moment, and readers on every replica throughout.

Users are driven over Streamlit's own websocket protocol (benchmarks.ws_client) with the signed
session cookie a browser would carry, minted once and accepted by every replica: they share
the session key beside the lake's data folder."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics.services import session_cookie
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv
from benchmarks.ws_client import Session
from tests.fixtures import ROOT
from tests.fixtures.live_server import free_port, running_server

pytestmark = pytest.mark.slow

REPLICAS = 3
TICKETS_PER_UPLOAD = 4000


def _cli(target: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "analytics", "--db", target, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done(proc: subprocess.Popen[str], stdin: str | None = None, timeout: float = 600) -> str:
    out, err = proc.communicate(stdin, timeout=timeout)
    assert proc.returncode == 0, err
    return out


def _export(tmp_path: Path, name: str, compounds, seed: int, prefix: str) -> Path:
    df = make_tickets(TICKETS_PER_UPLOAD, compounds, seed=seed)
    df["工单编号"] = prefix + df["工单编号"].astype(str)
    return write_csv(df, tmp_path / name)


def test_three_replicas_two_concurrent_uploads_and_readers_share_one_lake(
    lake_server, tmp_path: Path
) -> None:
    server, _, _ = lake_server
    target = server.lake_target(server.create_database(), tmp_path / "lake")
    compounds = make_compounds(120)
    registry = tmp_path / "registry.csv"
    compounds.rename(columns={"compound_id": "小区编号", "name": "小区名称", "subdistrict": "街道"}).to_csv(
        registry, index=False
    )
    _done(_cli(target, "compounds", "import", str(registry)))
    _done(_cli(target, "users", "add", "leader1", "--role", "leader"), "a-long-password-1\n")
    first = _export(tmp_path, "first.csv", compounds, 1, "U1-")
    second = _export(tmp_path, "second.csv", compounds, 2, "U2-")

    con = db.connect(target)
    cookie = session_cookie.issue(con, "leader1")
    assert cookie
    with contextlib.ExitStack() as stack:
        ports = [free_port() for _ in range(REPLICAS)]
        for k, port in enumerate(ports):
            stack.enter_context(running_server(target, log_path=tmp_path / f"replica{k}.log", port=port))

        stop = threading.Event()
        runs: list = []
        failures: list[str] = []

        def reader(port: int) -> None:
            try:
                with Session(port, {session_cookie.COOKIE_NAME: cookie}) as tab:
                    pages = ["", "ranking"]
                    k = 0
                    while not stop.is_set():
                        runs.append((port, tab.run(pages[k % 2])))
                        k += 1
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the finding
                failures.append(f"{port}: {exc!r}")

        readers = [threading.Thread(target=reader, args=(p,)) for p in ports for _ in range(2)]
        for t in readers:
            t.start()
        uploads = [_cli(target, "tickets", "ingest", str(f)) for f in (first, second)]
        outputs = [_done(p) for p in uploads]
        time.sleep(2)
        stop.set()
        for t in readers:
            t.join(timeout=300)

        # nothing lost, nothing twice: both uploads landed whole, one batch each
        assert db.query_one(con, "SELECT count(*) FROM tickets") == 2 * TICKETS_PER_UPLOAD
        assert db.query_one(con, "SELECT count(DISTINCT ticket_id) FROM tickets") == 2 * TICKETS_PER_UPLOAD
        batches = db.query_df(
            con, "SELECT inserted FROM ingest_batches WHERE kind = 'tickets' AND status = 'committed'"
        )
        assert sorted(batches["inserted"]) == [TICKETS_PER_UPLOAD, TICKETS_PER_UPLOAD], outputs
        # every reader ran pages throughout, each to its end, with no error drawn
        assert not failures
        assert {port for port, _ in runs} == set(ports)
        assert all(r.finished and not r.exceptions for _, r in runs), [
            (r.page, r.exceptions) for _, r in runs if r.exceptions or not r.finished
        ][:3]
        # and every replica now shows the data both uploads brought (its own cache keyed on writes)
        newest = db.query_one(con, "SELECT max(created_at)::DATE::VARCHAR FROM tickets")
        for port in ports:
            with Session(port, {session_cookie.COOKIE_NAME: cookie}) as tab:
                page = tab.run("")
            assert page.finished and not page.exceptions
            assert any(newest in text for text in page.texts), page.texts[:8]
    con.close()
