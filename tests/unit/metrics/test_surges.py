"""Surges: planted surges are found, null districts raise (almost) no alarms."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.errors import ValidationError
from analytics.metrics import surges
from analytics.reports import alerts as alerts_text
from analytics.store import db
from analytics.synthetic.simulate import simulate_district

MONTHS = ("2022-07", "2024-06")
SEED = 12
pytestmark = pytest.mark.slow  # two simulated districts of 1,105 compounds (~12 s)


def _mid_sized(n: int = 10) -> dict[str, float]:
    """Ten compounds between the 60th and 95th percentile of expected tickets get 3x in June 2024.

    Persistent rates depend only on the seed and the number of compounds, so a tiny run tells.
    """
    con = db.connect(":memory:")
    truth = simulate_district(
        con, months=("2024-01", "2024-01"), tickets_per_year=100, seed=SEED, with_text=False
    )
    size = truth.compounds.set_index("compound_id")["expected_monthly"]
    mid = size[(size > size.quantile(0.6)) & (size < size.quantile(0.95))].sort_index()
    return {cid: 3.0 for cid in mid.index[:: max(1, len(mid) // n)][:n]}


PLANTED = _mid_sized()


@pytest.fixture(scope="module")
def null_district(tmp_path_factory):
    """Seasonal Poisson data with no shocks at all: every alert is a false alarm."""
    con = db.connect(tmp_path_factory.mktemp("null") / "hotline.duckdb")
    simulate_district(con, months=MONTHS, tickets_per_year=150_000, seed=11, shock_prob=0, with_text=False)
    yield con
    con.close()


@pytest.fixture(scope="module")
def planted_district(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("planted") / "hotline.duckdb")
    simulate_district(
        con, months=MONTHS, tickets_per_year=150_000, seed=SEED, shock_prob=0, surges=PLANTED, surge_month="2024-06",
        with_text=False,
    )  # fmt: skip
    yield con
    con.close()


def test_planted_surges_are_found_with_reasons(planted_district):
    assert len(PLANTED) == 10
    alerts = surges.detect_surges(planted_district, "2024-06")
    found = set(alerts["compound_id"]) & set(PLANTED)
    assert len(found) >= 8, alerts[["compound_id", "tickets", "expected"]]
    assert len(set(alerts["compound_id"]) - set(PLANTED)) <= 2
    words = alerts_text.reasons(alerts, "zh")
    assert all(r.startswith("本月 ") and "预期" in r for r in words)
    assert all(
        r.endswith(" expected (seasonal baseline)") or "main category" in r
        for r in alerts_text.reasons(alerts, "en")
    )
    assert alerts.attrs["method"] == "Benjamini-Hochberg FDR"


@pytest.mark.parametrize("month", ["2023-12", "2024-02", "2024-06"])
def test_null_district_keeps_false_alarms_near_target(null_district, month):
    table = surges.surge_table(null_district, month)
    assert table["alert"].sum() <= 1
    # p-values are calibrated, not just conservative to the point of blindness
    assert 0.01 <= (table["p_value"] < 0.05).mean() <= 0.08


def test_short_baseline_is_refused(tmp_path):
    con = db.connect(tmp_path / "short.duckdb")
    simulate_district(
        con, n_compounds=30, months=("2024-01", "2024-06"), tickets_per_year=2000, with_text=False
    )
    with pytest.raises(ValidationError, match="基线"):
        surges.detect_surges(con, "2024-06")


def test_expected_follows_the_seasonal_baseline(null_district):
    winter = surges.surge_table(null_district, "2023-12")
    spring = surges.surge_table(null_district, "2024-04")
    ratio = winter["expected"].sum() / spring["expected"].sum()
    assert 1.2 < ratio < 1.6  # simulated Dec / Apr seasonality: 1.28 / 0.9
    assert np.isclose(winter["tickets"].sum() / winter["expected"].sum(), 1.0, atol=0.1)
