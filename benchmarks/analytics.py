"""Time the ranking and the overview page's trend queries on a simulated district or city.

    .venv/bin/python -m benchmarks.analytics                 # district: 1,105 compounds, 350k/yr, 30 months
    .venv/bin/python -m benchmarks.analytics --scale city    # 11,050 compounds, 3.5M/yr, 24 months
    .venv/bin/python -m benchmarks.analytics --db /tmp/b.duckdb --keep   # reuse a generated store

Targets at district scale: the full ranking with intervals under 2 s, each overview query under
200 ms (median of repeated warm runs; the first, cold run is reported too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics import db, ranking, repeats, surges, trends
from analytics.simulate import simulate_district

SCALES = {
    "district": {"n_compounds": 1105, "tickets_per_year": 350_000, "months": ("2022-01", "2024-06")},
    "city": {"n_compounds": 11_050, "tickets_per_year": 3_500_000, "months": ("2023-01", "2024-12")},
}
OVERVIEW_TARGET_S = 0.2
RANKING_TARGET_S = 2.0
REPEATS = 5


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
    month = str(ranking.latest_complete_month(con))
    year_ago = str(ranking.latest_complete_month(con) - 11)

    overview: dict[str, Callable[[], Any]] = {
        "district_kpis": lambda: trends.district_kpis(con, month),
        "monthly_counts[district]+yoy_mom": lambda: trends.yoy_mom(trends.monthly_counts(con, "district")),
        "monthly_counts[subdistrict]": lambda: trends.monthly_counts(con, "subdistrict", year_ago, month),
        "monthly_counts[category]": lambda: trends.monthly_counts(con, "category", year_ago, month),
        "category_mix": lambda: trends.category_mix(con, month, month),
        "top_bottom": lambda: trends.top_bottom(con, month, 10),
        "service_rates": lambda: trends.service_rates(con, month, month),
    }
    rows = []
    for name, fn in overview.items():
        first, median = timed(fn, REPEATS)
        rows.append((name, first, median, OVERVIEW_TARGET_S))
    first, median = timed(lambda: ranking.rank_compounds(con, n_draws=1000), 2)
    rows.append(("rank_compounds (1000 draws)", first, median, RANKING_TARGET_S))
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
