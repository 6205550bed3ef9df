"""Accuracy, calibration and speed of the posterior ranking on simulated districts with a known truth.

    .venv/bin/python -m benchmarks.ranking_accuracy                  # held-out seeds 100-119
    .venv/bin/python -m benchmarks.ranking_accuracy --seeds 0-9      # the seeds any tuning used
    .venv/bin/python -m benchmarks.ranking_accuracy --no-speed

Per data-generating process (analytics.synthetic.rank_dgp: PROCESSES, then UNTUNED_PROCESSES, shock
lengths no constant was chosen on), averaged over the seeds: true top 65
found by `volume`, by the raw 12-month and raw 24-month counts; the sum of P(top 65) over the
list against the true members found; 90% rank-interval coverage overall and for the true top 65;
the share of rows whose rank lies inside its interval; where 24 months exist, how many of the 65
listed on each of the two years alone agree (beside the raw yearly counts' agreement). Then the time of 1,000 draws at district
(1,105) and city (11,050 compounds) scale, beside the former composite ranking
(analytics.models.ranking.score.rank_components on the same counts) in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analytics.models.ranking.components import build_components
from analytics.models.ranking.posterior import posterior_rank
from analytics.models.ranking.score import rank_components
from analytics.synthetic.rank_dgp import PROCESSES, UNTUNED_PROCESSES, RankDistrict, simulate_rank_district

TOP = 65


def measure(d: RankDistrict, n_draws: int) -> dict[str, float]:
    frame, _ = posterior_rank(d.monthly, d.registry, d.months, d.shares, top=TOP, n_draws=n_draws, seed=0)
    truth = d.true_top(TOP)
    listed = frame[frame["listed"]]
    true_rank = d.truth.set_index("compound_id")["expected_next12"].rank(ascending=False, method="first")
    r = frame.set_index("compound_id")
    inside = (true_rank[r.index] >= r["rank_low"]) & (true_rank[r.index] <= r["rank_high"])
    return {
        "volume": len(set(listed["compound_id"]) & truth),
        "raw12": len(set(d.raw_count(12).nlargest(TOP).index) & truth),
        "raw24": len(set(d.raw_count(24).nlargest(TOP).index) & truth),
        "sum_p": float(listed["p_top"].sum()),
        "cover": float(inside.mean()),
        "cover_top": float(inside[list(truth)].mean()),
        "inside": float(((r["rank_low"] <= r["rank"]) & (r["rank"] <= r["rank_high"])).mean()),
    }


def disjoint_years(d: RankDistrict, n_draws: int) -> dict[str, float]:
    """How many of the 65 listed on the first 12 months are listed again on the next 12 (the model
    sees each year alone), against the same for the raw 12-month counts of the two years."""
    lists, raw = [], []
    for part in (slice(0, 12), slice(12, 24)):
        months = d.months[part]
        monthly = d.monthly[d.monthly["month"].isin(pd.PeriodIndex(months, freq="M").to_timestamp())]
        frame, _ = posterior_rank(monthly, d.registry, months, None, top=TOP, n_draws=n_draws, seed=0)
        lists.append(set(frame.loc[frame["listed"], "compound_id"]))
        counts = pd.Series(d.counts[:, part].sum(axis=1), index=d.registry["compound_id"])
        raw.append(set(counts.nlargest(TOP).index))
    return {"years_agree": len(lists[0] & lists[1]), "years_agree_raw": len(raw[0] & raw[1])}


def _old_inputs(d: RankDistrict, months: int = 12):
    """Today's ranking's inputs from the same counts (its default 12-month window)."""
    ms = d.months[-months:]
    counts = d.counts[:, -months:]
    agg = d.shares.copy()
    agg["tickets"] = counts.sum(axis=1)
    agg["recent"] = counts[:, -6:].sum(axis=1)
    monthly = d.monthly[d.monthly["month"] >= ms[0].start_time]
    comp = d.registry.assign(property_company=None)
    window = (ms[0].start_time.date(), ms[-1].end_time.date())
    return comp, agg, monthly, window, ms


def timing(n_compounds: int, repeats: int = 3) -> tuple[float, float]:
    d = simulate_rank_district(
        "ar1_085", 0, n_compounds=n_compounds, tickets_per_year=350_000 * n_compounds / 1105
    )
    new, old = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        posterior_rank(d.monthly, d.registry, d.months, d.shares, n_draws=1000)
        new.append(time.perf_counter() - t)
        t = time.perf_counter()
        rank_components(build_components(*_old_inputs(d)), None, TOP, 10, 1000, 0)
        old.append(time.perf_counter() - t)
    return statistics.median(new), statistics.median(old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100-119", help="first-last (inclusive)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    lo, hi = (int(s) for s in args.seeds.split("-"))
    started = time.perf_counter()
    rows = []
    every = {**PROCESSES, **UNTUNED_PROCESSES}
    for name in every:
        runs = []
        for seed in range(lo, hi + 1):
            d = simulate_rank_district(name, seed)
            row = measure(d, args.draws)
            if len(d.months) >= 24:
                row.update(disjoint_years(d, args.draws))
            runs.append(row)
        found = pd.DataFrame(runs)
        rows.append({"process": name, "months": every[name].months, **found.mean().round(3).to_dict()})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"seeds {lo}-{hi}, {args.draws} draws, true top {TOP} = highest expected next-12-month tickets")
        print(table.to_string(index=False))
        tuned = table["process"].isin(list(PROCESSES))
        long = table[tuned & (table["months"] >= 24)]
        print(f"volume, mean where 24 months exist: {long['volume'].mean():.1f} of {TOP}")
        print(
            f"shock shapes never tuned on ({', '.join(UNTUNED_PROCESSES)}): rows below the first {tuned.sum()}"
        )
        ratio = (table["sum_p"] / table["volume"]).round(3)
        print("sum P(top) / true found:", dict(zip(table["process"], ratio, strict=True)))
    if not args.no_speed:
        for label, n in (("district", 1105), ("city", 11_050)):
            new, old = timing(n)
            print(f"{label} ({n} compounds, 1000 draws): posterior {new:.2f} s, former composite {old:.2f} s, "
                  f"ratio {new / old:.2f}")  # fmt: skip
    print(f"benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
