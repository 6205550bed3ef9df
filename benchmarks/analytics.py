"""Time the ranking and the overview page's trend queries on a simulated district or city.

    .venv/bin/python -m benchmarks.analytics                 # district: 1,105 compounds, 350k/yr, 30 months
    .venv/bin/python -m benchmarks.analytics --scale city    # 11,050 compounds, 3.5M/yr, 24 months
    .venv/bin/python -m benchmarks.analytics --db /tmp/b.duckdb --keep   # reuse a generated store
    .venv/bin/python -m benchmarks.analytics --db /tmp/b.duckdb --baseline-root /tmp/old  # same-run baseline

Targets at district scale: the full ranking with intervals under 2 s, each overview query under
200 ms (median of repeated warm runs; the first, cold run is reported too), and every page's
analytics under 1 s server-side with cold caches: each page's calls are timed in a fresh process
with a fresh connection (`PAGES`), as a first visit after a restart would run them.
`--baseline-root` times the same pages with another checkout of the code (e.g. the previous
commit) on the same store in the same run, so the ratio is not skewed by a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics.metrics import rates, repeats, surges, trends
from analytics.models.ranking import score
from analytics.services import ranking
from analytics.store import db
from analytics.store import summary as summaries
from analytics.synthetic.simulate import simulate_district

ROOT = Path(__file__).resolve().parents[1]

SCALES = {
    "district": {"n_compounds": 1105, "tickets_per_year": 350_000, "months": ("2022-01", "2024-06")},
    "city": {"n_compounds": 11_050, "tickets_per_year": 3_500_000, "months": ("2023-01", "2024-12")},
}
OVERVIEW_TARGET_S = 0.2
RANKING_TARGET_S = 2.0
REPEATS = 5
PAGE_TARGET_S = 1.0

# The analytics calls each page makes on a first visit (as in pages/*.py), run in a fresh
# process with a fresh connection. Only public functions, so an older checkout runs it too.
PAGES = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from analytics import calendar
from analytics.store import db
from analytics.services import ranking
from analytics.metrics import surges
from analytics.metrics import trends
t0 = time.perf_counter()
con = db.connect(sys.argv[1])
steps = {}
def step(name, fn):
    t = time.perf_counter(); out = fn(); steps[name] = round(1000 * (time.perf_counter() - t), 1); return out
if sys.argv[3] == "overview":
    step("monthly_counts", lambda: trends.monthly_counts(con, "district"))
    month = str(step("latest_complete_month", lambda: ranking.latest_complete_month(con)))
    step("district_kpis", lambda: trends.district_kpis(con, month))
    step("top_bottom", lambda: trends.top_bottom(con, month, 10))
    step("detect_surges", lambda: surges.detect_surges(con, month))
else:
    step("monthly_counts", lambda: trends.monthly_counts(con, "district"))
    first, last = (d.strftime("%Y-%m") for d in step("default_window", lambda: ranking.default_window(con)))
    window = calendar.parse_window(f"{first}:{last}")
    # default weights: each version ranks as its page does on a first visit
    step("rank_compounds", lambda: ranking.rank_compounds(con, window))
    step("funnel_data", lambda: ranking.funnel_data(con, window))
    step("stability", lambda: ranking.stability(con, window))
    step("company_league", lambda: ranking.company_league(con))
    step("community_league", lambda: ranking.community_league(con))
    step("stars_vs_rate", lambda: ranking.stars_vs_rate(con))
total = round(1000 * (time.perf_counter() - t0), 1)
con.close()
print(json.dumps({"total_ms": total, "steps": steps}))
"""


