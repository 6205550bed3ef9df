"""Hauer's empirical-Bayes before-after estimate on simulated districts whose truth is known.

Constants were chosen on seeds 0-9; the assertions run on seeds 100 and up. Figures measured when these tests were written (n_boot=200):
- effects_sim districts without transient surges (shock_prob=0), seeds 100-119: mean bias
  -0.0 points (null) and -0.0 (-30%), 95% coverage 0.95 and 0.95;
- gamma-Poisson districts with few tickets (the setting EB is built for), seeds 100-109: mean
  bias of EB +1.7 (null) and +0.5 (-30%), coverage 1.0, while the naive before-after is off by
  -17.5 and -12.8;
- effects_sim districts with half-year surges (the default), seeds 100-119: mean bias -12.4
  (null) and -8.7 (-30%), coverage 0.5: EB does not model surges (see the module docstring).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.models.effects import eb
from analytics.models.effects.eb import PER_COMPOUND_COLUMNS, EBResult, disagrees, eb_before_after
from analytics.models.effects.panel import Cohort, Panel
from analytics.synthetic import effects_sim
from analytics.synthetic.effects_sim import Wave

TEST_SEEDS = range(100, 120)
NO_SURGES = {"shock_prob": 0.0}
FIRST = 2022 * 12  # month index of January 2022


def _gamma_poisson(
    seed: int, n: int = 2000, top: int = 40, mean: float = 1.0, shape: float = 5.0, effect: float = 0.0
) -> tuple[Panel, list[Cohort], np.ndarray, np.ndarray]:
    """Hauer's own model: stable gamma-distributed monthly means, Poisson counts over 24 months with
    a season; the top `top` compounds of months 6-11 are treated from month 12 on."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape, mean / shape, n)
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(24) / 12)
    counts = rng.poisson(rate[:, None] * season[None, :])
    chosen = np.argsort(-counts[:, 6:12].sum(axis=1), kind="stable")[:top]
    counts[chosen, 12:] = rng.binomial(counts[chosen, 12:], 1 + effect)
    panel = Panel([f"C{i:04d}" for i in range(n)], FIRST, counts.astype(float))
    cohort = Cohort(FIRST + 6, FIRST + 11, FIRST + 12, dt.date(2023, 1, 1), chosen.tolist())
    return panel, [cohort], counts, chosen


# ---------------------------------------------------------------- bias and coverage


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.0, -0.3])
def test_unbiased_and_covers_the_truth_without_transient_surges(effect):
    errors, covered = [], []
    for seed in TEST_SEEDS:
        sim = effects_sim.simulate(seed=seed, effect=effect, **NO_SURGES)
        panel, cohorts = effects_sim.to_panel(sim)
        res = eb_before_after(panel, cohorts, n_boot=200, seed=seed)
        errors.append(res.effect_pct - sim.truth_pct)
        covered.append(res.ci_low_pct <= sim.truth_pct <= res.ci_high_pct)
    assert abs(np.mean(errors)) <= 5
    assert np.mean(covered) >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.0, -0.3])
def test_corrects_the_regression_to_the_mean_of_a_few_tickets(effect):
    # few tickets a compound: the top 40 of a window are mostly lucky, so before-after shows a fall
    estimates, naive, covered = [], [], []
    for seed in range(100, 110):
        panel, cohorts, counts, chosen = _gamma_poisson(seed, effect=effect)
        res = eb_before_after(panel, cohorts, n_boot=200, seed=seed)
        truth = effect * 100
        estimates.append(res.effect_pct - truth)
        naive.append(100 * (counts[chosen, 12:].sum() / counts[chosen, :12].sum() - 1) - truth)
        covered.append(res.ci_low_pct <= truth <= res.ci_high_pct)
    assert np.mean(naive) < -10  # the official figure overstates the fall ...
    assert abs(np.mean(estimates)) < 4  # ... EB does not
    assert np.mean(covered) >= 0.8


def test_transient_surges_in_the_selection_window_show_as_a_fall():
    # the documented limit: a surge that ends by itself is not counting noise, EB keeps it
    shown = [
        eb_before_after(*effects_sim.to_panel(effects_sim.simulate(seed=seed)), n_boot=0).effect_pct
        for seed in range(100, 110)
    ]
    assert np.mean(shown) < -5


