"""Stacks: one comparison per cohort of task forces (its treated compounds, controls not treated at
that time, the months used) and the long design of the stacked Poisson model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from analytics.errors import ValidationError
from analytics.models.effects.panel import HORIZON, Cohort, Panel

PRE_MAX = 24  # at most this many months before the selection window enter a stack
AUTO_CONTROLS_PER_TREATED = (
    10  # many controls pin down the month effects (simulations: 12% smaller SD than 3)
)
AUTO_CONTROLS_MIN = 300


def check_controls(controls: int | str) -> None:
    """The control-group setting: 'auto', 'all' or a positive number of controls per stack."""
    if not (controls in ("auto", "all") or (isinstance(controls, int) and controls > 0)):
        raise ValidationError(
            f"对照组设置「{controls}」无效：应为 auto、all 或正整数。",
            f"Invalid controls '{controls}': use auto, all or a positive number.",
        )


@dataclass
class Stack:
    """One cohort's comparison: its treated rows, its controls and the months used."""

    cohort: int
    treated: np.ndarray  # panel row indices
    controls: np.ndarray
    months: np.ndarray  # month indices kept (pre-window + post)
    horizon: int
    censor: np.ndarray  # per control: first month it no longer serves (its own task force began)
    # per treated row: first month it no longer counts for this cohort (a neighbour of an earlier
    # cohort that is itself treated later: net.neighbour_cohorts); None = never
    treated_censor: np.ndarray | None = None


NEVER = 10**9


def _eligible_controls(
    panel: Panel, cohorts: list[Cohort], c: int, stack_start: int, exclude: set[int]
) -> tuple[np.ndarray, dict[int, int]]:
    """Rows that are not (yet) treated, and the month each later-treated one stops being a control.

    Later cohorts stay in the control group until their own start: dropping them altogether
    would keep only compounds without a spike in their selection window, a control group
    selected on its outcomes in this stack's post period.
    """
    blocked = set(exclude) | set(cohorts[c].rows)
    censor: dict[int, int] = {}
    for k, other in enumerate(cohorts):
        if k == c:
            continue
        if other.first_post <= stack_start:
            blocked.update(other.rows)
        else:
            for r in other.rows:
                censor[r] = min(censor.get(r, NEVER), other.first_post)
    rows = np.array([r for r in range(len(panel.compound_ids)) if r not in blocked], dtype=int)
    return rows, censor


def _later_starts(cohorts: Sequence[Cohort], c: Cohort) -> dict[int, int]:
    """Rows of cohort c that another cohort treats later, and that cohort's first post month (a
    compound counts once among the treated cohorts, so this is empty unless c holds neighbours)."""
    out: dict[int, int] = {}
    rows = set(c.rows)
    for other in cohorts:
        if other is not c and other.first_post > c.first_post:
            for r in rows.intersection(other.rows):
                out[r] = min(out.get(r, NEVER), other.first_post)
    return out


def _choose_controls(
    panel: Panel, cohort: Cohort, eligible: np.ndarray, controls: int | str, rng: np.random.Generator
) -> np.ndarray:
    if len(eligible) == 0:
        return eligible
    if controls == "all":
        return eligible
    if controls == "auto":
        k = max(AUTO_CONTROLS_PER_TREATED * len(cohort.rows), AUTO_CONTROLS_MIN)
    else:
        k = int(controls)
    cols = slice(panel.col(max(cohort.window_start, panel.first_month)), panel.col(cohort.window_end) + 1)
    window = panel.counts[eligible, cols].sum(axis=1).astype(float)
    tiebreak = rng.random(len(eligible)) * 1e-3
    order = np.argsort(-(window + tiebreak), kind="stable")
    return eligible[order[:k]]


def build_stacks(
    panel: Panel,
    cohorts: list[Cohort],
    controls: int | str = "auto",
    seed: int = 0,
    exclude: set[int] | None = None,
    censor_with: Sequence[Cohort] = (),
) -> list[Stack]:
    """One stack per cohort (see the module docstring). `censor_with`: cohorts beyond `cohorts`
    whose later starts end a treated row's part in a stack (neighbour cohorts built on their own)."""
    rng = np.random.default_rng(seed)
    stacks = []
    for c, cohort in enumerate(cohorts):
        horizon = min(HORIZON, panel.last_month - cohort.first_post + 1)
        pre_start = max(panel.first_month, cohort.window_start - PRE_MAX)
        if horizon <= 0 or pre_start >= cohort.window_start:
            continue
        stack_end = cohort.first_post + horizon - 1
        eligible, censor = _eligible_controls(panel, cohorts, c, pre_start, exclude or set())
        chosen = _choose_controls(panel, cohort, eligible, controls, rng)
        months = np.r_[np.arange(pre_start, cohort.window_start), np.arange(cohort.first_post, stack_end + 1)]
        cut = np.array([censor.get(int(r), NEVER) for r in chosen], dtype=np.int64)
        own = _later_starts([*cohorts, *censor_with], cohort)
        treated_cut = np.array([own.get(int(r), NEVER) for r in cohort.rows], dtype=np.int64)
        stacks.append(
            Stack(
                c,
                np.array(cohort.rows, dtype=int),
                chosen,
                months,
                horizon,
                cut,
                treated_cut if own else None,
            )
        )
    return stacks