def page_timing(path: Path, page: str, root: Path) -> dict[str, Any]:
    """Cold timing of one page's analytics calls in a fresh process (code from `root`)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", PAGES, str(path), str(root), page],
        capture_output=True, text=True, check=True, cwd=root, env=env,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def timed(fn: Callable[[], Any], repeats_: int) -> tuple[float, float]:
    """(first run, median of the following runs) in seconds."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    runs = []
    for _ in range(repeats_):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return first, statistics.median(runs) if runs else first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="district")
    parser.add_argument("--db", help="store path (generated when it has no tickets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep a generated temporary store")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--baseline-root", help="another checkout to time the pages with, same store")
    args = parser.parse_args(argv)
    spec = SCALES[args.scale]
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / f"bench-{args.scale}.duckdb"
    con = db.connect(path)
    results: dict[str, Any] = {"scale": args.scale, "db": str(path)}
    if not db.query_one(con, "SELECT count(*) FROM tickets"):
        t = time.perf_counter()
        truth = simulate_district(con, seed=args.seed, with_text=args.scale == "district", **spec)
        results["generate_s"] = round(time.perf_counter() - t, 1)
        print(f"generated {truth.n_tickets:,} tickets in {results['generate_s']} s", file=sys.stderr)
    results["tickets"] = int(db.query_one(con, "SELECT count(*) FROM tickets"))
    # cold page loads (fresh processes): the baseline checkout first, then the summary is built
    # (what the first read after an upload does) and this checkout's pages are timed
    pages: dict[str, Any] = {}
    if args.baseline_root:
        con.close()
        for page in ("overview", "ranking"):
            pages[f"{page} (baseline)"] = page_timing(path, page, Path(args.baseline_root))
        con = db.connect(path)
    t = time.perf_counter()
    results["summary_refresh"] = summaries.refresh(con)
    results["summary_refresh_s"] = round(time.perf_counter() - t, 2)
    con.close()
    for page in ("overview", "ranking"):
        pages[page] = page_timing(path, page, ROOT)
    results["pages_cold"] = pages
    con = db.connect(path)
    month = str(ranking.latest_complete_month(con))
    year_ago = str(ranking.latest_complete_month(con) - 11)

    overview: dict[str, Callable[[], Any]] = {
        "district_kpis": lambda: trends.district_kpis(con, month),
        "monthly_counts[district]+yoy_mom": lambda: trends.yoy_mom(trends.monthly_counts(con, "district")),
        "monthly_counts[subdistrict]": lambda: trends.monthly_counts(con, "subdistrict", year_ago, month),
        "monthly_counts[category]": lambda: trends.monthly_counts(con, "category", year_ago, month),
        "category_mix": lambda: trends.category_mix(con, month, month),
        "top_bottom": lambda: trends.top_bottom(con, month, 10),
        "service_rates": lambda: rates.service_rates(con, month, month),
    }
    rows = []
    for name, fn in overview.items():
        first, median = timed(fn, REPEATS)
        rows.append((name, first, median, OVERVIEW_TARGET_S))
    first, median = timed(lambda: ranking.rank_compounds(con, n_draws=1000), 2)
    rows.append(("rank_compounds (1000 draws)", first, median, RANKING_TARGET_S))
    # the former composite score on the same store, the baseline of the ratio the README quotes
    first, median = timed(lambda: score.rank_components(ranking.compute_components(con), n_draws=1000), 2)
    rows.append(("former composite (1000 draws)", first, median, None))
    extra: dict[str, Callable[[], Any]] = {
        "monthly_counts[compound] 12 months": lambda: trends.monthly_counts(con, "compound", year_ago, month),
        "stability (200 perturbations)": lambda: ranking.stability(con),
        "funnel_data": lambda: ranking.funnel_data(con),
        "community_league": lambda: ranking.community_league(con),
        "detect_surges": lambda: surges.detect_surges(con, month),
    }
    if args.scale == "district":
        extra["repeat_rate (one month, 30 days, text similarity)"] = lambda: repeats.repeat_rate(
            con, 30, month, month
        )
    for name, fn in extra.items():
        first, median = timed(fn, 1)
        rows.append((name, first, median, None))

    print(f"summary refresh: {results['summary_refresh_s']} s ({results['summary_refresh']['rows']:,} rows)")
    print(f"{'page (cold process)':<32}  total_ms  target_ms  ok   steps")
    for name, timing in pages.items():
        target = PAGE_TARGET_S * 1000 if "baseline" not in name else None
        ok = "" if target is None else ("yes" if timing["total_ms"] <= target else "NO")
        steps = ", ".join(f"{k} {v:.0f}" for k, v in timing["steps"].items())
        print(f"{name:<32}  {timing['total_ms']:8.0f}  {target or '':>9}  {ok:3}  {steps}")
    width = max(len(r[0]) for r in rows)
    print(f"{'query':<{width}}  first_ms  median_ms  target_ms  ok")
    ok_all = True
    for name, first, median, target in rows:
        ok = "" if target is None else ("yes" if median <= target else "NO")
        ok_all &= ok != "NO"
        tgt = "" if target is None else f"{target * 1000:.0f}"
        print(f"{name:<{width}}  {first * 1000:8.0f}  {median * 1000:9.0f}  {tgt:>9}  {ok}")
    results["timings"] = [
        {"query": n, "first_ms": round(f * 1000, 1), "median_ms": round(m * 1000, 1),
         "target_ms": None if t is None else t * 1000}
        for n, f, m, t in rows
    ]  # fmt: skip
    results["all_targets_met"] = ok_all
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in results.items() if k != "timings"}, ensure_ascii=False))
    con.close()
    if not args.db and not args.keep:
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
