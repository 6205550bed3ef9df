"""The ranking's simulated districts: their truth is what they claim to be."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.synthetic.rank_dgp import PROCESSES, simulate_rank_district


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_district_shape_and_truth(process):
    d = simulate_rank_district(process, 0)
    n = len(d.registry)
    assert n == 1105 and d.counts.shape == (n, PROCESSES[process].months)
    assert 0.03 < d.registry["households"].isna().mean() < 0.08
    assert d.truth["households"].min() <= 20 and d.truth["households"].max() >= 4000  # tiny and huge
    # the district gets about 350k-400k tickets a year and the truth is on the same scale
    per_year = d.counts.sum() / d.counts.shape[1] * 12
    assert 300_000 < per_year < 450_000  # 350k before the shocks (mean multiplier ~1.15)
    assert 0.8 < d.truth["expected_next12"].sum() / per_year < 1.25
    assert len(d.true_top(65)) == 65
    assert (
        d.monthly.groupby("compound_id")["n"].sum() == d.counts.sum(axis=1)[d.counts.sum(axis=1) > 0]
    ).all()


def test_deterministic_per_seed_and_different_across_seeds():
    a, b, c = (simulate_rank_district("rolling", s) for s in (1, 1, 2))
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, c.counts)


@pytest.mark.parametrize(("process", "signal"), [("half_year", True), ("rolling", False)])
def test_share_signal_only_where_asked(process, signal):
    d = simulate_rank_district(process, 0)
    assert bool(d.truth["repeat_share"].std() > 0.03) is signal


def test_ar_persistence_shows_in_the_truth():
    # with rho 0.85 the last months predict the next year far better than with rho 0.5
    corr = {}
    for process in ("ar1_050", "ar1_085"):
        d = simulate_rank_district(process, 0)
        recent = d.counts[:, -3:].sum(axis=1) / d.truth["persistent_next12"].to_numpy()
        ahead = d.truth["expected_next12"].to_numpy() / d.truth["persistent_next12"].to_numpy()
        corr[process] = np.corrcoef(np.log(recent + 0.5), np.log(ahead))[0, 1]
    assert corr["ar1_085"] > corr["ar1_050"] + 0.05
