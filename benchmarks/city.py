"""City scale on this machine: ten districts' worth of tickets, ingest rate, ranking, effects,
overview queries, store size and peak memory.

    .venv/bin/python -m benchmarks.city [--db /tmp/city.duckdb] [--keep] [--ingest-rows 1000000]

1. A simulated city store (`analytics.synthetic.simulate.simulate_district`, vectorised): 11,050 compounds,
   3.5 million tickets a year for two years (7 million), 650 task forces chosen from the 2023
   ranking, moving in on 2024-03-01. Kept with --keep / reused with --db.
2. The compound-month summary is built (`summaries.refresh`).
3. Each overview query, the full ranking with 1000 posterior draws and the effects estimate are
   timed once (first call after opening: the figures a first visitor waits for).
4. A 1,000,000-row export from benchmarks/gen_tickets.py is loaded twice, each in a child process
   whose peak memory is polled with psutil: DuckDB's bare read_csv into a fresh database (the
   baseline) and `ingest.ingest_file` into the city store.
5. After the ingest the summary is stale: the first overview read rebuilds it (timed), then the
   overview and ranking pages are timed cold in fresh processes (benchmarks.analytics.PAGES),
   also with another checkout of the code when --baseline-root is given.

Prints a table and writes benchmarks/out/city.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics.metrics import rates, surges, trends  # noqa: E402
from analytics.services import effects, ranking  # noqa: E402
from analytics.store import db  # noqa: E402
from analytics.store import summary as summaries  # noqa: E402
from analytics.synthetic.simulate import simulate_district  # noqa: E402
from benchmarks.analytics import page_timing  # noqa: E402
from benchmarks.ingest import BASELINE as BARE  # noqa: E402  the same bare read_csv load

N_COMPOUNDS = 11_050
TICKETS_PER_YEAR = 3_500_000
MONTHS = ("2023-01", "2024-12")
N_TASKFORCES = 650
SELECTION = ("2023-01-01", "2023-12-31")
TASKFORCE_START = "2024-03-01"
OUT = ROOT / "benchmarks" / "out" / "city.json"
POLL_S = 0.05

INGEST = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from analytics.store import db
from analytics.ingest import pipeline as ingest
con = db.connect(sys.argv[2])
t = time.perf_counter()
r = ingest.ingest_file(con, sys.argv[1], user="bench")
el = time.perf_counter() - t
con.close()
print(json.dumps({**r.as_json(), "seconds": el}))
"""


