"""Cluster-jackknife (CR3) covariance of the conditional Poisson fit: the estimate's change when
each cluster (compound) is left out, so a few big compounds carrying much weight do not make the
interval too narrow.

With H the Hessian of the conditional (unit effects profiled out) log-likelihood and s_g the score
of cluster g at the estimate, the one-step change of the estimate when g is left out is
    d_g = (H - H_g)^-1 s_g,
H_g = sum_{i in g} w_i mu_i z_i z_i' - sum_{units u in g} w_u a_u a_u' / n_u the cluster's part of
H (a_u = sum_{i in u} mu_i z_i, n_u the unit's tickets; every unit lies in one cluster), and
    V = (G - 1) / G * sum_g d_g d_g'.
A model that separates into independent blocks (poisson._blocks) has a block-diagonal H, so each
block's rows of d_g come from that block alone: `leave_one_out` works on one block, and
`jackknife_cov` adds up the d_g of all blocks.
"""

from __future__ import annotations

import numpy as np

CHUNK_FLOATS = 4_000_000  # clusters are processed in batches of about this many floats


def leave_one_out(
    w: np.ndarray,
    hess: np.ndarray,
    s: np.ndarray,
    groups: np.ndarray,
    unit: np.ndarray,
    mu: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    n_u: np.ndarray,
) -> np.ndarray:
    """d_g = (H - H_g)^-1 s_g for every cluster g (rows of the result, (G, p)).

    w, mu, z, groups (cluster 0..G-1), unit (0..U-1): per observation; hess (p, p); s (G, p) the
    clusters' scores; a (U, p) and n_u (U,) per unit. Where H - H_g is singular (a cluster that
    alone identifies a parameter) the minimum-norm solution is used.
    """
    g, p = s.shape
    unit_cluster = np.zeros(len(n_u), dtype=int)
    unit_cluster[unit] = groups
    w_unit = np.zeros(len(n_u))
    w_unit[unit] = w
    obs = _Grouped(groups, g, np.sqrt(np.maximum(w * mu, 0.0))[:, None] * z)
    units = _Grouped(unit_cluster, g, np.sqrt(np.maximum(w_unit / n_u, 0.0))[:, None] * a)
    per_cluster = (obs.largest + units.largest + 2 * p) * p
    step = max(1, CHUNK_FLOATS // max(per_cluster, 1))
    d = np.empty((g, p))
    for lo in range(0, g, step):
        hi = min(lo + step, g)
        xo, xu = obs.padded(lo, hi), units.padded(lo, hi)
        left_out = hess - np.swapaxes(xo, 1, 2) @ xo + np.swapaxes(xu, 1, 2) @ xu
        d[lo:hi] = _solve(left_out, s[lo:hi])
    return d


def jackknife_cov(d: np.ndarray, g: int) -> np.ndarray:
    """(G - 1) / G * sum_g d_g d_g' from the clusters' changes d (G, p)."""
    return d.T @ d * (g - 1) / g


class _Grouped:
    """Rows of x sorted by group, handed out as (groups, largest group, k) with zero rows filling in."""

    def __init__(self, groups: np.ndarray, g: int, x: np.ndarray) -> None:
        order = np.argsort(groups, kind="stable")
        self.sizes = np.bincount(groups, minlength=g)
        self.bounds = np.r_[0, np.cumsum(self.sizes)]
        self.pos = np.arange(len(order)) - np.repeat(self.bounds[:-1], self.sizes)
        self.group = groups[order]
        self.x = x[order]
        self.largest = int(self.sizes.max()) if g else 0

    def padded(self, lo: int, hi: int) -> np.ndarray:
        """Groups lo..hi-1."""
        rows = slice(self.bounds[lo], self.bounds[hi])
        out = np.zeros((hi - lo, int(self.sizes[lo:hi].max()), self.x.shape[1]))
        out[self.group[rows] - lo, self.pos[rows]] = self.x[rows]
        return out


def _solve(left_out: np.ndarray, s: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(left_out, s[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # a cluster that alone identifies a parameter: fall back per cluster
        return np.array([np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(left_out, s, strict=True)])
