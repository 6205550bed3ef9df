"""Checks beside the headline effect: data-integrity alarms, the pre-trend test, the effect path with
simultaneous bands, and adjusted p-values for many flags.

Simulated districts (analytics.synthetic.effects_sim) give a known truth: parallel trends by
construction (no effect before the start), a planted pre-trend, or an effect that builds up.
Constants were chosen on seeds 0-9; the assertions run on seeds from 100.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from analytics.models.effects import estimates
from analytics.models.effects.integrity import excluded_rows, integrity_flags
from analytics.models.effects.multiplicity import bh_qvalues, holm
from analytics.models.effects.panel import Cohort, Panel, _md
from analytics.models.effects.pretrend import effect_path, path_end, pretrend_test
from analytics.models.effects.stacking import build_stacks
from analytics.synthetic import effects_sim

SIZE_SEEDS = range(100, 250)  # about 40 s on a quiet machine; 250 districts (100-349) gave a size of 6.0%
PRE_RAMP_START = 0.75  # treated counts x 0.75 in the first month, rising linearly to x1 at the window
RAMP_EFFECT_END = -0.4  # the effect grows linearly from 0 at the start to -40% in month 11


def _stacked(sim: effects_sim.SimDistrict, controls: int | str = "auto"):
    panel, cohorts = effects_sim.to_panel(sim)
    return panel, cohorts, build_stacks(panel, cohorts, controls=controls)


def _with_pre_trend(sim: effects_sim.SimDistrict, seed: int) -> effects_sim.SimDistrict:
    """Thin the treated compounds' tickets before the selection window by a ramp rising to 1."""
    rng = np.random.default_rng(seed)
    wave = sim.waves[0]
    rows = [sim.compound_ids.index(c) for c in sim.taskforces["compound_id"]]
    ramp = np.linspace(PRE_RAMP_START, 1.0, wave.window_start)
    block = np.ix_(rows, range(wave.window_start))
    sim.counts[block] = rng.binomial(sim.counts[block].astype(int), ramp)
    return sim


def _ramp_effect(months: np.ndarray) -> np.ndarray:
    return RAMP_EFFECT_END * np.minimum(months, 11) / 11


# ---------------------------------------------------------------- the pre-trend test


@pytest.mark.slow
def test_pretrend_test_holds_its_size_where_trends_are_parallel():
    started = time.perf_counter()
    p_values = []
    for seed in SIZE_SEEDS:
        panel, cohorts, stacks = _stacked(effects_sim.simulate(seed=seed))
        p_values.append(pretrend_test(panel, cohorts, stacks)["p_value"])
    elapsed = time.perf_counter() - started
    rejected = float(np.mean(np.array(p_values) < 0.05))
    print(f"size at 5%: {rejected:.3f} over {len(p_values)} districts, {elapsed / len(p_values):.2f} s each")
    assert 0.0 <= rejected <= 0.12
    assert 0.02 < float(np.mean(np.array(p_values) < 0.5)) < 0.98  # p-values spread out, not stuck


@pytest.mark.slow
def test_pretrend_test_rejects_a_planted_pre_trend():
    rejected = []
    for seed in range(100, 120):
        sim = _with_pre_trend(effects_sim.simulate(seed=seed), seed)
        out = pretrend_test(*_stacked(sim))
        rejected.append(out["p_value"] < 0.05)
    print(f"power at 5%: {np.mean(rejected):.2f}")
    assert np.mean(rejected) >= 0.8


def test_pretrend_test_reports_what_it_tested():
    panel, cohorts, stacks = _stacked(effects_sim.simulate(seed=101))
    out = pretrend_test(panel, cohorts, stacks, n_boot=199, seed=4)
    assert set(out) == {"stat", "p_value", "n_coef", "n_boot", "method"}
    assert out["n_coef"] == 11  # twelve months before the window, one of them the reference
    assert out["n_boot"] == 199 and out["method"] == "wild_cluster_score_bootstrap_rademacher"
    assert 1 / 200 <= out["p_value"] <= 1 and out["stat"] > 0
    assert pretrend_test(panel, cohorts, stacks, n_boot=199, seed=4) == out  # the seed fixes the draws


