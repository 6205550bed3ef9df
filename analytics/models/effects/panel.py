"""The unit the effects model works on: compound x month counts, cohorts of task forces, month indices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HORIZON = 12  # months after start that the effect is measured over


def _mi(d: dt.date | pd.Timestamp) -> int:
    """Month index: year * 12 + month - 1."""
    return int(d.year) * 12 + int(d.month) - 1


def _md(k: int) -> dt.date:
    return dt.date(k // 12, k % 12 + 1, 1)


@dataclass
class Cohort:
    """Task forces that started in the same month from the same selection window (month indices)."""

    window_start: int
    window_end: int
    first_post: int
    start: dt.date  # earliest start date in the cohort
    rows: list[int]  # row indices (compounds) in the panel

    @property
    def window_len(self) -> int:
        return self.window_end - self.window_start + 1


@dataclass
class Panel:
    """Compound x month ticket counts (dense), the unit every estimate works on."""

    compound_ids: list[str]
    first_month: int  # month index of column 0
    counts: np.ndarray  # (compounds, months)
    community: list[str | None] = field(default_factory=list)

    @property
    def n_months(self) -> int:
        return self.counts.shape[1]

    @property
    def last_month(self) -> int:
        return self.first_month + self.n_months - 1

    def col(self, month: int) -> int:
        return month - self.first_month
