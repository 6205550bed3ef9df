"""Ranking: on simulated districts with a known truth it finds persistent problems, shrinks, covers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analytics.errors import NotFound, ValidationError
from analytics.reports.ranking_export import rank_records
from analytics.services import ranking
from analytics.store import db
from analytics.synthetic.simulate import simulate_district

SEEDS = (0, 1, 2)
SIM = {"months": ("2023-01", "2024-06"), "tickets_per_year": 100_000}


@pytest.fixture(scope="module")
def districts(tmp_path_factory):
    """Three simulated districts (1,105 compounds, 18 months), ranked once each."""
    out = []
    for seed in SEEDS:
        con = db.connect(tmp_path_factory.mktemp(f"sim{seed}") / "hotline.duckdb")
        truth = simulate_district(con, seed=seed, with_text=False, **SIM)
        out.append((con, truth, ranking.rank_compounds(con, n_draws=500, seed=seed)))
    yield out
    for con, _, _ in out:
        con.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("small") / "hotline.duckdb")
    simulate_district(con, n_compounds=120, months=("2023-01", "2023-12"), tickets_per_year=20_000, seed=5)
    yield con
    con.close()


def last_months(con, months: int) -> set[str]:
    """The 65 compounds with the most valid tickets in the last `months` months of 2023-01..2024-06."""
    first = {12: "2023-07-01", 6: "2024-01-01"}[months]
    rows = db.query_df(
        con,
        "SELECT compound_id, count(*) AS n FROM tickets WHERE is_valid AND created_at >= ? "
        "GROUP BY 1 ORDER BY n DESC, compound_id LIMIT 65",
        [first],
    )
    return set(rows["compound_id"])


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_default_list_finds_the_most_ticketed_compounds_as_well_as_a_raw_count(districts):
    """The district's criterion: the compounds with the most persistent tickets (true expected volume)."""
    ours, raw12, raw6 = [], [], []
    for con, truth, df in districts:
        true_top = truth.true_top(65, weights={"volume": 1})
        ours.append(len(true_top & set(df.loc[df["listed"], "compound_id"])))
        raw12.append(len(true_top & last_months(con, 12)))
        raw6.append(len(true_top & last_months(con, 6)))
    assert np.mean(ours) >= np.mean(raw12) - 0.5 and np.mean(ours) > np.mean(raw6), (ours, raw12, raw6)


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_shrunk_rates_are_closer_to_the_truth_than_raw_rates(districts):
    for con, truth, _ in districts:
        df = ranking.compute_components(con).frame
        df = df[df["tickets"] > 0]
        true_rate = truth.compounds.set_index("compound_id").loc[df["compound_id"], "rate_per_100"].to_numpy()
        shrunk = np.sqrt(np.mean((df["shrunk_rate"].to_numpy() - true_rate) ** 2))
        raw = np.sqrt(np.mean((df["raw_rate"].to_numpy() - true_rate) ** 2))
        assert shrunk < raw


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_rank_intervals_cover_the_true_rank_and_chances_add_up(districts):
    coverage, found, expected = [], [], []
    for _, truth, df in districts:
        true_rank = truth.true_ranks(weights={"volume": 1}).loc[df["compound_id"]].to_numpy()
        coverage.append(np.mean((df["rank_low"] <= true_rank) & (true_rank <= df["rank_high"])))
        listed = df[df["listed"]]
        found.append(len(truth.true_top(65, weights={"volume": 1}) & set(listed["compound_id"])))
        expected.append(listed["p_top"].sum())
    assert 0.8 <= np.mean(coverage) <= 0.99, coverage
    # the chances of the listed add up to about the number truly in the top 65
    assert abs(np.sum(expected) - np.sum(found)) <= 0.1 * np.sum(found), (expected, found)


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_ranking_columns_and_probabilities(districts):
    con, _, df = districts[0]
    for col in ("rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low",
                "rank_high", "rank_median", "p_top", "preset", "expected_tickets", "avoidable_tickets",
                "listed", "volume", "shrunk_rate", "trend", "repeat_share", "unresolved_share",
                "dissatisfaction", "peer_group", "peer_median_rate", "peer_ratio"):  # fmt: skip
        assert col in df.columns
    # every compound of the registry is ranked, also those with few tickets
    assert len(df) == db.query_one(con, "SELECT count(*) FROM compounds")
    assert ((df["rank_low"] <= df["rank"]) & (df["rank"] <= df["rank_high"])).all()
    assert df["listed"].sum() == 65 and df["listed"].head(65).all()
    assert df["p_top"].between(0, 1).all() and abs(df["p_top"].sum() - 65) < 1e-6
    # the list is the 65 most likely to be in the top 65
    assert df.loc[df["listed"], "p_top"].min() >= df.loc[~df["listed"], "p_top"].max()
    assert (df["preset"] == "volume").all() and df.attrs["definition"] == "rk_preset_volume"


