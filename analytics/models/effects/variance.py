"""Cluster-jackknife (CR3) covariance of the conditional Poisson fit: the estimate's change when
each cluster (compound) is left out, so a few big compounds carrying much weight do not make the
interval too narrow."""

from __future__ import annotations

import numpy as np


def jackknife_cov(
    w: np.ndarray,
    hess: np.ndarray,
    s: np.ndarray,
    groups: np.ndarray,
    unit: np.ndarray,
    mu: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    n_u: np.ndarray,
    g: int,
) -> np.ndarray:
    """(G-1)/G * sum_g d_g d_g', d_g = (H - H_g)^-1 s_g: the change in the estimate when cluster g is left out."""
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(g + 1))
    unit_cluster = np.zeros(len(n_u), dtype=int)
    unit_cluster[unit] = groups
    w_unit = np.zeros(len(n_u))
    w_unit[unit] = w
    unit_order = np.argsort(unit_cluster, kind="stable")
    unit_bounds = np.searchsorted(unit_cluster[unit_order], np.arange(g + 1))
    p = hess.shape[0]
    wmu = w * mu
    left_out = np.empty((g, p, p))
    for k in range(g):
        idx = order[bounds[k] : bounds[k + 1]]
        zk = z[idx]
        uk = unit_order[unit_bounds[k] : unit_bounds[k + 1]]
        ak = a[uk]
        left_out[k] = hess - zk.T @ (wmu[idx, None] * zk) + (ak * w_unit[uk, None]).T @ (ak / n_u[uk, None])
    try:
        d = np.linalg.solve(left_out, s[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # a cluster that alone identifies a parameter: fall back per cluster
        d = np.array([np.linalg.lstsq(left_out[k], s[k], rcond=None)[0] for k in range(g)])
    return d.T @ d * (g - 1) / g
