"""Time ticket ingestion against DuckDB's bare CSV load of the same file.

    python benchmarks/ingest.py --rows 1000000 [--registry]

Generates a CSV of realistic tickets (benchmarks/gen_tickets.py), then in separate
subprocesses (so peak memory is each step's own): (1) DuckDB `read_csv` of the file into a table
of a fresh database file, the baseline; (2) `ingest.ingest_file` into a fresh store. Prints
rows/s, the ratio to the baseline and peak resident memory. `--registry` loads the 1,105
synthetic compounds first, so address matching is part of the timing.

    python benchmarks/ingest.py --realistic [--rows 1100000]

A realistic upload: about 1.1 million tickets whose addresses are registry name variants with a
building / unit / room tail each (gen_tickets.py --realistic, so nearly all are distinct), into
a store holding the 1,105-compound registry (no category model). Reports the bare read_csv time,
the full ingest time, their ratio, the peak resident memory of each and the wall time of each
step of the upload (the pipeline logs them at DEBUG: stage, clean (cleaning and parsing in one
pass), hash, rejected, wait_match, compounds (the addresses waiting for an analyst gathered),
final, dated, commit (classify, insert (the rows not waiting for the content matcher),
wait_content, content (its answers joined) and insert_pending (the rows that waited, with its
answers) are parts of it; the waiting addresses are cached in it too);
`match` and `match_content` are the side thread's own times, the first beside hash and
rejected, the second (compounds named in the text) beside compounds, final and the insert).

    python benchmarks/ingest.py --rows 1000000 --enrich [--addresses 100000] [--repeats 5]

What matching and category prediction add to an upload: a file without a category column whose
tickets carry about --addresses distinct addresses is ingested (a) into a store holding 20,000
labelled tickets and nothing else, and (b) into the same store plus the 1,105-compound registry
and a category model trained on those tickets, so every row is matched and predicted. Reports
both times, the extra time as a share of (a), the time of the matching-and-prediction step and
how the rows came out (matched, predicted). `--repeats N` runs N such pairs on the same file and
reports the pair with the median share, and every pair's share: on a shared machine one pair
swings by about ±0.05.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALISTIC_ROWS = 1_100_000
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

ENRICH = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from analytics.ingest.categories.train import train_model
from analytics.store import db
from analytics.ingest import pipeline as ingest
from benchmarks.gen_tickets import make_compounds, make_tickets
con = db.connect(sys.argv[2])
labelled = make_tickets(20000, make_compounds(), seed=99)
labelled["工单编号"] = "TRAIN" + labelled.index.astype(str)
path = sys.argv[2] + ".labelled.csv"
labelled.to_csv(path, index=False)
ingest.ingest_file(con, path, user="bench")
enrich = sys.argv[4] == "1"
if enrich:
    comp = make_compounds()
    with db.transaction(con) as cur:
        cur.register("c", comp)
        cur.execute("INSERT INTO compounds (compound_id, name, subdistrict) SELECT compound_id, name, subdistrict FROM c")
    train_model(con)
marks = {}
def progress(fraction, message=""):
    marks[round(fraction, 2)] = time.perf_counter()
t = time.perf_counter()
r = ingest.ingest_file(con, sys.argv[1], user="bench", progress=progress)
el = time.perf_counter() - t
n = con.execute(
    "SELECT count(*), count(compound_id), count(*) FILTER (WHERE category_source = 'predicted'), "
    "count(DISTINCT address) FROM tickets WHERE batch_id = ?", [r.batch_id]
).fetchone()
con.close()
print(json.dumps({**r.as_json(), "seconds": el, "assign_s": marks[0.7] - marks[0.5],
                  "stored": n[0], "matched": n[1], "predicted": n[2], "distinct_addresses": n[3]}))
"""

OURS = """
import json, logging, sys, time
sys.path.insert(0, sys.argv[3])
from analytics.store import db
from analytics.ingest import pipeline as ingest
phases = {}
class Phases(logging.Handler):
    def emit(self, record):
        if record.msg.startswith("phase "):
            name, seconds = record.args
            phases[name] = phases.get(name, 0.0) + seconds
log = logging.getLogger("analytics.ingest.pipeline")
log.setLevel(logging.DEBUG)
log.addHandler(Phases())
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
print(json.dumps({**r.as_json(), "updated": r.updated, "seconds": el,
                  "phases": {k: round(v, 2) for k, v in phases.items()}}))
"""