@pytest.mark.parametrize(
    "weights",
    [
        {"repeat_share": 1, "popularity": 1},  # unknown component
        {"repeat_share": -0.5},  # negative
    ],
)
def test_bad_weights_are_refused(small, weights):
    with pytest.raises(ValidationError):
        ranking.rank_compounds(small, weights=weights, n_draws=50)


def test_an_unknown_preset_is_refused(small):
    with pytest.raises(ValidationError):
        ranking.rank_compounds(small, preset="worst", n_draws=50)


def test_without_share_weights_the_volume_list_ranks_by_expected_tickets(small):
    df = ranking.rank_compounds(small, weights={}, n_draws=50, top=10)
    assert np.allclose(df["score"], df["expected_tickets"], rtol=1e-5)
    assert all(r["weight"] == 0 for r in df.attrs["shares"].values())


def test_compounds_with_few_tickets_are_ranked_not_dropped(small):
    df = ranking.rank_compounds(small, n_draws=50)
    few = df[df["tickets"] < 10]
    assert len(df) == 120 and len(few) > 0
    assert few["rank_low"].notna().all() and (few["expected_tickets"] > 0).all()


def test_records_are_plain_json_without_nan(small):
    df = ranking.rank_compounds(small, n_draws=50)
    df.loc[0, "dissatisfaction"] = np.nan
    text = rank_records(df, "json", top=10)
    rows = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert len(rows) == 10 and rows[0]["dissatisfaction"] is None
    assert {"rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low",
            "rank_high", "p_top", "preset", "expected_tickets", "avoidable_tickets", "rank_median",
            "preset_definition"} <= set(rows[0])  # fmt: skip
    assert isinstance(rows[0]["rank"], int) and isinstance(rows[0]["score"], float)
    assert rows[0]["preset_definition"].startswith("工单量大")
    assert rank_records(df, "csv", top=3).count("\n") == 4


def test_missing_households_leave_the_rate_out_not_the_compound(small, tmp_path):
    con = db.connect(tmp_path / "h.duckdb")
    simulate_district(con, n_compounds=60, months=("2023-01", "2023-12"), tickets_per_year=10_000, seed=3)
    con.execute("UPDATE compounds SET households = NULL WHERE compound_id IN ('C00001', 'C00002')")
    df = ranking.rank_compounds(con, n_draws=50)
    flagged = df.set_index("compound_id").loc[["C00001", "C00002"]]
    assert (flagged["rate_basis"] == "imputed_households").all() and flagged[
        "rate_per_100_households"
    ].isna().all()
    by_rate = ranking.rank_compounds(con, n_draws=50, preset="rate")
    assert len(by_rate) == 58 and by_rate.attrs["excluded_without_households"] == 2
    con.execute("UPDATE compounds SET households = NULL")
    df = ranking.rank_compounds(con, n_draws=50)
    assert len(df) == 60 and df["rate_per_100_households"].isna().all()
    with pytest.raises(ValidationError):
        ranking.rank_compounds(con, n_draws=50, preset="rate")


