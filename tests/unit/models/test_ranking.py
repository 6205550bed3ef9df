"""Ranking: on simulated districts with a known truth it finds persistent problems, shrinks, covers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analytics import config
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


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_default_top65_beats_last_half_year_raw_count(districts):
    ours, raw = [], []
    for con, truth, df in districts:
        true_top = truth.true_top(65, compound_ids=df["compound_id"])
        ours.append(len(true_top & set(df.loc[df["rank"] <= 65, "compound_id"])))
        last_half = db.query_df(
            con,
            "SELECT compound_id, count(*) AS n FROM tickets WHERE is_valid AND created_at >= '2024-01-01' "
            "GROUP BY 1 ORDER BY n DESC, compound_id LIMIT 65",
        )
        raw.append(len(true_top & set(last_half["compound_id"])))
    assert np.mean(ours) >= np.mean(raw) + 8, (ours, raw)


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_shrunk_rates_are_closer_to_the_truth_than_raw_rates(districts):
    for _, truth, df in districts:
        true_rate = truth.compounds.set_index("compound_id").loc[df["compound_id"], "rate_per_100"].to_numpy()
        shrunk = np.sqrt(np.mean((df["shrunk_rate"].to_numpy() - true_rate) ** 2))
        raw = np.sqrt(np.mean((df["raw_rate"].to_numpy() - true_rate) ** 2))
        assert shrunk < raw


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_rank_intervals_cover_the_true_rank_near_90_percent(districts):
    coverage = []
    for _, truth, df in districts:
        true_rank = truth.true_ranks(compound_ids=df["compound_id"]).loc[df["compound_id"]].to_numpy()
        coverage.append(np.mean((df["rank_low"] <= true_rank) & (true_rank <= df["rank_high"])))
    assert 0.8 <= np.mean(coverage) <= 0.98, coverage


@pytest.mark.slow  # shares three simulated districts (~10 s to build)
def test_ranking_columns_and_probabilities(districts):
    _, _, df = districts[0]
    for col in ("rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low",
                "rank_high", "p_top", "volume", "shrunk_rate", "trend", "repeat_share", "unresolved_share",
                "dissatisfaction", "peer_group", "peer_median_rate", "peer_ratio"):  # fmt: skip
        assert col in df.columns
    assert list(df["rank"]) == list(range(1, len(df) + 1))
    assert df["score"].is_monotonic_decreasing
    assert ((df["rank_low"] <= df["rank"] + 50) & (df["rank_low"] <= df["rank_high"])).all()
    assert df["p_top"].between(0, 1).all() and abs(df["p_top"].sum() - 65) < 1e-6
    assert (df["tickets"] >= config.MIN_TICKETS).all()


@pytest.mark.parametrize(
    "weights",
    [
        {"shrunk_rate": 1, "popularity": 1},  # unknown component
        {"shrunk_rate": -0.5, "volume": 1},  # negative
        {"shrunk_rate": 0, "volume": 0},  # nothing left
    ],
)
def test_bad_weights_are_refused(small, weights):
    with pytest.raises(ValidationError):
        ranking.rank_compounds(small, weights=weights, n_draws=50)


def test_volume_only_weights_rank_by_tickets(small):
    df = ranking.rank_compounds(small, weights={"volume": 1}, n_draws=50, top=10)
    assert df["tickets"].is_monotonic_decreasing


def test_min_tickets_excludes_small_compounds(small):
    df = ranking.rank_compounds(small, min_tickets=60, n_draws=50)
    assert (df["tickets"] >= 60).all() and df.attrs["excluded"] > 0
    with pytest.raises(NotFound):
        ranking.rank_compounds(small, min_tickets=10**9, n_draws=50)


def test_records_are_plain_json_without_nan(small):
    df = ranking.rank_compounds(small, n_draws=50)
    df.loc[0, "dissatisfaction"] = np.nan
    text = rank_records(df, "json", top=10)
    rows = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert len(rows) == 10 and rows[0]["dissatisfaction"] is None
    assert {"rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low",
            "rank_high", "p_top"} <= set(rows[0])  # fmt: skip
    assert isinstance(rows[0]["rank"], int) and isinstance(rows[0]["score"], float)
    assert rank_records(df, "csv", top=3).count("\n") == 4


def test_missing_households_fall_back_with_a_flag(small, tmp_path):
    con = db.connect(tmp_path / "h.duckdb")
    simulate_district(con, n_compounds=60, months=("2023-01", "2023-12"), tickets_per_year=10_000, seed=3)
    con.execute("UPDATE compounds SET households = NULL WHERE compound_id IN ('C00001', 'C00002')")
    df = ranking.rank_compounds(con, n_draws=50)
    flagged = df.set_index("compound_id").loc[["C00001", "C00002"]]
    assert (flagged["rate_basis"] == "imputed_households").all()
    con.execute("UPDATE compounds SET households = NULL")
    df = ranking.rank_compounds(con, n_draws=50)
    assert (df["rate_basis"] == "per_compound").all() and df["rate_per_100_households"].isna().all()
    assert df["shrunk_rate"].notna().all()


def test_stability_is_total_without_jitter_and_partial_with_it(small):
    still = ranking.stability(small, top=20, n=20, jitter=0.0)
    moved = ranking.stability(small, top=20, n=50, jitter=0.5)
    assert still["mean_overlap"] == 20 and still["always_in"] == 20
    assert 10 <= moved["mean_overlap"] <= 20
    assert all(0 < s <= 1 for s in moved["in_top_share"].values())


def test_snapshot_round_trip_and_history(small):
    df = ranking.rank_compounds(small, n_draws=50)
    start, end = df.attrs["window"]
    sid = ranking.save_snapshot(
        small, df, start, end, {"weights": df.attrs["weights"]}, user="analyst", note="测试"
    )
    again = ranking.load_snapshot(small, sid)
    assert list(again["compound_id"]) == list(df["compound_id"])
    assert np.allclose(again["shrunk_rate"], df["shrunk_rate"])
    assert again.attrs["note"] == "测试" and again.attrs["params"]["weights"]["shrunk_rate"] > 0
    sid2 = ranking.save_snapshot(small, df, start, end, {})
    assert list(ranking.list_snapshots(small)["snapshot_id"][:2]) == [sid2, sid]
    history = ranking.rank_history(small, df["compound_id"][0])
    assert list(history["rank"]) == [1, 1]
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