def test_dispersion_of_period_totals_is_recovered():
    # randomly chosen treated compounds: the reference group is a fair sample of gamma(5) means
    ks = []
    for seed in range(100, 105):
        panel, cohorts, _, _ = _gamma_poisson(seed)
        cohorts[0].rows = np.random.default_rng(seed).choice(2000, 40, replace=False).tolist()
        ks.append(eb_before_after(panel, cohorts, n_boot=0).k)
    assert 4.0 < np.mean(ks) < 6.0


# ---------------------------------------------------------------- what the result holds


@pytest.fixture(scope="module")
def two_waves():
    waves = [Wave(12, 17, 18, 40, -0.3), Wave(18, 23, 24, 25, -0.3)]
    sim = effects_sim.simulate(n_compounds=600, n_months=36, waves=waves, seed=101)
    panel, cohorts = effects_sim.to_panel(sim)
    return sim, panel, cohorts, eb_before_after(panel, cohorts, n_boot=50, seed=1)


def test_one_row_per_treated_compound_and_the_observed_tickets_add_up(two_waves):
    sim, _, _, res = two_waves
    pc = res.per_compound
    assert list(pc.columns) == PER_COMPOUND_COLUMNS
    assert sorted(pc["compound_id"]) == sorted(sim.taskforces["compound_id"])
    assert res.n_treated == len(pc) == 65 and res.n_reference == 600 - 65
    pos = {c: i for i, c in enumerate(sim.compound_ids)}
    for wave, (start, group) in enumerate(((18, pc[pc["cohort"] == 0]), (24, pc[pc["cohort"] == 1]))):
        rows = [pos[c] for c in sim.taskforces.loc[sim.taskforces["wave"] == wave, "compound_id"]]
        assert group["observed_after"].sum() == sim.counts[rows, start : start + 12].sum()
        assert group["observed_before"].sum() == sim.counts[rows, start - 12 : start].sum()


def test_per_compound_figures_follow_the_eb_formulas(two_waves):
    _, _, _, res = two_waves
    pc = res.per_compound
    w = 1 / (1 + pc["predicted_before"] / res.k)
    np.testing.assert_allclose(pc["eb_before"], w * pc["predicted_before"] + (1 - w) * pc["observed_before"])
    r = pc["counterfactual_after"] / pc["eb_before"]
    np.testing.assert_allclose(pc["counterfactual_var"], r**2 * (1 - w) * pc["eb_before"])
    p, v = pc["counterfactual_after"].sum(), pc["counterfactual_var"].sum()
    assert res.theta == pytest.approx(pc["observed_after"].sum() / p / (1 + v / p**2))
    assert res.effect_pct == round((res.theta - 1) * 100, 1)
    assert res.ci_low_pct < res.effect_pct < res.ci_high_pct
    assert 0 < res.theta_se_analytic < (res.ci_high_pct - res.ci_low_pct) / 100  # the analytic SE is small
    assert res.as_json() == {
        "eb_effect_pct": res.effect_pct,
        "eb_ci_low_pct": res.ci_low_pct,
        "eb_ci_high_pct": res.ci_high_pct,
    }


def test_registry_covariates_enter_the_prediction():
    # tickets in proportion to households: with the registry the CPF predicts each compound's level
    rng = np.random.default_rng(100)
    n = 600
    households = np.round(np.exp(rng.normal(np.log(400), 0.8, n)))
    counts = rng.poisson((households / 100 * rng.gamma(20, 1 / 20, n))[:, None] * np.ones((1, 24)))
    ids = [f"C{i:04d}" for i in range(n)]
    treated = np.argsort(-counts[:, 6:12].sum(axis=1), kind="stable")[:30].tolist()
    panel = Panel(ids, FIRST, counts.astype(float))
    cohorts = [Cohort(FIRST + 6, FIRST + 11, FIRST + 12, dt.date(2023, 1, 1), treated)]
    covariates = pd.DataFrame(
        {
            "households": np.where(rng.random(n) < 0.1, np.nan, households),
            "type": rng.choice(np.array(["商开", "还建", "家属院", None], dtype=object), n),
            "is_old": rng.choice(np.array([True, False, None], dtype=object), n),
            "built_year": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1980, 2020, n)),
        },
        index=pd.Index(ids, name="compound_id"),
    )
    plain = eb_before_after(panel, cohorts, n_boot=0)
    with_registry = eb_before_after(panel, cohorts, covariates, n_boot=0)
    assert plain.per_compound["predicted_before"].nunique() == 1  # one level for every compound
    pc = with_registry.per_compound.set_index("compound_id")
    known = covariates.loc[pc.index, "households"].notna()
    expected = 12 * covariates.loc[pc.index, "households"] / 100
    relative = (pc["predicted_before"] / expected - 1)[known]
    assert relative.abs().median() < 0.15
    assert with_registry.k > 3 * plain.k  # households explain most of the spread between compounds


