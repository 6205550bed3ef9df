"""Poisson regression with a fixed effect per unit, profiled out (conditional likelihood), by Newton
steps with a line search; cluster-robust covariance (see variance).

Model: y_i ~ Poisson(exp(alpha_u(i) + z_i'beta)). Given the unit's total n_u the counts are
multinomial with probabilities p_i = exp(z_i'beta) / sum_{j in u} exp(z_j'beta), so the unit effects
drop out of the conditional log-likelihood sum_i w_i y_i log p_i (the same beta as the full
Poisson likelihood, mu_i = n_u p_i). With weights constant within a unit (a unit counted w times)
its gradient is sum_i w_i (y_i - mu_i) z_i and its Hessian (negated)
H = sum_i w_i mu_i z_i z_i' - sum_u a_u^w a_u' / n_u, a_u = sum_{i in u} mu_i z_i, a_u^w the same
with w_i mu_i.

Separable blocks. A unit's probabilities involve only the columns of z that are non-zero on its
observations, so the units and columns fall into blocks, the connected components of the graph
linking a unit to each column non-zero on it (`_blocks`). The log-likelihood is a sum over blocks
with disjoint parameters, H is block-diagonal, and each block is fitted on its own with the same
Newton iterations. The stacked design (analytics.models.effects.stacking) is one block per stack
when each treatment term lives in one stack (one post dummy per cohort): six cohorts and their
neighbours are twelve problems of 20-30 parameters instead of one of ~300. The cluster jackknife then needs each block's
(H_b - H_{b,g})^-1 s_{b,g} only, and a cluster present in several stacks contributes to the
covariance between their parameters through d_g (variance). A design whose terms span several
stacks (the event study) is one block: the dense fit, whose Hessian sums are formed with sparse
products when z is mostly zeros (stack x month dummies: one non-zero per row and stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from analytics.models.effects.variance import jackknife_cov, leave_one_out

NEWTON_MAX_ITER = 50
NEWTON_TOL = 1e-9
SPARSE_FROM_COLUMNS = 40  # blocks with more columns than this and at most
SPARSE_DENSITY = 0.1  # this share of non-zero cells form their Hessian with sparse products


@dataclass
class PoissonFit:
    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    mu: np.ndarray  # fitted means per observation (with unit effects)
    eta: np.ndarray  # linear predictor without unit effects
    dispersion: float
    converged: bool

    def index(self, name: str) -> int:
        return self.names.index(name)


def poisson_fe(
    y: np.ndarray,
    unit: np.ndarray,
    cluster: np.ndarray,
    z: np.ndarray | sparse.spmatrix,
    names: Sequence[str],
    robust: str = "cr3",
    weights: np.ndarray | None = None,
    *,
    separate: bool = True,
) -> PoissonFit:
    """Poisson regression with a fixed effect per `unit`, profiled out (conditional likelihood).

    y: counts (n,), unit: 0..U-1 (n,), cluster: ids for robust SEs (n,), z: design (n, p) without
    the unit effects, a dense array or a scipy sparse matrix; weights: non-negative (n,), the same
    on a unit's rows. Cluster-robust covariance: robust='cr3' (default) is the one-step cluster
    jackknife, which does not understate the variance when a few large compounds carry much of
    the weight as the plain sandwich (robust='cr1') does.
    separate=False fits the model as one dense block even where it separates (the same numbers,
    slower; see the module docstring).
    """
    # the matrices are small: threaded BLAS only adds contention (100x slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        return _poisson_fe(y, unit, cluster, z, names, robust, w, separate)


@dataclass
class _Block:
    """One separable part of the model: its observations, columns and (after fitting) its numbers."""

    obs: np.ndarray  # observation indices (kept data)
    cols: np.ndarray  # column indices of z
    unit: np.ndarray  # per observation: the unit within the block, 0..U_b-1
    z: np.ndarray | None = None  # the block's part of the design (obs x cols)
    beta: np.ndarray | None = None
    mu: np.ndarray | None = None
    hess: np.ndarray | None = None
    a: np.ndarray | None = None  # (U_b, p_b): sum over a unit's observations of mu z
    n_u: np.ndarray | None = None
    converged: bool = True


def _poisson_fe(
    y: np.ndarray,
    unit: np.ndarray,
    cluster: np.ndarray,
    z: np.ndarray | sparse.spmatrix,
    names: Sequence[str],
    robust: str,
    w: np.ndarray,
    separate: bool,
) -> PoissonFit:
    keep = (np.bincount(unit, weights=y)[unit] > 0) if len(unit) else np.zeros(0, dtype=bool)
    rows = np.flatnonzero(keep)  # units without any ticket carry no information
    y, w, kept_unit = y[rows], w[rows], unit[rows]
    _, groups = np.unique(cluster[rows], return_inverse=True)
    p = z.shape[1]
    if sparse.issparse(z):
        z = sparse.csr_matrix(z)
    if separate:
        blocks = _blocks(unit, z, rows)
    else:
        blocks = [_Block(np.arange(len(rows)), np.arange(p), np.unique(kept_unit, return_inverse=True)[1])]
    beta, mu = np.zeros(p), np.zeros(len(y))
    for b in blocks:
        b.z = _part(z, rows, b)
        _fit_block(b, y[b.obs], w[b.obs])
        beta[b.cols], mu[b.obs] = b.beta, b.mu
    g = int(groups.max()) + 1 if len(groups) else 0
    s = np.zeros((g, p))
    for b in blocks:
        s[np.ix_(np.unique(groups[b.obs]), b.cols)] = _cluster_scores(b, y, w, groups)
    if robust == "cr3" and g > 1:
        d = np.zeros((g, p))
        for b in (b for b in blocks if len(b.cols)):
            local, at = np.unique(groups[b.obs], return_inverse=True)
            d[np.ix_(local, b.cols)] = leave_one_out(
                w[b.obs], b.hess, s[np.ix_(local, b.cols)], at, b.unit, b.mu, b.z, b.a, b.n_u
            )
        cov = jackknife_cov(d, g)
    else:
        h_inv = np.zeros((p, p))
        for b in (b for b in blocks if len(b.cols)):
            h_inv[np.ix_(b.cols, b.cols)] = np.linalg.pinv(b.hess)
        meat = s.T @ s * (g / (g - 1) if g > 1 else 1.0)
        cov = h_inv @ meat @ h_inv
    dof = max(len(y) - len(np.unique(kept_unit)) - p, 1)
    dispersion = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-9)) / dof)
    eta_full = np.full(len(keep), np.nan)
    for b in blocks:  # z is zero outside the blocks
        eta_full[rows[b.obs]] = b.z @ b.beta
    mu_full = np.full(len(keep), np.nan)
    mu_full[rows] = mu
    converged = all(b.converged for b in blocks)
    return PoissonFit(beta, cov, list(names), mu_full, eta_full, dispersion, converged)


def _blocks(unit: np.ndarray, z: np.ndarray | sparse.spmatrix, rows: np.ndarray) -> list[_Block]:
    """The separable blocks of the observations `rows`: connected components of the units and the
    columns non-zero on them (units are linked through all their rows, kept or not: a coarser
    partition is as exact).

    The columns non-zero nowhere form one block without observations (their estimates stay 0, as
    the dense fit's minimum-norm steps leave them); the units on which every column is zero form
    one block without columns (their fitted means are their tickets spread evenly).
    """
    n_units = int(unit.max()) + 1 if len(unit) else 0
    p = z.shape[1]
    pair_unit, pair_col = _incidence(unit, z)
    graph = sparse.coo_matrix(
        (np.ones(len(pair_unit)), (pair_unit, n_units + pair_col)), shape=(n_units + p,) * 2
    )
    _, label = connected_components(graph, directed=False)
    col_label = label[n_units:]
    unit_label = label[:n_units]
    no_cols = np.setdiff1d(unit_label, col_label)
    unit_label = np.where(np.isin(unit_label, no_cols), -1, unit_label)
    obs_label = unit_label[unit[rows]]
    obs_of, cols_of = _grouped(obs_label), _grouped(col_label)
    out = []
    for k, obs in obs_of.items():
        cols = cols_of.get(k, np.zeros(0, dtype=int))
        out.append(_Block(obs, cols, np.unique(unit[rows[obs]], return_inverse=True)[1]))
    # columns non-zero nowhere or on dropped units only
    empty = np.setdiff1d(col_label, obs_label)
    if len(empty):
        out.append(
            _Block(np.zeros(0, dtype=int), np.flatnonzero(np.isin(col_label, empty)), np.zeros(0, int))
        )
    return out


def _grouped(label: np.ndarray) -> dict[int, np.ndarray]:
    """label -> the (increasing) positions holding it."""
    order = np.argsort(label, kind="stable")
    values, starts = np.unique(label[order], return_index=True)
    return dict(zip(values.tolist(), np.split(order, starts[1:]), strict=True))


def _incidence(unit: np.ndarray, z: np.ndarray | sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """The (unit, column) pairs with a non-zero entry of z on one of the unit's rows."""
    if sparse.issparse(z):
        cells = sparse.coo_matrix(z)
        on = cells.data != 0
        return unit[cells.row[on]], cells.col[on]
    nonzero = z != 0
    if len(unit) and np.all(unit[1:] >= unit[:-1]):  # rows grouped by unit: one pass
        starts = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
        hit_unit, col = np.nonzero(np.logical_or.reduceat(nonzero, starts, axis=0))
        return unit[starts][hit_unit], col
    row, col = np.nonzero(nonzero)
    return unit[row], col


def _part(z: np.ndarray | sparse.spmatrix, rows: np.ndarray, b: _Block) -> np.ndarray:
    """The block's part of the design, dense (z itself when the block is the whole model)."""
    if sparse.issparse(z):
        return z[rows[b.obs]][:, b.cols].toarray()
    all_cols = len(b.cols) == z.shape[1]
    if all_cols and len(b.obs) == z.shape[0]:
        return z
    if all_cols:
        return z[rows[b.obs]]
    return z[np.ix_(rows[b.obs], b.cols)]


def _fit_block(b: _Block, y: np.ndarray, w: np.ndarray) -> None:
    """Newton steps with a halving line search on the block's conditional log-likelihood."""
    unit, z = b.unit, b.z
    n_units = int(unit.max()) + 1 if len(unit) else 0
    m_unit = _membership(unit, n_units)
    n_u = np.asarray(m_unit @ y).ravel()
    p = z.shape[1]
    beta = np.zeros(p)
    # dummies: a design with few non-zero cells takes its products sparse (the same sums)
    zs = sparse.csr_matrix(z) if p > SPARSE_FROM_COLUMNS else None
    if zs is not None and zs.nnz > SPARSE_DENSITY * z.size:
        zs = None

    def fitted(bb: np.ndarray) -> tuple[np.ndarray, float]:
        eta = z @ bb
        eta = eta - eta.max() if len(eta) else eta
        raw = np.exp(eta)
        denom = np.asarray(m_unit @ raw).ravel()
        prob = raw / denom[unit]
        ll = float(np.sum(w * y * np.log(np.maximum(prob, 1e-300))))
        return n_u[unit] * prob, ll

    def hessian(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if zs is None:
            a = m_unit @ (m[:, None] * z)
            a_w = m_unit @ ((w * m)[:, None] * z)
            return z.T @ ((w * m)[:, None] * z) - a_w.T @ (a / n_u[:, None]), a
        mz = sparse.csr_matrix(zs.multiply(m[:, None]))
        wmz = sparse.csr_matrix(mz.multiply(w[:, None]))
        a, a_w = (m_unit @ mz).toarray(), (m_unit @ wmz).toarray()
        return (zs.T @ wmz).toarray() - a_w.T @ (a / n_u[:, None]), a

    mu, ll = fitted(beta)
    converged = p == 0
    for _ in range(NEWTON_MAX_ITER if p else 0):
        grad = z.T @ (w * (y - mu))
        step = np.linalg.lstsq(hessian(mu)[0], grad, rcond=None)[0]
        t = 1.0
        while True:
            mu_new, ll_new = fitted(beta + t * step)
            if ll_new >= ll - 1e-10 or t < 1e-6:
                break
            t /= 2
        beta, mu, gain = beta + t * step, mu_new, ll_new - ll
        ll = ll_new
        if abs(gain) < NEWTON_TOL * (1 + abs(ll)) and np.max(np.abs(t * step)) < 1e-7:
            converged = True
            break
    b.hess, b.a = hessian(mu)
    b.beta, b.mu, b.n_u, b.converged = beta, mu, n_u, converged


def _cluster_scores(b: _Block, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per cluster present in the block (in increasing order), the sum of w (y - mu) z over its rows."""
    _, at = np.unique(groups[b.obs], return_inverse=True)
    scores = (w[b.obs] * (y[b.obs] - b.mu))[:, None] * b.z
    return np.asarray(_membership(at, int(at.max()) + 1 if len(at) else 0) @ scores)


def _membership(index: np.ndarray, n: int) -> sparse.csr_matrix:
    """(n, len(index)) 0/1 matrix: row k sums the observations with index k."""
    return sparse.csr_matrix((np.ones(len(index)), (index, np.arange(len(index)))), shape=(n, len(index)))
