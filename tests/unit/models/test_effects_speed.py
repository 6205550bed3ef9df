"""The stacked Poisson model fitted block by block gives the dense fit's numbers (its speed:
benchmarks/effects_headline.py).

analytics.models.effects.poisson splits the model into the blocks that share no parameter (one per
stack when each treatment term lives in one stack, as in the net effect's design) and fits each on
its own; `separate=False` fits the same model as one dense block. Districts are simulated
(analytics.synthetic.effects_sim) with one cohort of task forces or six staggered ones, and the
designs are built as the headline builds them (analytics.models.effects.net.net_effect).
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.discrete.conditional_models import ConditionalPoisson

from analytics.models.effects import net, poisson
from analytics.models.effects.stacking import Design, _design, build_stacks
from analytics.synthetic import effects_sim
from analytics.synthetic.effects_sim import Wave

ONE = [Wave(12, 17, 18, 65, -0.3)]
SIX = [Wave(start - 6, start - 1, start, 11, -0.3) for start in (12, 14, 16, 18, 20, 22)]
SIX_SMALL = [Wave(start - 6, start - 1, start, 5, -0.3) for start in (12, 14, 16, 18, 20, 22)]
RTOL = 1e-6  # the brief's "the same numbers"; the largest difference seen was 1e-7 (Newton's stopping)


def _net_design(
    seed: int,
    waves: list[Wave],
    n_compounds: int = 1105,
    displacement: float = 0.0,
    controls: int | str = "auto",
) -> Design:
    """The net effect's design: treated and neighbour cohorts against controls outside their communities."""
    sim = effects_sim.simulate(n_compounds=n_compounds, seed=seed, waves=waves, displacement=displacement)
    panel, cohorts = effects_sim.to_panel(sim)
    every = cohorts + [c for c in net.neighbour_cohorts(panel, cohorts) if c.rows]
    barred, _ = net.barred_neighbours(panel, cohorts)
    return _design(panel, every, build_stacks(panel, every, controls=controls, exclude=barred))


def _fit(des: Design, robust: str = "cr3", separate: bool = True) -> poisson.PoissonFit:
    """By block from the sparse design as the headline fits it, or as one block from the dense array."""
    z = des.z_sparse if separate else des.z
    return poisson.poisson_fe(des.y, des.unit, des.cluster, z, des.names, robust, separate=separate)


def _largest_relative_gap(a: poisson.PoissonFit, b: poisson.PoissonFit) -> dict[str, float]:
    """Largest relative differences of the treatment terms, their SEs, all fitted means."""
    post = [j for j, name in enumerate(a.names) if name.startswith("post")]
    se_a, se_b = np.sqrt(np.diag(a.cov)[post]), np.sqrt(np.diag(b.cov)[post])
    cov_a, cov_b = a.cov[np.ix_(post, post)], b.cov[np.ix_(post, post)]
    fitted = ~np.isnan(a.mu)
    return {
        "params": float(np.max(np.abs(a.params[post] - b.params[post]) / np.abs(a.params[post]).clip(0.01))),
        "se": float(np.max(np.abs(se_a - se_b) / se_a)),
        "cov": float(np.max(np.abs(cov_a - cov_b)) / np.max(np.abs(cov_a))),
        "mu": float(np.max(np.abs(a.mu[fitted] - b.mu[fitted]) / a.mu[fitted].clip(1e-9))),
    }


# ---------------------------------------------------------------- the same numbers


@pytest.mark.parametrize(
    ("seed", "waves", "n_compounds", "displacement", "robust", "controls"),
    [
        # one cohort at district scale: treated and neighbours, two stacks
        (100, ONE, 1105, 0.0, "cr3", "auto"),
        (101, ONE, 1105, 0.5, "cr3", "auto"),
        (102, ONE, 1105, 0.0, "cr1", "auto"),
        # six staggered cohorts in a smaller district (twelve stacks, neighbours censored at later
        # starts), with fewer controls so that the dense fit is quick
        (103, SIX_SMALL, 500, 0.0, "cr3", 100),
        (104, SIX_SMALL, 500, 0.5, "cr1", 100),
        (105, SIX_SMALL, 500, 0.3, "cr3", 60),
    ],
)
def test_block_fit_gives_the_dense_fits_numbers(seed, waves, n_compounds, displacement, robust, controls):
    des = _net_design(seed, waves, n_compounds, displacement, controls)
    dense, blocks = _fit(des, robust, separate=False), _fit(des, robust)
    gaps = _largest_relative_gap(dense, blocks)
    print(gaps)
    assert max(gaps.values()) <= RTOL, gaps
    assert blocks.converged and dense.converged
    assert np.allclose(blocks.eta, dense.eta, rtol=0, atol=RTOL, equal_nan=True)  # log scale
    assert blocks.dispersion == pytest.approx(dense.dispersion, rel=RTOL)


@pytest.mark.slow  # the dense fit of a six-cohort district takes ~3 CPU seconds each
@pytest.mark.parametrize("seed", [106, 107])
def test_six_cohorts_at_district_scale_keep_their_numbers(seed):
    # the time each takes is benchmarks/effects_headline.py's figure, not a test's
    des = _net_design(seed, SIX, displacement=0.3)
    assert des.z_sparse.shape[1] > 200  # the design the dense fit found slow: ~260 stack x month dummies
    dense = _fit(des, separate=False)
    blocks = _fit(des)
    gaps = _largest_relative_gap(dense, blocks)
    assert max(gaps.values()) <= RTOL, gaps


def test_block_fit_matches_statsmodels_conditional_poisson():
    # three cohorts and their neighbours (six stacks) against 40 controls each: Newton in statsmodels
    # takes a few seconds
    des = _net_design(108, SIX_SMALL[:3], n_compounds=300, controls=40)
    fit = _fit(des)
    reference = ConditionalPoisson(des.y, des.z, groups=des.unit).fit(method="newton", maxiter=100, disp=0)
    post = [j for j, name in enumerate(des.names) if name.startswith("post")]
    assert len(post) == 6
    assert np.allclose(fit.params, np.asarray(reference.params), rtol=RTOL, atol=1e-9)