# ---------------------------------------------------------------- the page's flag


def _eb(low: float | None, high: float | None) -> EBResult:
    return EBResult(None, low, high, None, None, 0, 0, None)


@pytest.mark.parametrize(
    ("eb_ci", "did_ci", "flag"),
    [
        ((-45.0, -35.0), (-20.0, 5.0), True),  # EB clearly below the DiD
        ((10.0, 20.0), (-30.0, -5.0), True),  # EB clearly above
        ((-30.0, -10.0), (-20.0, 5.0), False),  # overlapping
        ((-30.0, -20.0), (-20.0, 5.0), False),  # touching ends overlap
        ((-30.0, -10.0), (None, None), False),  # no DiD interval: nothing to compare
        ((None, None), (-20.0, 5.0), False),
    ],
)
def test_disagrees_when_the_intervals_do_not_overlap(eb_ci, did_ci, flag):
    assert disagrees(_eb(*eb_ci), *did_ci) is flag


# ---------------------------------------------------------------- what a user is told


def _small_panel(n: int, treated: list[int], first_post_offset: int = 12) -> tuple[Panel, list[Cohort]]:
    counts = np.random.default_rng(100).poisson(5.0, (n, 24)).astype(float)
    panel = Panel([f"C{i:03d}" for i in range(n)], FIRST, counts)
    fp = FIRST + first_post_offset
    return panel, [Cohort(fp - 6, fp - 1, fp, dt.date(fp // 12, fp % 12 + 1, 1), treated)]


def test_no_reference_compounds_is_a_clear_error():
    panel, cohorts = _small_panel(10, list(range(10)))
    with pytest.raises(ValidationError) as err:
        eb_before_after(panel, cohorts)
    assert re.search(r"[\u4e00-\u9fff]", err.value.zh)
    assert "no compounds without a task force" in err.value.en


@pytest.mark.parametrize(
    ("n", "first_post_offset", "code"),
    [
        (20, 12, "eb_few_reference"),  # 15 reference compounds
        (200, 6, "eb_short_before"),  # only 6 months before the start
    ],
)
def test_weak_inputs_are_noted(n, first_post_offset, code):
    panel, cohorts = _small_panel(n, [0, 1, 2, 3, 4], first_post_offset)
    res = eb_before_after(panel, cohorts, n_boot=30)
    assert code in {note["code"] for note in res.notes}
    assert res.effect_pct is not None


# ---------------------------------------------------------------- bootstrap refits


SIX = [Wave(start - 6, start - 1, start, 11, -0.3) for start in (12, 14, 16, 18, 20, 22)]


@pytest.mark.parametrize(("seed", "waves"), [(100, None), (101, SIX)])
def test_bootstrap_refits_give_the_statsmodels_fit_on_the_resample(seed, waves):
    # each refit (weighted Newton from the full-sample fit) against statsmodels on the drawn rows
    sim = effects_sim.simulate(seed=seed, waves=waves)
    panel, cohorts = effects_sim.to_panel(sim)
    treated = sorted({r for c in cohorts for r in c.rows})
    ref_rows = np.setdiff1d(np.arange(len(panel.compound_ids)), treated)
    rng = np.random.default_rng(seed)
    x = rng.normal(6, 0.7, (len(ref_rows), 1))  # a covariate that does not help: still fitted
    before = eb._periods(panel, cohorts, []).ref_before
    counts = panel.counts[ref_rows]
    fit = eb.fit_cpf(counts, x, before)
    ref = eb._Reference(counts, x, before)
    for _ in range(5):
        draw = rng.integers(0, len(ref_rows), len(ref_rows))
        fast = eb._refit(ref, np.bincount(draw, minlength=len(ref_rows)).astype(float), fit)
        slow = eb.fit_cpf(counts[draw], x[draw], before, start=fit)
        assert fast.converged and slow.converged
        np.testing.assert_allclose(fast.beta, slow.beta, rtol=1e-6, atol=1e-8)
        assert fast.k == pytest.approx(slow.k, rel=1e-6)
        np.testing.assert_allclose(fast.month_effect, slow.month_effect, rtol=1e-12)