def test_few_compounds_use_webb_weights():
    sim = effects_sim.simulate(n_compounds=11, waves=[effects_sim.Wave(12, 17, 18, 3)], seed=102)
    out = pretrend_test(*_stacked(sim, controls="all"))
    assert out["method"] == "wild_cluster_score_bootstrap_webb"
    assert 0 < out["p_value"] <= 1


def test_nothing_to_test_without_stacks():
    panel, cohorts, _ = _stacked(effects_sim.simulate(seed=103))
    out = pretrend_test(panel, cohorts, [])
    assert out["n_coef"] == 0 and np.isnan(out["p_value"])
    assert effect_path(panel, cohorts, []).empty
    assert path_end(effect_path(panel, cohorts, []))["effect_pct"] is None


# ---------------------------------------------------------------- the effect path


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_effect_path_shows_an_effect_that_builds_up(seed):
    sim = effects_sim.simulate(seed=seed, effect=_ramp_effect)
    panel, cohorts, stacks = _stacked(sim)
    path = effect_path(panel, cohorts, stacks)
    assert list(path["rel_month"]) == list(range(12))
    start = path.loc[path["rel_month"] < 3, "coef"].mean()
    end = path_end(path)
    assert end["rel_months"] == [9, 10, 11]
    assert end["effect_pct"] < -25 and end["effect_pct"] < 100 * np.expm1(start) - 15
    assert end["ci_low_pct"] < end["effect_pct"] < end["ci_high_pct"] < 0
    # a copy that lost the covariance gives the same figure with an interval no narrower
    bare = path_end(pd.DataFrame(path.to_dict("list")))
    assert bare["effect_pct"] == end["effect_pct"]
    assert bare["ci_low_pct"] <= end["ci_low_pct"] and bare["ci_high_pct"] >= end["ci_high_pct"]
    # the simultaneous band contains the pointwise interval, and is wider somewhere
    assert (path["band_low_pct"] <= path["ci_low_pct"]).all()
    assert (path["band_high_pct"] >= path["ci_high_pct"]).all()
    assert (path["band_high_pct"] - path["band_low_pct"]).sum() > (
        path["ci_high_pct"] - path["ci_low_pct"]
    ).sum() * 1.1
    # the pointwise figures are the event study's post months
    es = estimates.event_study(panel, cohorts, stacks).set_index("rel_month").loc[range(12)]
    assert path["effect_pct"].tolist() == es["effect_pct"].tolist()
    assert path["ci_low_pct"].tolist() == es["ci_low_pct"].tolist()


@pytest.mark.slow
def test_simultaneous_band_covers_the_whole_true_path():
    truth = np.log1p(_ramp_effect(np.arange(12)))
    band = pointwise = 0
    seeds = range(100, 140)
    for seed in seeds:
        path = effect_path(*_stacked(effects_sim.simulate(seed=seed, effect=_ramp_effect)))
        inside = [
            np.all((np.log1p(path[lo] / 100) <= truth + 1e-3) & (truth - 1e-3 <= np.log1p(path[hi] / 100)))
            for lo, hi in (("band_low_pct", "band_high_pct"), ("ci_low_pct", "ci_high_pct"))
        ]
        band, pointwise = band + inside[0], pointwise + inside[1]
    print(f"whole path covered: band {band / len(seeds):.2f}, pointwise {pointwise / len(seeds):.2f}")
    assert band / len(seeds) >= 0.8
    assert band > pointwise


# ---------------------------------------------------------------- integrity alarms


def _hand_panel(series: dict[str, np.ndarray]) -> Panel:
    return Panel(list(series), 2022 * 12, np.vstack(list(series.values())).astype(float))


RNG = np.random.default_rng(7)
MONTHS = 30


