"""The posterior ranking: accuracy against a known truth, consistent ranks, share tests, presets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.models.ranking.posterior import posterior_rank, tarone_test
from analytics.services.ranking_posterior import rank_posterior
from analytics.store import db
from analytics.synthetic.rank_dgp import simulate_rank_district
from analytics.synthetic.simulate import simulate_district

HELD_OUT_SEED = 101


@pytest.fixture(scope="module")
def ar_district():
    return simulate_rank_district("ar1_085", HELD_OUT_SEED)


@pytest.fixture(scope="module")
def ar_ranked(ar_district):
    d = ar_district
    return posterior_rank(d.monthly, d.registry, d.months, d.shares, n_draws=400, seed=1)


@pytest.fixture(scope="module")
def small():
    d = simulate_rank_district("half_year", 3, n_compounds=200, tickets_per_year=40_000)
    return d


def test_volume_finds_more_of_the_true_top_than_the_raw_count(ar_district, ar_ranked):
    frame, _ = ar_ranked
    truth = ar_district.true_top(65)
    found = len(set(frame.loc[frame["listed"], "compound_id"]) & truth)
    raw = len(set(ar_district.raw_count(12).nlargest(65).index) & truth)
    assert found >= raw
    assert found >= 52


@pytest.mark.parametrize("process", ["half_year", "rolling_3m"])
def test_surges_that_end_are_discounted_and_the_list_finds_more(process):
    """Six-month (tuned) and three-month (never tuned) surges: the months of a surge are set to
    the compound's own level, so a compound with one loud half-year no longer takes the place of
    one that complains all year; the interval still covers the truth at the top."""
    d = simulate_rank_district(process, HELD_OUT_SEED)
    frame, info = posterior_rank(d.monthly, d.registry, d.months, d.shares, n_draws=400, seed=1)
    assert info["surges"]["discounted"] and info["surges"]["compounds"] > 100
    truth = d.true_top(65)
    found = len(set(frame.loc[frame["listed"], "compound_id"]) & truth)
    assert found >= len(set(d.raw_count(24).nlargest(65).index) & truth)
    assert found >= len(set(d.raw_count(12).nlargest(65).index) & truth) + 3
    true_rank = d.truth.set_index("compound_id")["expected_next12"].rank(ascending=False)
    top = frame.set_index("compound_id").loc[list(truth)]
    assert (
        (true_rank[top.index] >= top["rank_low"]) & (true_rank[top.index] <= top["rank_high"])
    ).mean() >= 0.8


def test_persistent_deviations_are_not_taken_for_surges(ar_ranked):
    _, info = ar_ranked
    assert not info["surges"]["discounted"] and info["surges"]["shock_share"] < 0.5


def test_every_rank_lies_inside_its_interval_and_p_top_sums_to_top(ar_ranked):
    frame, info = ar_ranked
    assert (frame["rank_low"] <= frame["rank"]).all() and (frame["rank"] <= frame["rank_high"]).all()
    assert frame["p_top"].sum() == pytest.approx(65, abs=1e-6)
    assert frame["listed"].sum() == 65 and frame["listed"].iloc[:65].all()
    # the list is the 65 with the highest P(top 65)
    assert frame.loc[frame["listed"], "p_top"].min() >= frame.loc[~frame["listed"], "p_top"].max()
    assert info["n_ranked"] == len(frame) == 1105


def test_intervals_cover_the_true_rank(ar_district, ar_ranked):
    frame, _ = ar_ranked
    true_rank = ar_district.truth.set_index("compound_id")["expected_next12"].rank(ascending=False)
    r = frame.set_index("compound_id")
    inside = (true_rank[r.index] >= r["rank_low"]) & (true_rank[r.index] <= r["rank_high"])
    assert 0.85 <= inside.mean() <= 0.99


@pytest.mark.parametrize(
    ("process", "expect_used"),
    [("ar1_085", False), ("ar1_050", True)],  # shares constant across compounds vs real signal
)
def test_a_share_without_signal_gets_weight_zero(process, expect_used):
    d = simulate_rank_district(process, 7, n_compounds=400, tickets_per_year=120_000)
    _, info = posterior_rank(d.monthly, d.registry, d.months, d.shares, n_draws=100)
    repeat = info["shares"]["repeat_share"]
    assert (repeat["weight"] > 0) is expect_used
    assert (repeat["reason"] == "signal") is expect_used
    assert ("repeat_share" in info["dropped"]) is not expect_used


def test_tarone_rejects_only_real_overdispersion():
    rng = np.random.default_rng(0)
    n = rng.integers(20, 200, 500)
    assert tarone_test(rng.binomial(n, 0.2), n)[1] > 0.01
    assert tarone_test(rng.binomial(n, rng.beta(2, 8, 500)), n)[1] < 1e-6


def test_compounds_without_tickets_or_households_are_ranked(small):
    reg = small.registry.copy()
    reg.loc[:4, "households"] = np.nan
    silent = reg["compound_id"].iloc[-3:].tolist()
    monthly = small.monthly[~small.monthly["compound_id"].isin(silent)]
    frame, _ = posterior_rank(monthly, reg, small.months, n_draws=200)
    assert len(frame) == len(reg)
    rows = frame.set_index("compound_id")
    assert (rows.loc[silent, "tickets"] == 0).all()
    assert (rows.loc[silent, "expected_tickets"] > 0).all()
    no_h = reg["compound_id"].iloc[:5]
    assert rows.loc[no_h, "rank"].notna().all() and rows.loc[no_h, "rate_per_100_households"].isna().all()
    # rate ranks only compounds with households
    by_rate, info = posterior_rank(monthly, reg, small.months, preset="rate", n_draws=200)
    missing = int(reg["households"].isna().sum())
    assert missing >= 5 and len(by_rate) == len(reg) - missing
    assert info["excluded_without_households"] == missing and set(no_h).isdisjoint(by_rate["compound_id"])


def test_excess_ranks_a_big_compound_with_a_typical_rate_lower_than_volume(small):
    reg = small.registry.copy()
    months = small.months
    big_id = "BIG"
    per_month = 3.5 * small.monthly.groupby("month")["n"].sum().mean() / len(reg)  # 3.5x the typical compound
    # its rate per household is the district's typical one: it is big, not bad
    typical = small.monthly["n"].sum() / len(months) / reg["households"].sum() * 100
    households = per_month / typical * 100
    big = pd.DataFrame([{"compound_id": big_id, "name": "大", "type": "商开", "is_old": False,
                         "built_year": 2010, "households": households}])  # fmt: skip
    rng = np.random.default_rng(0)
    big_monthly = pd.DataFrame(
        {
            "compound_id": big_id,
            "month": [m.start_time for m in months],
            "n": rng.poisson(per_month, len(months)),
        }
    )
    reg = pd.concat([reg, big], ignore_index=True)
    monthly = pd.concat([small.monthly, big_monthly], ignore_index=True)
    vol, _ = posterior_rank(monthly, reg, months, preset="volume", n_draws=200)
    exc, _ = posterior_rank(monthly, reg, months, preset="excess", n_draws=200)
    v, e = vol.set_index("compound_id").loc[big_id], exc.set_index("compound_id").loc[big_id]
    assert v["rank"] <= 10
    assert e["rank"] > v["rank"] + 5
    assert abs(e["score"]) < 0.5 * v["expected_tickets"]
    assert vol["preset"].eq("volume").all() and exc["preset"].eq("excess").all()


def test_unknown_preset_is_refused(small):
    with pytest.raises(ValidationError):
        posterior_rank(small.monthly, small.registry, small.months, preset="worst")


def test_the_service_ranks_a_stored_district(tmp_path):
    con = db.connect(tmp_path / "hotline.duckdb")
    simulate_district(con, n_compounds=120, months=("2023-01", "2024-06"), tickets_per_year=30_000, seed=5,
                      with_text=False)  # fmt: skip
    frame, info = rank_posterior(con, top=10, n_draws=200)
    assert len(frame) == 120 and frame["name"].notna().all()
    assert info["n_months"] == 18 and info["top"] == 10
    assert (frame["rank_low"] <= frame["rank"]).all() and (frame["rank"] <= frame["rank_high"]).all()
    raw = db.query_df(con, "SELECT compound_id, count(*) AS n FROM tickets WHERE is_valid GROUP BY 1")
    merged = frame.merge(raw, on="compound_id", how="left").fillna({"n": 0})
    assert (merged["tickets"] == merged["n"]).all()


def test_a_registry_with_gaps_in_the_stores_nullable_types_is_ranked(small):
    """The store hands the registry over with nullable Int32 and boolean columns and gaps in them
    (a compound added without type, age or households)."""
    reg = small.registry.copy()
    for column, dtype in (("built_year", "Int32"), ("households", "Int32"), ("is_old", "boolean")):
        if column in reg:
            reg[column] = reg[column].astype(dtype)
    reg.loc[reg.index[-3:], ["type", "is_old", "built_year", "households"]] = pd.NA
    frame, _ = posterior_rank(small.monthly, reg, small.months, n_draws=100)
    assert len(frame) == len(reg) and frame["expected_tickets"].notna().all()
