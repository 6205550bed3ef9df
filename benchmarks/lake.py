"""The DuckLake backend against the DuckDB file, and dashboard replicas under load.

    .venv/bin/python -m benchmarks.lake [--scale 1.0] [--upload-rows 200000] [--users 12] [--rounds 3]

Needs PostgreSQL's server binaries (`apt-get install postgresql`): a private server is started
on a unix socket under a temporary folder (tests.fixtures.pg) and stopped by its process id.
The lake's data folder is on the local disk.

1. Build: the demo district (`--scale` x a district year of tickets) into a DuckDB file and into
   a DuckLake; the time of each.
2. Upload: one generated export of `--upload-rows` tickets with realistic addresses, ingested
   into each store (`ingest.ingest_file`, all or nothing), then the summary and the stored
   results rebuilt, as every writer of the product (upload page, batch commands) does after a
   write; without the second, the first page visit computed them (about 18 s).
3. Pages, one server per backend: a signed-in leader (benchmarks.ws_client: Streamlit's
   websocket protocol, no browser) opens the overview, ranking and effects pages twice; the first
   visit runs with cold caches, the second with warm ones.
4. Load, DuckLake only, with 1 and then 3 replicas (separate `streamlit run` processes over the
   same lake, each warmed by one visit of every page): `--users` websocket users spread round-robin over the replicas each cycle
   through the three pages `--rounds` times, while a batch upload of `--load-rows` tickets
   (`python -m analytics tickets ingest`) lands; page time median and 95th percentile, pages per
   second, errors (an exception drawn, or a page not finished within PAGE_TIMEOUT_S), and whether
   the upload landed whole.

Every figure of a backend or replica count is measured in the same run as the one it is
compared with. Prints a table and writes benchmarks/out/lake.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.ingest import pipeline as ingest  # noqa: E402
from analytics.services import effects, session_cookie  # noqa: E402
from analytics.store import db  # noqa: E402
from analytics.store import summary as summaries  # noqa: E402
from analytics.synthetic import demo  # noqa: E402
from benchmarks.gen_tickets import make_tickets, write_csv  # noqa: E402
from benchmarks.ws_client import Session  # noqa: E402
from tests.fixtures import ROOT, pg  # noqa: E402
from tests.fixtures.live_server import free_port, running_server  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"
PAGES = ("", "ranking", "effects")  # the overview (landing page), the ranking, the effects
LEADER = demo.DEMO_ACCOUNTS["leader"][0]
PAGE_TIMEOUT_S = 300.0  # a page not finished by then counts as an error


def _timed(fn: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def _export(con: Any, rows: int, path: Path, prefix: str) -> Path:
    compounds = db.query_df(con, "SELECT compound_id, name, subdistrict FROM compounds ORDER BY compound_id")
    frame = make_tickets(rows, compounds, seed=11, start="2024-01-01", realistic=True)
    frame["工单编号"] = prefix + frame["工单编号"].astype(str)
    return write_csv(frame, path)


def build_and_upload(target: str, scale: float, export: Path | None, rows: int, tmp: Path) -> dict[str, Any]:
    con = db.connect(target)
    _, build_s = _timed(lambda: demo.build_demo(con, scale=scale))
    export = export or _export(con, rows, tmp / "upload.csv", "LAKEBENCH")
    result, upload_s = _timed(lambda: ingest.ingest_file(con, export))
    _, summary_s = _timed(lambda: summaries.refresh(con))
    _, derived_s = _timed(lambda: effects.refresh_stored(con))
    tickets = int(db.query_one(con, "SELECT count(*) FROM tickets"))
    con.close()
    return {
        "build_s": round(build_s, 2),
        "upload_s": round(upload_s, 2),
        "uploaded": result.inserted,
        "summary_s": round(summary_s, 2),
        "derived_s": round(derived_s, 2),
        "tickets": tickets,
        "export": str(export),
    }


def _cookie(target: str) -> str:
    con = db.connect(target)
    try:
        value = session_cookie.issue(con, LEADER)
    finally:
        con.close()
    if not value:
        raise RuntimeError("could not sign the leader in")
    return value


def page_times(target: str, tmp: Path, name: str) -> dict[str, Any]:
    """Cold then warm visit of each page on one fresh server."""
    cookie = _cookie(target)
    port = free_port()
    out: dict[str, Any] = {}
    with (
        running_server(target, log_path=tmp / f"pages_{name}.log", port=port),
        Session(port, {session_cookie.COOKIE_NAME: cookie}) as tab,
    ):
        for visit in ("cold", "warm"):
            for page in PAGES:
                run = tab.run(page)
                out[f"{page or 'overview'}_{visit}_s"] = round(run.seconds, 2)
                if run.exceptions or not run.finished:
                    out.setdefault("errors", []).append(f"{page}: {run.exceptions or 'unfinished'}")
    return out


def load(target: str, replicas: int, users: int, rounds: int, upload: Path, tmp: Path) -> dict[str, Any]:
    cookie = _cookie(target)
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    with contextlib.ExitStack() as stack:
        ports = [free_port() for _ in range(replicas)]
        for k, port in enumerate(ports):
            stack.enter_context(running_server(target, log_path=tmp / f"load{replicas}_{k}.log", port=port))

        # replicas are long-lived: each is warmed by one visit of every page before the clock starts
        for port in ports:
            with Session(port, {session_cookie.COOKIE_NAME: cookie}) as tab:
                for page in PAGES:
                    tab.run(page, timeout_s=PAGE_TIMEOUT_S)

        def user(k: int) -> None:
            try:
                with Session(ports[k % replicas], {session_cookie.COOKIE_NAME: cookie}) as tab:
                    for _ in range(rounds):
                        for page in PAGES:
                            run = tab.run(page, timeout_s=PAGE_TIMEOUT_S)
                            with lock:
                                times.append(run.seconds)
                                if run.exceptions or not run.finished:
                                    errors.append(f"{page}: {run.exceptions or 'unfinished'}")
            except Exception as exc:  # noqa: BLE001 - a user that failed is the finding
                with lock:
                    errors.append(repr(exc))

        began = time.perf_counter()
        uploader = subprocess.Popen(
            [sys.executable, "-m", "analytics", "--db", target, "tickets", "ingest", str(upload)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pages_s = time.perf_counter() - began
        out, err = uploader.communicate(timeout=1800)
        upload_s = time.perf_counter() - began
    landed = uploader.returncode == 0 and json.loads(out.strip().splitlines()[-1])["inserted"] > 0
    ordered = sorted(times)
    return {
        "replicas": replicas,
        "users": users,
        "pages": len(times),
        "page_median_s": round(statistics.median(ordered), 2) if ordered else None,
        "page_p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
        "pages_per_s": round(len(times) / pages_s, 2),
        "errors": errors[:5],
        "error_count": len(errors),
        "upload_landed": landed,
        "upload_s": round(upload_s, 1),
        "upload_retries": err.count("retrying"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="demo tickets, x a district year")
    parser.add_argument("--upload-rows", type=int, default=200_000)
    parser.add_argument("--load-rows", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-load", action="store_true", help="only the file-vs-lake comparison")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "lake.json")
    args = parser.parse_args(argv)
    if pg.binaries() is None:
        print("PostgreSQL's server binaries are missing: apt-get install -y postgresql", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="hotline-lake-bench-"))
    os.chmod(tmp, 0o755)
    server = pg.start(tmp / "pg")
    report: dict[str, Any] = {"machine_cores": os.cpu_count(), "scale": args.scale}
    try:
        file_target = str(tmp / "file" / "hotline.duckdb")
        lake_target = server.lake_target(server.create_database(), tmp / "lake-data")
        report["file"] = build_and_upload(file_target, args.scale, None, args.upload_rows, tmp)
        export = Path(report["file"]["export"])
        report["lake"] = build_and_upload(lake_target, args.scale, export, args.upload_rows, tmp)
        report["file"]["pages"] = page_times(file_target, tmp, "file")
        report["lake"]["pages"] = page_times(lake_target, tmp, "lake")
        con = db.connect(lake_target)
        loads = []
        for replicas, prefix in () if args.skip_load else ((1, "LOADA"), (3, "LOADB")):
            upload = _export(con, args.load_rows, tmp / f"load_{prefix}.csv", prefix)
            loads.append(load(lake_target, replicas, args.users, args.rounds, upload, tmp))
        report["load"] = loads
        report["lake_tickets_after"] = int(db.query_one(con, "SELECT count(*) FROM tickets"))
        con.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def _print(report: dict[str, Any]) -> None:
    f, k = report["file"], report["lake"]
    print(
        f"demo x{report['scale']}: {f['tickets']:,} tickets after the upload; {report['machine_cores']} cores"
    )
    print(f"{'':28}{'file':>10}{'ducklake':>10}{'ratio':>8}")
    rows = [
        ("build demo (s)", "build_s"),
        ("upload (s)", "upload_s"),
        ("summary rebuild (s)", "summary_s"),
        ("stored results rebuild (s)", "derived_s"),
    ]
    rows += [(f"page {name} (s)", name) for name in f["pages"] if name.endswith("_s")]
    for label, key in rows:
        a = f.get(key, f["pages"].get(key))
        b = k.get(key, k["pages"].get(key))
        ratio = f"{b / a:.2f}" if a and b else "-"
        print(f"{label:28}{a:>10}{b:>10}{ratio:>8}")
    print("load on the DuckLake, one batch upload landing meanwhile:")
    for r in report["load"]:
        print(
            f"  {r['replicas']} replica(s), {r['users']} users: {r['pages']} pages, median {r['page_median_s']} s, "
            f"p95 {r['page_p95_s']} s, {r['pages_per_s']} pages/s, {r['error_count']} errors; upload "
            f"{'landed' if r['upload_landed'] else 'FAILED'} in {r['upload_s']} s ({r['upload_retries']} retries)"
        )


if __name__ == "__main__":
    sys.exit(main())