def generate(argv: list[str]) -> None:
    """benchmarks/gen_tickets.py in a process of its own: generating a million tickets in this
    process left it in a state that slowed the measured child processes (about 0.4 s of 10 s,
    measured against a copied file)."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_tickets.py"), *argv], check=True)


PEAK_LINE = "\nimport resource\nprint('peak_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"


def run(code: str, *args: str) -> tuple[str, float, float]:
    """stdout (without the peak line), wall seconds, peak RSS of this child in MB (its own
    RUSAGE_SELF, so neither the generator nor another step counts). Dirty pages of the steps
    before (the generated file, earlier stores) are flushed first, so their writeback does not
    land in this step's time."""
    os.sync()
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + PEAK_LINE, *args], capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - t
    *lines, peak = out.strip().splitlines()
    peak_mb = int(peak.split()[-1]) / 1024  # Linux: KiB
    return "\n".join(lines), wall, peak_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None, help="100,000 (1,100,000 with --realistic)")
    parser.add_argument("--registry", action="store_true")
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="name variants + building tails, registry loaded, 1.1 M rows unless --rows is given",
    )
    parser.add_argument("--enrich", action="store_true")
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument(
        "--repeats", type=int, default=1, help="with --enrich: pairs of runs (median reported)"
    )
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = REALISTIC_ROWS if args.realistic else 100_000
    if args.enrich:
        return enrich(args.rows, args.addresses, max(args.repeats, 1))
    registry = args.registry or args.realistic
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        csv = Path(tmp) / "tickets.csv"
        generate(["--rows", str(args.rows), "--out", str(csv), *(["--realistic"] if args.realistic else [])])
        size_mb = csv.stat().st_size / 1e6
        out, _, base_peak = run(BASELINE, str(csv), str(Path(tmp) / "bare.duckdb"))
        n, base_s = out.splitlines()[-1].split()
        base_s = float(base_s)
        out, _, our_peak = run(
            OURS, str(csv), str(Path(tmp) / "store.duckdb"), str(ROOT), "1" if registry else "0"
        )
        result = json.loads(out.splitlines()[-1])
    ours_s = result["seconds"]
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
    print(
        f"baseline read_csv: {int(n):,} rows in {base_s:.1f} s = {int(n) / base_s:,.0f} rows/s, peak {base_peak:,.0f} MB"
    )
    print(
        f"ingest_file:       {result['rows_read']:,} rows in {ours_s:.1f} s = {result['rows_read'] / ours_s:,.0f} rows/s, "
        f"peak {our_peak:,.0f} MB"
    )
    print(f"ratio to baseline: {ours_s / base_s:.2f}x")
    phases = result.pop("phases", {})
    print("steps (s):        ", ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def enrich(rows: int, addresses: int, repeats: int = 1) -> int:
    """Plain and enriched ingest of one generated file, `repeats` pairs (each pair in a fresh
    pair of stores, plain first); the report gives the median pair and every pair's share."""
    pairs = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        csv = Path(tmp) / "tickets.csv"
        generate(["--rows", str(rows), "--out", str(csv), "--addresses", str(addresses), "--no-category"])
        out, _, _ = run(BASELINE, str(csv), str(Path(tmp) / "bare.duckdb"))
        base_s = float(out.splitlines()[-1].split()[1])
        for i in range(repeats):
            plain = json.loads(
                run(ENRICH, str(csv), str(Path(tmp) / f"plain{i}.duckdb"), str(ROOT), "0")[0].splitlines()[-1]
            )
            full = json.loads(
                run(ENRICH, str(csv), str(Path(tmp) / f"full{i}.duckdb"), str(ROOT), "1")[0].splitlines()[-1]
            )
            pairs.append((plain, full))
    shares = [(f["seconds"] - p["seconds"]) / p["seconds"] for p, f in pairs]
    plain, full = pairs[sorted(range(len(pairs)), key=shares.__getitem__)[len(pairs) // 2]]
    extra = full["seconds"] - plain["seconds"]
    report = {
        "rows": rows,
        "distinct_addresses": full["distinct_addresses"],
        "bare_read_csv_s": round(base_s, 2),
        "pairs": len(pairs),
        "ingest_plain_s": round(plain["seconds"], 2),
        "ingest_match_predict_s": round(full["seconds"], 2),
        "extra_s": round(extra, 2),
        "extra_share_of_plain": round(extra / plain["seconds"], 3),
        "extra_share_each_pair": [round(s, 3) for s in shares],
        "assign_step_plain_s": round(plain["assign_s"], 2),
        "assign_step_match_predict_s": round(full["assign_s"], 2),
        "matched": full["matched"],
        "predicted": full["predicted"],
        "stored": full["stored"],
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