@pytest.mark.parametrize(
    ("counts", "flagged_at"),
    [
        # a busy compound split off in month 20: flagged in its first zero month
        (np.r_[RNG.poisson(20, 20), np.zeros(10)], "2023-09"),
        # a modest one (usual level ~5-6): two zero months are already telling
        (np.r_[RNG.poisson(7, 24), np.zeros(6)], "2024-01"),
        # a quiet compound whose zeros are ordinary
        (RNG.poisson(1.5, MONTHS), None),
        # a half-year surge that ends, then a quiet stretch with zeros: no alarm
        (np.r_[RNG.poisson(1, 12), RNG.poisson(8, 6), [0, 0, 0], RNG.poisson(1, 9)], None),
        # a single empty month in a busy compound
        (np.r_[RNG.poisson(15, 14), [0], RNG.poisson(15, 15)], None),
    ],
)
def test_drop_to_zero_flags_splits_and_only_splits(counts, flagged_at):
    flags = integrity_flags(_hand_panel({"A": counts}), [])
    drops = flags[flags["kind"] == "drop_to_zero"]
    assert drops["month"].tolist() == ([flagged_at] if flagged_at else [])


def _adjusted_pct(panel: Panel, cohorts: list[Cohort], leave_out: list[int]) -> float:
    """The headline adjusted effect (%) with `leave_out` neither treated nor control."""
    kept = [dataclasses.replace(c, rows=[r for r in c.rows if r not in leave_out]) for c in cohorts]
    stacks = build_stacks(panel, kept, exclude=set(leave_out))
    return 100 * float(np.expm1(estimates.adjusted_effect(panel, kept, stacks).log_effect))


def test_split_treated_compounds_are_flagged_and_left_out():
    sim = effects_sim.simulate(seed=104, effect=-0.2)
    panel, cohorts = effects_sim.to_panel(sim)
    intact = dataclasses.replace(panel, counts=panel.counts.copy())
    split = cohorts[0].rows[20:25]
    panel.counts[split, 22:] = 0  # their tickets stop matching from month 22 (2023-11)
    flags = integrity_flags(panel, cohorts)
    drops = flags[flags["kind"] == "drop_to_zero"]
    split_ids = {panel.compound_ids[r] for r in split}
    assert split_ids <= set(drops["compound_id"])
    assert set(drops.loc[drops["compound_id"].isin(split_ids), "month"]) == {"2023-11"}
    assert drops["exclude"].sum() == 5 and len(drops) <= 7  # at most a stray control beside them
    assert excluded_rows(flags, panel) == sorted(split)
    # an unremarkable treated compound is not flagged
    assert panel.compound_ids[cohorts[0].rows[10]] not in set(flags["compound_id"])
    # the split reads as a bigger effect; once they are left out it no longer moves the estimate
    assert _adjusted_pct(panel, cohorts, []) < _adjusted_pct(intact, cohorts, []) - 3
    left_out = excluded_rows(flags, panel)
    assert _adjusted_pct(panel, cohorts, left_out) == pytest.approx(_adjusted_pct(intact, cohorts, left_out))


def test_few_false_alarms_in_ordinary_districts():
    n_flags = 0
    for seed in range(100, 110):
        panel, cohorts = effects_sim.to_panel(effects_sim.simulate(seed=seed))
        flags = integrity_flags(panel, cohorts)
        n_flags += len(flags)
        assert not flags["exclude"].any()
    assert n_flags <= 10  # about one per district at most, among 1,105 compounds


def _one_cohort_panel() -> tuple[Panel, list[Cohort]]:
    rng = np.random.default_rng(11)
    panel = _hand_panel({f"C{i}": rng.poisson(10, MONTHS) for i in range(4)})
    first_post = panel.first_month + 18
    return panel, [Cohort(first_post - 6, first_post - 1, first_post, _md(first_post), [0, 1])]


