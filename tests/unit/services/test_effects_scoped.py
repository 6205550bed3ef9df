"""A head's effects: their own compounds against a counterfactual (the model's where it has one,
else the comparison group's trend scaled to the compound), their own actions and costs, and
nothing from compounds outside the scope."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.services import effects
from analytics.services.taskforces import records
from analytics.store import db
from tests.fixtures.apptest import build_fixture_store
from tests.fixtures.district import ACTION_COST, build_district

MONTHS = pd.date_range("2023-01-01", periods=8, freq="MS")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("scoped_district"))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The page tests' five-compound store: one task force, too little history for the model."""
    return build_fixture_store(tmp_path_factory.mktemp("scoped_small"))


def monthly(own: list[int], comparison: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"C1": own, "comparison": comparison}, index=MONTHS, dtype=float)


@pytest.mark.parametrize(
    ("own", "comparison", "selection_start", "expected"),
    [
        # scaled on the months before the start (too few before the window): own is half the group
        ([5, 5, 5, 5, 5, 3, 3, 3], [10, 10, 10, 10, 10, 12, 12, 12], None, [5, 5, 5, 5, 5, 6, 6, 6]),
        # the selection window (months 4-5) is the peak that got the compound chosen: enough months
        # lie before it, so the scale ignores the peak
        (
            [4, 4, 4, 9, 9, 3, 3, 3],
            [20, 20, 20, 20, 20, 20, 20, 20],
            dt.date(2023, 4, 1),
            [4, 4, 4, 4, 4, 4, 4, 4],
        ),
        # silent before the start: nothing to scale, no counterfactual
        ([0, 0, 0, 0, 0, 2, 2, 2], [10] * 8, None, [np.nan] * 8),
    ],
)
def test_comparison_counterfactual(own, comparison, selection_start, expected):
    got = effects.comparison_counterfactual(
        monthly(own, comparison), "C1", dt.date(2023, 6, 1), selection_start
    )
    assert list(got.columns) == effects.SERIES_COLUMNS
    np.testing.assert_allclose(got["expected"].to_numpy(float), expected)
    assert got["pi_low"].isna().all() and got["pi_high"].isna().all()  # a trend, not an interval
    assert list(got["observed"]) == own


def test_head_gets_the_model_counterfactual_of_their_compounds_only(district):
    con = db.connect(district.path)
    try:
        mine = effects.scoped_effects(con, district.head_scope)
        full = effects.stored_effects(con, by_category=False)
    finally:
        con.close()
    assert sorted(mine.summary["compound_id"]) == sorted(district.head_scope)
    assert set(mine.series["compound_id"]) == set(district.head_scope)
    assert set(mine.summary["basis"]) == {effects.BASIS_MODEL}
    # the same numbers the leaders' table shows for these compounds
    theirs = full.per_compound_summary.set_index("compound_id").loc[list(mine.summary["compound_id"])]
    assert list(mine.summary["expected_post"]) == list(theirs["expected_post"])
    assert list(mine.summary["change_vs_expected_pct"]) == list(theirs["change_vs_expected_pct"])
    # their actions and costs, none of anyone else's
    assert set(mine.actions["compound_id"]) <= set(district.head_scope)
    assert mine.summary.set_index("compound_id")["cost"].get(district.treated[0]) == ACTION_COST


def test_actions_of_other_compounds_stay_out(district, tmp_path):
    path = tmp_path / "store.duckdb"
    path.write_bytes(district.path.read_bytes())
    con = db.connect(path)
    try:
        other = records.ledger(
            con, compound_scope=[c for c in district.treated if c not in district.head_scope]
        )
        records.log_action(
            con, int(other["taskforce_id"].iloc[0]), "2023-05-01", "清理楼道", 7777.0, user="tf2"
        )
        mine = effects.scoped_effects(con, district.head_scope)
    finally:
        con.close()
    assert 7777.0 not in set(mine.actions["cost"]) and 7777.0 not in set(mine.summary["cost"].dropna())
    assert "清理楼道" not in set(mine.actions["action"])


def test_without_a_model_estimate_the_comparison_trend_stands_in(small):
    con = db.connect(small.path)
    try:
        mine = effects.scoped_effects(con, ["C001", "C002"])  # C002 has no task force
    finally:
        con.close()
    assert list(mine.summary["compound_id"]) == ["C001"]
    row = mine.summary.iloc[0]
    assert row["basis"] == effects.BASIS_COMPARISON
    series = mine.series
    before = series[series["month"] < pd.Timestamp(row["start"])]
    # scaled to the compound's own months before the start
    assert before["expected"].sum() == pytest.approx(before["observed"].sum())
    after = series[series["month"] >= pd.Timestamp(row["start"])]
    assert row["observed_post"] == after["observed"].sum()
    assert row["expected_post"] == pytest.approx(after["expected"].sum(), abs=0.05)


def test_a_scope_without_task_forces_is_empty(small):
    con = db.connect(small.path)
    try:
        mine = effects.scoped_effects(con, ["C004", "C005"])
    finally:
        con.close()
    assert mine.summary.empty and mine.series.empty and mine.actions.empty
