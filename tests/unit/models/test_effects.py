"""Effect estimates on simulated districts whose truth is known.

Simulations run in memory (analytics.synthetic.effects_sim) where many repetitions are needed; the store
path (tickets in DuckDB -> estimate_effects) and the batch interface are checked on whole
districts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.models.effects import poisson, result
from analytics.models.effects.panel import Cohort, Panel
from analytics.reports.effects_text import cost_caveat, summary
from analytics.services import effects
from analytics.services.taskforces import records
from analytics.store import db
from analytics.synthetic import effects_sim
from analytics.synthetic.categories import PANEL_CATEGORIES
from tests.fixtures import ROOT
from tests.fixtures.cli import EFFECTS_JSON_KEYS

# strong transient surges: a clear regression to the mean after selecting the top 65
SURGING = {"shock_prob": 0.25, "shock_range": (2.5, 4.0)}


def _estimate(sim: effects_sim.SimDistrict, controls: int | str = "auto") -> dict:
    panel, cohorts = effects_sim.to_panel(sim)
    return result.estimate_from_panel(panel, cohorts, controls=controls)


@pytest.fixture(scope="module")
def null_store(tmp_path_factory):
    """A district of 1,105 compounds, no true effect, task forces on the top 65 of 2023H1."""
    path = tmp_path_factory.mktemp("null") / "hotline.duckdb"
    con = db.connect(path)
    sim = effects_sim.simulate(seed=3, effect=0.0, mean_rate=8.0, **SURGING)
    effects_sim.write_store(con, sim)
    yield con, sim
    con.close()


# ---------------------------------------------------------------- headline figures


def test_no_effect_naive_drops_placebo_drops_interval_covers_zero(null_store):
    con, _ = null_store
    res = effects.estimate_effects(con, details=False)
    out = res.as_json()
    assert list(out) == EFFECTS_JSON_KEYS
    json.dumps(out)  # plain numbers, serialisable
    assert (out["treated"], out["selection_window"], out["start"]) == (65, "2023-01:2023-06", "2023-07-01")
    assert out["controls"] >= 150
    assert out["naive_change_pct"] < -12  # the official figure shows a clear drop ...
    # ... but 18 months before the start leave no room for a placebo built like it: said, not shortened
    assert out["placebo_change_pct"] is None
    assert {"code": "placebo_no_room", "needed": 24, "available": 18} in res.notes
    assert "数据起点太晚" in summary(res, "zh") and "start too late" in summary(res, "en")
    assert out["ci_low_pct"] <= 0 <= out["ci_high_pct"]  # the adjusted interval covers zero
    assert "区间跨零" in summary(res, "zh") and "crosses zero" in summary(res, "en")
    assert out["selection_window_source"] == "given"


def test_planted_effect_is_recovered():
    runs = [(sim, _estimate(sim)) for sim in (effects_sim.simulate(seed=s, effect=-0.3) for s in range(1, 6))]
    errors = [got["effect"] - sim.truth_pct for sim, got in runs]
    assert abs(np.mean(errors)) < 3  # within a few points on average ...
    assert max(abs(e) for e in errors) < 12  # ... and never far off in one district
    for _sim, got in runs:
        assert got["high"] < 0
        assert got["naive"] < got["effect"] + 5  # the naive figure does not understate the drop


def test_interval_covers_truth_about_95_percent():
    hits = []
    for seed in range(60):
        effect = [0.0, -0.2, -0.4][seed % 3]
        sim = effects_sim.simulate(
            n_compounds=400, seed=100 + seed, waves=[effects_sim.Wave(12, 17, 18, 24, effect)]
        )
        got = _estimate(sim)
        hits.append(got["low"] <= sim.truth_pct <= got["high"])
    assert 0.85 <= np.mean(hits) <= 0.99


@pytest.mark.parametrize("aligned", [True, False])
def test_surges_that_straddle_the_window_do_not_fake_an_effect(aligned):
    """Surges may start in any month; the baseline before the window must still give ~0."""
    runs = [_estimate(effects_sim.simulate(seed=s, aligned_shocks=aligned)) for s in range(10)]
    assert abs(np.mean([r["effect"] for r in runs])) < 5


# ---------------------------------------------------------------- staggered starts


def _twfe_pct(panel: Panel, rows: list[int], cohorts: list[Cohort]) -> float:
    """A plain two-way fixed-effects Poisson regression: compound + month effects, one treated dummy."""
    rows = sorted(rows)
    n_t = panel.n_months
    y = panel.counts[rows].ravel()
    unit = np.repeat(np.arange(len(rows)), n_t)
    month = np.tile(np.arange(n_t), len(rows))
    treated = np.zeros((len(rows), n_t))
    where = {r: i for i, r in enumerate(rows)}
    for cohort in cohorts:
        for r in cohort.rows:
            treated[where[r], panel.col(cohort.first_post) :] = 1
    z = np.zeros((len(y), n_t))
    z[np.arange(len(y)), month] = 1
    z = np.c_[z[:, 1:], treated.ravel()]
    fit = poisson.poisson_fe(y, unit, np.asarray(rows)[unit], z, [f"t{k}" for k in range(1, n_t)] + ["d"])
    return 100 * (np.exp(fit.params[-1]) - 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_staggered_waves_with_growing_effects(seed):
    def grows(months_since_start):  # -6% in the first month, -6% more each month, at most -60%
        return np.maximum(-0.06 * (months_since_start + 1), -0.6)

    waves = [effects_sim.Wave(6, 11, 12, 60, grows), effects_sim.Wave(12, 17, 18, 60, grows)]
    sim = effects_sim.simulate(n_compounds=500, seed=seed, shock_prob=0.0, waves=waves)
    panel, cohorts = effects_sim.to_panel(sim)
    got = result.estimate_from_panel(panel, cohorts)
    # the early wave serves as "control" for the late one once it is treated: TWFE's known bias
    twfe = _twfe_pct(panel, [r for c in cohorts for r in c.rows], cohorts)
    assert abs(got["effect"] - sim.truth_pct) < 3
    assert got["low"] <= sim.truth_pct <= got["high"]
    assert abs(twfe - sim.truth_pct) > 3 * abs(got["effect"] - sim.truth_pct)


def test_wave_specific_effects_are_reported_per_cohort(tmp_path):
    waves = [effects_sim.Wave(6, 11, 12, 40, -0.4), effects_sim.Wave(12, 17, 18, 40, 0.0)]
    sim = effects_sim.simulate(n_compounds=500, seed=5, waves=waves, mean_rate=10.0)
    con = db.connect(tmp_path / "h.duckdb")
    effects_sim.write_store(con, sim)
    res = effects.estimate_effects(con)
    by = res.by_cohort.set_index("start")
    assert by.loc["2023-01-01", "ci_low_pct"] <= -40 <= by.loc["2023-01-01", "ci_high_pct"]
    assert by.loc["2023-07-01", "ci_low_pct"] <= 0 <= by.loc["2023-07-01", "ci_high_pct"]
    assert res.as_json()["start"] == "2023-01-01" and res.treated == 80
    con.close()


# ---------------------------------------------------------------- the other outputs


def test_event_study_per_compound_category_cost(null_store, tmp_path):
    con, sim = null_store
    tf = int(db.query_one(con, "SELECT min(taskforce_id) FROM task_forces"))
    records.log_action(con, tf, "2023-08-01", "更换老旧管网", cost=50000)
    res = effects.estimate_effects(con)
    es = res.event_study.set_index("rel_month")
    baseline = es[es["period"] == "baseline"]
    # parallel before the window: baseline months scatter around zero, mostly inside their CI
    assert abs(baseline["coef"].mean()) < 1e-9
    assert ((baseline["ci_low_pct"] <= 0) & (baseline["ci_high_pct"] >= 0)).mean() >= 0.75
    assert es.loc[-6:-1, "coef"].mean() > 0.2  # the selection spike shows up in the window
    per = res.per_compound
    one = per[per["compound_id"] == per["compound_id"].iloc[0]]
    assert set(one["period"]) == {"baseline", "selection", "post"}
    post = one[one["period"] == "post"]
    assert (post["pi_low"] <= post["expected"]).all() and (post["expected"] <= post["pi_high"]).all()
    assert {"meets_exit_rule", "months_below", "change_vs_expected_pct"} <= set(
        res.per_compound_summary.columns
    )
    assert len(res.per_compound_summary) == 65
    assert set(res.by_category["category"]) >= set(PANEL_CATEGORIES[:3])
    assert (res.by_category["ci_low_pct"] <= res.by_category["ci_high_pct"]).all()
    assert (
        len(res.displacement) == 1
        and res.displacement.at[0, "ci_low_pct"] <= res.displacement.at[0, "ci_high_pct"]
    )
    assert res.cost["total_cost"] == 50000
    assert res.cost["caveat"] == "unbounded"  # no real effect: cost per avoided ticket is unbounded
    assert "区间跨零" in cost_caveat(res.cost, "zh") and "crosses zero" in cost_caveat(res.cost, "en")


def test_with_two_years_before_the_start_there_is_a_placebo():
    # selection 2024-01:2024-06, start 2024-07, data from 2022-01: room for a placebo laid out like the naive figure
    sim = effects_sim.simulate(seed=4, n_months=42, waves=[effects_sim.Wave(24, 29, 30, 65, 0.0)], **SURGING)
    got = _estimate(sim)
    # one district's placebo is noisy; that it averages the naive figure on null districts is
    # tests/unit/models/test_effects_placebo.py's
    assert got["placebo"] is not None and got["placebo"] < 0 and got["naive"] < -5


@pytest.mark.parametrize(
    "setup, message",
    [
        ("no_taskforces", "尚未登记任何专班"),
        ("no_tickets", "没有已匹配到小区的工单"),
    ],
)
def test_clear_errors_when_nothing_to_estimate(store, setup, message):
    with db.transaction(store) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', '甲小区')")
        if setup == "no_taskforces":
            cur.execute(
                "INSERT INTO tickets (ticket_id, created_at, compound_id, batch_id) VALUES ('t', now(), 'C1', 0)"
            )
        else:
            cur.execute(
                "INSERT INTO task_forces (taskforce_id, compound_id, start_date) VALUES (1, 'C1', '2023-01-01')"
            )
    with pytest.raises(ValidationError) as info:
        effects.estimate_effects(store)
    assert message in info.value.zh and info.value.en


@pytest.mark.parametrize("controls", ["some", 0, -3])
def test_bad_controls_argument(null_store, controls):
    with pytest.raises(ValidationError):
        effects.estimate_effects(null_store[0], controls=controls)


# ---------------------------------------------------------------- through the batch interface


def _cli(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(db_path), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("effect", [None, -0.3])
def test_import_then_effects_json_on_shared_simulator(tmp_path, effect):
    """The outside check: simulate_district -> rank top 65 -> taskforces import -> effects --format json."""
    from analytics.synthetic.simulate import simulate_district

    window = ("2023-01-01", "2023-07-01")
    scratch = db.connect(tmp_path / "scratch.duckdb")
    simulate_district(scratch, seed=11, with_text=False)
    top = db.query_df(
        scratch,
        "SELECT compound_id, count(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ? "
        "GROUP BY 1 ORDER BY n DESC, compound_id LIMIT 65",
        list(window),
    )["compound_id"].tolist()
    scratch.close()
    store = tmp_path / "hotline.duckdb"
    con = db.connect(store)
    simulate_district(con, seed=11, with_text=False, effect=effect, treated=top, start="2023-07")
    names = db.query_df(con, "SELECT compound_id, name FROM compounds").set_index("compound_id")["name"]
    con.close()
    listing = pd.DataFrame(
        {
            "小区编号": top,
            "小区名称": [names[c] for c in top],
            "包保领导": [f"领导{i % 38 + 1}" for i in range(65)],
            "进驻日期": ["2023-07-01"] * 65,
        }
    )
    listing.to_csv(tmp_path / "专班.csv", index=False, encoding="utf-8-sig")
    imported = _cli(
        store, "taskforces", "import", str(tmp_path / "专班.csv"), "--selection-window", "2023-01:2023-06"
    )
    assert imported.returncode == 0, imported.stderr
    out = _cli(store, "effects", "--format", "json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert list(got) == EFFECTS_JSON_KEYS and got["treated"] == 65
    truth = 0.0 if effect is None else -30.0
    assert got["ci_low_pct"] <= truth <= got["ci_high_pct"]
    if effect is not None:
        assert abs(got["adjusted_effect_pct"] - truth) < 6 and got["ci_high_pct"] < 0


def test_skipping_by_category_keeps_the_per_compound_views(tmp_path):
    """The task-force page asks for per-compound bands only; they must equal the full run's."""
    from analytics.synthetic import demo

    con = db.connect(tmp_path / "demo.duckdb")
    demo.build_demo(con, seed=3, scale=0.1)
    full = effects.estimate_effects(con)
    lean = effects.estimate_effects(con, by_category=False)
    assert lean.as_json() == full.as_json()
    pd.testing.assert_frame_equal(lean.per_compound, full.per_compound)
    assert lean.by_category.empty and not full.by_category.empty