@pytest.mark.parametrize(
    ("compound", "months_from_start", "kind", "flagged", "excluded"),
    [
        ("C0", -13, "split", True, False),  # before the baseline that matters
        ("C0", -12, "split", True, True),  # from 12 months before the start on: left out
        ("C1", 3, "Rename", True, True),  # after the start too; kinds in any case
        ("C2", 0, "merge", True, False),  # a control: named, not left out
        ("C3", 0, "create", False, False),  # not a break
        ("C9", 0, "split", False, False),  # not in the panel
    ],
)
def test_registry_events_come_through(compound, months_from_start, kind, flagged, excluded):
    panel, cohorts = _one_cohort_panel()
    month = _md(cohorts[0].first_post + months_from_start)
    events = pd.DataFrame({"compound_id": [compound], "month": [month], "kind": [kind]})
    flags = integrity_flags(panel, cohorts, registry_events=events)
    rows = flags[flags["kind"] == "registry_change"]
    assert len(rows) == int(flagged)
    if flagged:
        assert rows.iloc[0][["compound_id", "month", "detail"]].tolist() == [
            compound,
            f"{month:%Y-%m}",
            kind.lower(),
        ]
        assert bool(rows.iloc[0]["exclude"]) is excluded
        assert excluded_rows(flags, panel) == ([int(compound[1:])] if excluded else [])


def test_registry_months_as_text_or_dates():
    panel, cohorts = _one_cohort_panel()
    events = pd.DataFrame(
        {"compound_id": ["C2", "C3"], "month": ["2023-04", pd.Timestamp("2023-05-17")], "kind": "split"}
    )
    flags = integrity_flags(panel, cohorts, registry_events=events)
    assert flags["month"].tolist() == ["2023-04", "2023-05"]


def test_match_rate_shifts_are_flagged_district_wide():
    months = [f"{_md(2022 * 12 + k):%Y-%m}" for k in range(12)]
    rates = [0.90, 0.91, 0.90, 0.89, 0.90, 0.90, 0.90, 0.84, 0.91, 0.88, 0.90, 0.80]
    totals = [30_000] * 11 + [40]  # the last month is tiny: 80% of 40 tickets is no evidence
    match_rates = pd.DataFrame(
        {
            "month": months,
            "matched": [round(r * t) for r, t in zip(rates, totals, strict=True)],
            "total": totals,
        }
    )
    panel, cohorts = _one_cohort_panel()
    flags = integrity_flags(panel, cohorts, match_rates=match_rates)
    shifts = flags[flags["kind"] == "match_rate_shift"]
    assert shifts["month"].tolist() == ["2022-08"]  # 6 points down; 2 points (2022-10) is not a shift
    assert shifts.iloc[0]["compound_id"] == "" and not shifts.iloc[0]["exclude"]
    assert "0.840" in shifts.iloc[0]["detail"]


def test_no_flags_is_an_empty_table_with_the_columns():
    panel, cohorts = _one_cohort_panel()
    flags = integrity_flags(panel, cohorts)
    assert flags.empty and list(flags.columns) == ["compound_id", "kind", "month", "detail", "exclude"]
    assert excluded_rows(flags, panel) == []


# ---------------------------------------------------------------- adjusted p-values


def test_bh_qvalues_match_a_hand_worked_example():
    # sorted p 0.01, 0.03, 0.04, 0.20 (m = 4): m p / rank = 0.04, 0.06, 0.0533, 0.20,
    # then the running minimum from the largest: 0.04, 0.0533, 0.0533, 0.20
    p = [0.04, 0.01, float("nan"), 0.20, 0.03]
    np.testing.assert_allclose(bh_qvalues(p), [0.16 / 3, 0.04, np.nan, 0.20, 0.16 / 3])
    # Holm: 4 x 0.01, 3 x 0.03, max(2 x 0.04, 0.09), 1 x 0.20
    np.testing.assert_allclose(holm(p), [0.09, 0.04, np.nan, 0.20, 0.09])


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        ([], []),
        ([np.nan, np.nan], [np.nan, np.nan]),
        ([0.5], [0.5]),
        ([0.01, 0.01, 0.01], [0.01, 0.01, 0.01]),
    ],
)
def test_bh_qvalues_edge_cases(p, expected):
    np.testing.assert_allclose(bh_qvalues(p), expected)
