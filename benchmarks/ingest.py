"""Time ticket ingestion against DuckDB's bare CSV load of the same file.

    python benchmarks/ingest.py --rows 1000000 [--registry]

Generates a CSV of realistic tickets (benchmarks/gen_tickets.py), then in separate
subprocesses (so peak memory is each step's own): (1) DuckDB `read_csv` of the file into a table
of a fresh database file, the baseline; (2) `ingest.ingest_file` into a fresh store. Prints
rows/s, the ratio to the baseline and peak resident memory. `--registry` loads the 1,105
synthetic compounds first, so address matching is part of the timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header=true, all_varchar=true)", [sys.argv[1]])
n = con.execute("SELECT count(*) FROM t").fetchone()[0]
con.close()
print(n, time.perf_counter() - t)
"""

OURS = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from analytics import db, ingest
con = db.connect(sys.argv[2])
if sys.argv[4] == "1":
    from benchmarks.gen_tickets import make_compounds
    comp = make_compounds()
    with db.transaction(con) as cur:
        cur.register("c", comp)
        cur.execute("INSERT INTO compounds (compound_id, name, subdistrict) SELECT compound_id, name, subdistrict FROM c")
t = time.perf_counter()
r = ingest.ingest_file(con, sys.argv[1], user="bench")
el = time.perf_counter() - t
con.close()
print(json.dumps({**r.as_json(), "updated": r.updated, "seconds": el}))
"""


def run(code: str, *args: str) -> tuple[str, float, float]:
    """stdout, wall seconds, peak RSS of the child in MB."""
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    return out.strip(), wall, peak_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--registry", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        csv = Path(tmp) / "tickets.csv"
        from benchmarks.gen_tickets import main as generate

        generate(["--rows", str(args.rows), "--out", str(csv)])
        size_mb = csv.stat().st_size / 1e6
        # baseline first: RUSAGE_CHILDREN keeps the max over children, so run it first and
        # the ingest step's peak is reported only if it is larger
        out, _, base_peak = run(BASELINE, str(csv), str(Path(tmp) / "bare.duckdb"))
        n, base_s = out.splitlines()[-1].split()
        base_s = float(base_s)
        out, _, our_peak = run(
            OURS, str(csv), str(Path(tmp) / "store.duckdb"), str(ROOT), "1" if args.registry else "0"
        )
        result = json.loads(out.splitlines()[-1])
    ours_s = result["seconds"]
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
    print(
        f"baseline read_csv: {int(n):,} rows in {base_s:.1f} s = {int(n) / base_s:,.0f} rows/s, peak {base_peak:,.0f} MB"
    )
    print(
        f"ingest_file:       {result['rows_read']:,} rows in {ours_s:.1f} s = {result['rows_read'] / ours_s:,.0f} rows/s, "
        f"peak {max(our_peak, base_peak):,.0f} MB (max of both steps)"
    )
    print(f"ratio to baseline: {ours_s / base_s:.2f}x")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