@dataclass
class Design:
    y: np.ndarray
    unit: np.ndarray
    cluster: np.ndarray
    # the design without the unit effects (0/1 dummies): six cohorts and their neighbours at
    # district scale are ~10^5 rows x ~300 columns with one or two non-zero cells a row
    z_sparse: sparse.csr_matrix
    names: list[str]
    row: np.ndarray  # panel row
    month: np.ndarray  # month index
    stack: np.ndarray
    treated: np.ndarray  # bool: observation of a treated compound
    post: np.ndarray  # bool: treated and on/after the cohort's first post month

    @cached_property
    def z(self) -> np.ndarray:
        """The design as a dense array, built on first use."""
        return self.z_sparse.toarray()


def _design(
    panel: Panel,
    cohorts: list[Cohort],
    stacks: list[Stack],
    counts: np.ndarray | None = None,
    event_study: bool = False,
) -> Design:
    """Long design: stack-specific month dummies (first month of each stack dropped) + treatment terms.

    Main model: one post dummy per cohort. Event study: the stacks keep their window months and
    the treatment terms are one dummy per month relative to start (earliest dropped).
    """
    counts = panel.counts if counts is None else counts
    ys, units, rows, months, stack_ids, treated, keep = [], [], [], [], [], [], []
    unit_base = 0
    for s, st in enumerate(stacks):
        ms = st.months
        if event_study:
            ms = np.arange(ms.min(), ms.max() + 1)
        members = np.r_[st.treated, st.controls]
        cols = ms - panel.first_month
        block = counts[np.ix_(members, cols)]
        ys.append(block.ravel())
        units.append(np.repeat(np.arange(len(members)) + unit_base, len(ms)))
        rows.append(np.repeat(members, len(ms)))
        months.append(np.tile(ms, len(members)))
        stack_ids.append(np.full(block.size, s))
        treated.append(
            np.repeat(np.r_[np.ones(len(st.treated)), np.zeros(len(st.controls))].astype(bool), len(ms))
        )
        own_cut = np.full(len(st.treated), NEVER) if st.treated_censor is None else st.treated_censor
        cut = np.r_[own_cut, st.censor]
        keep.append((ms[None, :] < cut[:, None]).ravel())
        unit_base += len(members)
    kept = np.concatenate(keep)
    y = np.concatenate(ys).astype(float)[kept]
    unit = np.unique(np.concatenate(units)[kept], return_inverse=True)[1]
    row = np.concatenate(rows)[kept]
    month = np.concatenate(months)[kept]
    stack = np.concatenate(stack_ids)[kept]
    tr = np.concatenate(treated)[kept]
    first_post = np.array([cohorts[st.cohort].first_post for st in stacks])[stack]
    post = tr & (month >= first_post)
    # stack x month dummies
    keys = stack * 100000 + month
    uniq, time_idx = np.unique(keys, return_inverse=True)
    first_of_stack = np.r_[True, (uniq[1:] // 100000) != (uniq[:-1] // 100000)]
    keep_cols = np.flatnonzero(~first_of_stack)
    col_of = np.full(len(uniq), -1)
    col_of[keep_cols] = np.arange(len(keep_cols))
    names = [f"t{u // 100000}_{u % 100000}" for u in uniq[keep_cols]]
    n = len(y)
    has = col_of[time_idx] >= 0
    if event_study:
        rel = month - first_post
        rel_values = np.unique(rel[tr])
        ref = rel_values.min()
        terms = [r for r in rel_values if r != ref]
        tr_cols = [tr & (rel == r) for r in terms]
        tr_names = [f"rel{r}" for r in terms]
    else:
        cohort_ids = sorted({st.cohort for st in stacks})
        tr_cols = [
            post & np.isin(stack, [s for s, st in enumerate(stacks) if st.cohort == c]) for c in cohort_ids
        ]
        tr_names = [f"post{c}" for c in cohort_ids]
    n_time = len(keep_cols)
    cells = [(np.flatnonzero(has), col_of[time_idx][has])]
    cells += [(np.flatnonzero(on), np.full(int(on.sum()), n_time + j)) for j, on in enumerate(tr_cols)]
    rows_at, cols_at = (np.concatenate(part) for part in zip(*cells, strict=True))
    z = sparse.csr_matrix((np.ones(len(rows_at)), (rows_at, cols_at)), shape=(n, n_time + len(tr_cols)))
    return Design(y, unit, row, z, names + tr_names, row, month, stack, tr, post)