def test_stability_is_total_without_jitter_and_names_what_it_varied(small):
    still = ranking.stability(small, top=20, n=20, jitter=0.0, n_draws=100)
    assert still["mean_overlap"] == 20 and still["always_in"] == 20
    moved = ranking.stability(small, top=20, n=50, jitter=0.5, n_draws=100)
    tested = ranking.posterior_draws(small, n_draws=100).share_tests
    assert moved["varied"] == [k for k, r in tested.items() if r["reason"] == "signal"]
    assert 10 <= moved["mean_overlap"] <= 20
    assert all(0 < s <= 1 for s in moved["in_top_share"].values())
    # with no weight on any share there is nothing to vary
    assert ranking.stability(small, weights={}, top=20, n=20, jitter=0.5, n_draws=100)["varied"] == []


def test_the_definitions_share_part_of_their_lists(small):
    overlap = ranking.preset_overlap(small, top=20, n_draws=100).set_index("preset")
    assert overlap.loc["volume", "shared"] == 20
    assert 0 <= overlap.loc["rate", "shared"] <= 20


def test_snapshot_round_trip_and_history(small):
    df = ranking.rank_compounds(small, n_draws=50, preset="excess")
    start, end = df.attrs["window"]
    params = ranking.snapshot_params(df.attrs, 65)
    sid = ranking.save_snapshot(small, df, start, end, params, user="analyst", note="测试")
    again = ranking.load_snapshot(small, sid)
    # the list first, as it was shown, with what it was ranked by
    assert list(again["compound_id"]) == list(df["compound_id"])
    assert np.allclose(again["avoidable_tickets"], df["avoidable_tickets"])
    assert list(again["listed"]) == list(df["listed"])
    saved = again.attrs["params"]
    assert again.attrs["note"] == "测试" and saved["preset"] == "excess" and saved["n_draws"] == 50
    assert set(saved["weights"]) == {"repeat_share", "unresolved_share", "dissatisfaction"}
    assert len(saved["window"]) == 2 and saved["n_months"] == 12
    sid2 = ranking.save_snapshot(small, df, start, end, {})
    assert list(ranking.list_snapshots(small)["snapshot_id"][:2]) == [sid2, sid]
    history = ranking.rank_history(small, df["compound_id"][0])
    assert list(history["rank"]) == [df["rank"][0]] * 2
    with pytest.raises(NotFound):
        ranking.load_snapshot(small, 999)


def test_funnel_limits_widen_for_small_compounds(small):
    fd = ranking.funnel_data(small)
    curve = fd.curve
    assert (curve["ratio_high_99.8"] >= curve["ratio_high_95"]).all()
    assert curve["ratio_high_95"].is_monotonic_decreasing
    assert set(fd.points["flag"]) <= {
        "正常范围",
        "高于95%上限",
        "高于99.8%上限",
        "低于95%下限",
        "低于99.8%下限",
    }
    assert math.isclose(fd.points["tickets"].sum() / fd.points["exposure"].sum(), fd.district_rate)


def test_leagues_have_intervals_and_tails(small):
    companies = ranking.company_league(small, "2023Q4", n_draws=200)
    assert (companies["rate_low"] <= companies["shrunk_rate"]).all()
    assert (companies["shrunk_rate"] <= companies["rate_high"]).all()
    assert "evaluation_list" in companies.columns
    communities = ranking.community_league(small, "2023H2", n_draws=200)
    k = math.ceil(0.1 * len(communities))
    assert (communities["tail"] != "").sum() == 2 * k
    assert communities["p_worst"].iloc[0] >= communities["p_worst"].iloc[-1]


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_stars_fall_as_complaints_rise(districts):
    con, _, _ = districts[0]
    result = ranking.stars_vs_rate(con, "2024H1")
    assert result.spearman < 0 and result.ci_low < result.spearman < result.ci_high < 0
    assert list(result.table["stars"]) == [1, 2, 3, 4, 5]
