"""Many flags at once (effects by category, per-compound alarms): adjusted p-values, NaN-safe.

- `bh_qvalues`: Benjamini-Hochberg adjusted p-values (q-values). Flagging q <= alpha keeps the
  expected share of false flags among all flags at most alpha (independent or positively
  dependent tests). q_(i) = min_{j >= i} min(1, m p_(j) / j) over the m sorted p-values.
- `holm`: Holm's step-down adjusted p-values. Flagging p_adj <= alpha keeps the chance of even
  one false flag at most alpha, under any dependence.
NaN p-values (nothing tested) stay NaN and do not count towards m. Both use
statsmodels.stats.multitest.multipletests.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.multitest import multipletests


def _adjusted(p: ArrayLike, method: str) -> np.ndarray:
    values = np.asarray(p, dtype=float).ravel()
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values)
    if ok.any():
        out[ok] = multipletests(values[ok], method=method)[1]
    return out


def bh_qvalues(p: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, same order as `p`; NaN where `p` is NaN."""
    return _adjusted(p, "fdr_bh")


def holm(p: ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values, same order as `p`; NaN where `p` is NaN."""
    return _adjusted(p, "holm")