def child(code: str, *args: str) -> tuple[str, float]:
    """Run `code` in a child process; (its stdout, its peak resident memory in MB by polling)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(POLL_S)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    done.set()
    watcher.join()
    if proc.returncode:
        raise RuntimeError(f"child failed ({proc.returncode}): {err[-2000:]}")
    return out.strip(), peak / 1e6


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def build(path: Path) -> dict[str, Any]:
    con = db.connect(path)
    if db.query_one(con, "SELECT count(*) FROM tickets"):
        con.close()
        return {"generated": False}
    truth, seconds = timed(
        lambda: simulate_district(
            con, n_compounds=N_COMPOUNDS, months=MONTHS, tickets_per_year=TICKETS_PER_YEAR, with_text=False
        )
    )
    # the city's task forces: the most ticketed compounds of the selection year
    with db.transaction(con) as cur:
        cur.execute(
            """
            INSERT INTO task_forces (taskforce_id, compound_id, start_date, selection_start, selection_end)
            SELECT row_number() OVER (ORDER BY n DESC, compound_id), compound_id, CAST(? AS DATE),
                   CAST(? AS DATE), CAST(? AS DATE)
            FROM (SELECT compound_id, count(*) AS n FROM tickets
                  WHERE is_valid AND compound_id IS NOT NULL AND created_at >= ? AND created_at < ?
                  GROUP BY compound_id ORDER BY n DESC, compound_id LIMIT ?)
            """,
            [TASKFORCE_START, *SELECTION, SELECTION[0], "2024-01-01", N_TASKFORCES],
        )
    con.execute("CHECKPOINT")
    con.close()
    return {"generated": True, "generate_s": round(seconds, 1), "tickets": truth.n_tickets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="city store (generated when it has no tickets)")
    parser.add_argument("--keep", action="store_true", help="keep a generated temporary store")
    parser.add_argument("--ingest-rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-root", help="another checkout whose pages are timed too, same store")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hotline-city-"))
    path = Path(args.db) if args.db else tmp / "city.duckdb"
    proc = psutil.Process()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}}
    results["build"] = build(path)
    results["store_mb_before_ingest"] = round(path.stat().st_size / 1e6, 1)

    con = db.connect(path)
    results["tickets"] = int(db.query_one(con, "SELECT count(*) FROM tickets"))
    results["compounds"] = int(db.query_one(con, "SELECT count(*) FROM compounds"))
    refresh, seconds = timed(lambda: summaries.refresh(con))
    results["summary_refresh_s"] = round(seconds, 2)
    results["summary_rows"] = refresh["rows"]
    month = str(ranking.latest_complete_month(con))
    timings: dict[str, float] = {}
    queries: dict[str, Callable[[], Any]] = {
        "district_kpis": lambda: trends.district_kpis(con, month),
        "monthly_counts[district]": lambda: trends.monthly_counts(con, "district"),
        "monthly_counts[subdistrict] 12 months": lambda: trends.monthly_counts(
            con, "subdistrict", str(ranking.latest_complete_month(con) - 11), month
        ),
        "top_bottom": lambda: trends.top_bottom(con, month, 10),
        "service_rates": lambda: rates.service_rates(con, month, month),
        "detect_surges": lambda: surges.detect_surges(con, month),
        "rank_compounds (1000 draws)": lambda: ranking.rank_compounds(con, n_draws=1000),
        "stability (200 perturbations)": lambda: ranking.stability(con),
        "estimate_effects": lambda: effects.estimate_effects(con),
    }
    for name, fn in queries.items():
        _, seconds = timed(fn)
        timings[name] = round(seconds, 3)
        print(f"{name}: {seconds:.2f} s", file=sys.stderr)
    results["queries_s"] = timings
    con.close()

    from benchmarks.gen_tickets import main as generate

    csv = tmp / "tickets.csv"
    _, seconds = timed(lambda: generate(["--rows", str(args.ingest_rows), "--out", str(csv)]))
    results["csv"] = {"rows": args.ingest_rows, "mb": round(csv.stat().st_size / 1e6, 1)}
    out, bare_peak = child(BARE, str(csv), str(tmp / "bare.duckdb"))
    n, bare_s = out.splitlines()[-1].split()
    out, ingest_peak = child(INGEST, str(csv), str(path), str(ROOT))
    ingest = json.loads(out.splitlines()[-1])
    results["ingest"] = {
        "bare_read_csv_s": round(float(bare_s), 2),
        "bare_rows_per_s": int(int(n) / float(bare_s)),
        "bare_peak_mb": round(bare_peak),
        "ingest_s": round(ingest["seconds"], 2),
        "ingest_rows_per_s": int(ingest["rows_read"] / ingest["seconds"]),
        "ingest_peak_mb": round(ingest_peak),
        "ratio_to_bare": round(ingest["seconds"] / float(bare_s), 2),
        "result": {k: ingest[k] for k in ("rows_read", "inserted", "duplicates", "rejected", "unmatched")},
    }
    csv.unlink()

    con = db.connect(path)
    results["summary_fresh_after_ingest"] = summaries.is_fresh(con)
    _, seconds = timed(lambda: trends.district_kpis(con, month))
    results["first_read_after_ingest_s"] = round(seconds, 2)  # includes the summary rebuild
    results["summary_fresh_after_first_read"] = summaries.is_fresh(con)
    con.execute("CHECKPOINT")
    con.close()
    results["store_mb"] = round(path.stat().st_size / 1e6, 1)
    results["pages_cold_ms"] = {page: page_timing(path, page, ROOT) for page in ("overview", "ranking")}
    if args.baseline_root:
        for page in ("overview", "ranking"):
            results["pages_cold_ms"][f"{page} (baseline)"] = page_timing(path, page, Path(args.baseline_root))
    results["peak_rss_mb"] = round(_peak_rss_mb(proc))

    print(f"\ncity store: {results['tickets']:,} tickets, {results['compounds']:,} compounds, "
          f"{results['store_mb']:,} MB on disk; summary {results['summary_rows']:,} rows, "
          f"rebuilt in {results['summary_refresh_s']} s")  # fmt: skip
    print(f"{'step':<40} {'seconds':>8}")
    for name, seconds in timings.items():
        print(f"{name:<40} {seconds:8.2f}")
    ing = results["ingest"]
    print(f"{'bare read_csv (1M rows)':<40} {ing['bare_read_csv_s']:8.2f}   peak {ing['bare_peak_mb']} MB")
    print(f"{'ingest_file (1M rows) into city store':<40} {ing['ingest_s']:8.2f}   peak {ing['ingest_peak_mb']} MB, "
          f"{ing['ingest_rows_per_s']:,} rows/s, {ing['ratio_to_bare']}x bare")  # fmt: skip
    print(f"{'first read after ingest (rebuilds)':<40} {results['first_read_after_ingest_s']:8.2f}")
    for page, timing in results["pages_cold_ms"].items():
        print(
            f"{'page ' + page + ' (cold process)':<40} {timing['total_ms'] / 1000:8.2f}   {timing['steps']}"
        )
    print(f"peak memory of this process: {results['peak_rss_mb']} MB")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {OUT}")
    if not args.db and not args.keep:
        path.unlink(missing_ok=True)
    return 0


def _peak_rss_mb(proc: psutil.Process) -> float:
    """Peak resident memory of this process (Linux: VmHWM), else the current RSS."""
    try:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return proc.memory_info().rss / 1e6


if __name__ == "__main__":
    raise SystemExit(main())
