"""Poisson regression with a fixed effect per unit, profiled out (conditional likelihood), by Newton
steps with a line search; cluster-robust covariance (see variance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from analytics.models.effects.variance import jackknife_cov

NEWTON_MAX_ITER = 50
NEWTON_TOL = 1e-9


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
    z: np.ndarray,
    names: Sequence[str],
    robust: str = "cr3",
    weights: np.ndarray | None = None,
) -> PoissonFit:
    """Poisson regression with a fixed effect per `unit`, profiled out (conditional likelihood).

    y: counts (n,), unit: 0..U-1 (n,), cluster: ids for robust SEs (n,), z: design (n, p) without
    the unit effects. Cluster-robust covariance: robust='cr3' (default) is the one-step cluster
    jackknife, which does not understate the variance when a few large compounds carry much of
    the weight as the plain sandwich (robust='cr1') does.
    """
    # the matrices are small: threaded BLAS only adds contention (100x slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        return _poisson_fe(y, unit, cluster, z, names, robust, w)


def _poisson_fe(
    y: np.ndarray,
    unit: np.ndarray,
    cluster: np.ndarray,
    z: np.ndarray,
    names: Sequence[str],
    robust: str,
    w: np.ndarray,
) -> PoissonFit:
    n_units = int(unit.max()) + 1 if len(unit) else 0
    m_unit = sparse.csr_matrix((np.ones(len(y)), (unit, np.arange(len(y)))), shape=(n_units, len(y)))
    n_u = np.asarray(m_unit @ y).ravel()
    keep = n_u[unit] > 0  # units without any ticket carry no information
    if not keep.all():
        y, unit, cluster, z, w = y[keep], unit[keep], cluster[keep], z[keep], w[keep]
        _, unit = np.unique(unit, return_inverse=True)
        n_units = int(unit.max()) + 1 if len(unit) else 0
        m_unit = sparse.csr_matrix((np.ones(len(y)), (unit, np.arange(len(y)))), shape=(n_units, len(y)))
        n_u = np.asarray(m_unit @ y).ravel()
    p = z.shape[1]
    beta = np.zeros(p)

    def fitted(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        eta = z @ b
        eta = eta - eta.max()
        raw = np.exp(eta)
        denom = np.asarray(m_unit @ raw).ravel()
        prob = raw / denom[unit]
        ll = float(np.sum(w * y * np.log(np.maximum(prob, 1e-300))))
        return n_u[unit] * prob, prob, ll

    mu, _, ll = fitted(beta)
    converged = False
    hess = np.eye(p)
    for _ in range(NEWTON_MAX_ITER):
        grad = z.T @ (w * (y - mu))
        a = m_unit @ (mu[:, None] * z)
        a_w = m_unit @ ((w * mu)[:, None] * z)
        hess = z.T @ ((w * mu)[:, None] * z) - a_w.T @ (a / n_u[:, None])
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            mu_new, _, ll_new = fitted(beta + t * step)
            if ll_new >= ll - 1e-10 or t < 1e-6:
                break
            t /= 2
        beta, mu, gain = beta + t * step, mu_new, ll_new - ll
        ll = ll_new
        if abs(gain) < NEWTON_TOL * (1 + abs(ll)) and np.max(np.abs(t * step)) < 1e-7:
            converged = True
            break
    a = m_unit @ (mu[:, None] * z)
    a_w = m_unit @ ((w * mu)[:, None] * z)
    hess = z.T @ ((w * mu)[:, None] * z) - a_w.T @ (a / n_u[:, None])
    h_inv = np.linalg.pinv(hess)
    scores = (w * (y - mu))[:, None] * z
    _, groups = np.unique(cluster, return_inverse=True)
    g = int(groups.max()) + 1
    m_cluster = sparse.csr_matrix((np.ones(len(y)), (groups, np.arange(len(y)))), shape=(g, len(y)))
    s = np.asarray(m_cluster @ scores)
    if robust == "cr3" and g > 1:
        cov = jackknife_cov(w, hess, s, groups, unit, mu, z, a, n_u, g)
    else:
        meat = s.T @ s * (g / (g - 1) if g > 1 else 1.0)
        cov = h_inv @ meat @ h_inv
    dof = max(len(y) - n_units - p, 1)
    dispersion = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-9)) / dof)
    eta_full = np.full(len(keep), np.nan)
    eta_full[keep] = z @ beta
    mu_full = np.full(len(keep), np.nan)
    mu_full[keep] = mu
    return PoissonFit(beta, cov, list(names), mu_full, eta_full, dispersion, converged)
