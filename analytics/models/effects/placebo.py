"""Placebos: what the same rule and the same method report where no task force acted.

Three checks, each answering a different question.

1. ``naive_like_placebo``: the naive figure built the same way where there were no task forces,
   so that a reader may set the two side by side. The naive figure (estimates.naive_change) sums,
   over cohorts c and the offsets k = 0..11 whose months the data cover (after month
   fp_c + k and before month fp_c + k - 12 both inside the panel; call that set K_c), the treated
   compounds' tickets after and before, and reports (sum after / sum before - 1) x 100. The
   placebo keeps that layout exactly:

   - Groups. Cohorts are pooled by selection window: one group per distinct
     (window_start, window_end), of size N_g = the number of treated compounds with that window.
     Groups are ranked in the order their task forces began (earliest first_post, then window);
     a compound picked by an earlier group is not ranked again, as a compound with a task force
     does not get a second one.
   - Shift. The whole layout (every window, every before and after month) moves back by one
     common shift s, chosen so that every month lies inside the panel and the last after month
     is before the earliest real first_post (so no month of the placebo sees a task force).
     Let lo be the earliest and hi the latest month of the layout and F the earliest first_post:
     s must satisfy hi - s <= F - 1 and lo - s >= the panel's first month. The smallest whole
     number of years in that range is used (selection months then fall in the same calendar
     months, so seasonal and half-year patterns match); if no whole year fits, the smallest
     shift that fits (``whole_years`` False). If none fits the function returns None with the
     months the layout needs (hi - lo + 1) and the months the data have before F: a shorter
     placebo would not measure the same thing, so none is given.
   - Figure. In each group, every compound is ranked by its tickets in the shifted window and
     the top N_g are taken (ties: the lower panel row first). For each cohort c of the group,
     with n_c of the N_g treated compounds, the top N_g contribute
     (n_c / N_g) x their tickets in the months fp_c - s + k (after) and fp_c - s + k - 12
     (before), k in K_c. With one cohort per window this is the naive sum with the top N_g in
     place of the treated compounds; with several start months after one ranking the weights
     give every start month the share of compounds it had. Sums over groups are pooled and
     turned into a percent rounded to one decimal, as the naive figure is.

   Because the layout, the number of month pairs, N and the ranking rule are the naive figure's,
   the placebo's expected value equals the naive figure's when the task forces had no effect and
   tickets are stationary (the simulations in the tests: mean difference within Monte Carlo error).

2. ``fake_start_placebo``: the adjusted estimator (build_stacks + adjusted_effect, as
   estimates.estimate_from_panel runs it) on a fake start. Every cohort keeps its compounds, and
   its window and first_post move back by ``shift`` months. The panel is cut before the earliest
   real selection window, so neither a real post-start month nor the real selection spike
   (which got the compounds chosen, and would show up as a rise after the fake start) enters.
   Not enough room (fewer than ``FAKE_START_MIN_MONTHS`` months before a shifted window, or fewer
   than that many months from a shifted start to the cut) gives None. An interval far from zero
   means the treated and control compounds were already drifting apart before anything happened.

3. ``permutation_placebo``: the distribution of the adjusted effect when nothing happened. Each
   of ``n`` draws replaces every cohort's compounds by as many compounds drawn uniformly without
   replacement from the top ``PERMUTATION_POOL`` x N compounds that never got a task force,
   ranked by the cohort's selection-window tickets, so the placebo compounds carry a selection
   spike like the real ones. The adjusted estimator is re-run on the real panel with the real
   treated compounds barred from the controls (their real effect would otherwise leak in). The
   2.5%, 50% and 97.5% quantiles of the placebo effects are what the method reports on
   comparable compounds without a task force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.models.effects.estimates import _pct, _ratio_pct, adjusted_effect
from analytics.models.effects.panel import HORIZON, Cohort, Panel, _md
from analytics.models.effects.stacking import build_stacks

YEAR = 12
FAKE_START_MIN_MONTHS = 6  # at least this many baseline months and post months for the fake start
PERMUTATION_POOL = 3  # placebo compounds come from the top 3N untreated by window tickets
# one adjusted fit on a 1,105-compound, 48-month panel takes 0.05-0.08 s on two cores: 100 draws
# take 6-12 s and put the 2.5% and 97.5% quantiles between the 3rd-4th and 97th-98th of the sorted draws
PERMUTATIONS = 100


# ---------------------------------------------------------------- naive-like placebo


@dataclass
class _Group:
    """Cohorts sharing a selection window, with the naive figure's offsets k for each."""

    window_start: int
    window_end: int
    members: list[tuple[Cohort, list[int]]]

    @property
    def size(self) -> int:
        return sum(len(c.rows) for c, _ in self.members)

    @property
    def first_post(self) -> int:
        return min(c.first_post for c, _ in self.members)


def _naive_offsets(panel: Panel, cohort: Cohort) -> list[int]:
    """The offsets k the naive figure uses for this cohort: both fp+k and fp+k-12 in the panel."""
    return [
        k
        for k in range(HORIZON)
        if cohort.first_post + k <= panel.last_month and cohort.first_post + k - YEAR >= panel.first_month
    ]


def _window_groups(panel: Panel, cohorts: list[Cohort]) -> list[_Group]:
    groups: dict[tuple[int, int], _Group] = {}
    for c in cohorts:
        key = (c.window_start, c.window_end)
        groups.setdefault(key, _Group(*key, [])).members.append((c, _naive_offsets(panel, c)))
    return sorted(groups.values(), key=lambda g: (g.first_post, g.window_start, g.window_end))


def _layout_months(groups: list[_Group]) -> Iterable[int]:
    for g in groups:
        for c, ks in g.members:
            if ks:
                yield from (g.window_start, g.window_end)
                yield from (c.first_post + k for k in ks)
                yield from (c.first_post + k - YEAR for k in ks)


def _choose_shift(lo: int, hi: int, first_month: int, first_post: int) -> tuple[int, bool] | None:
    """Smallest whole-year shift that fits, else the smallest shift; None when nothing fits."""
    s_min, s_max = max(hi - first_post + 1, 1), lo - first_month
    if s_min > s_max:
        return None
    whole = -(-s_min // YEAR) * YEAR
    return (whole, True) if whole <= s_max else (s_min, False)


def _span(months: list[int]) -> str:
    return f"{_md(min(months)):%Y-%m}:{_md(max(months)):%Y-%m}"


def _top(panel: Panel, rows: np.ndarray, window_start: int, window_end: int, n: int) -> np.ndarray:
    """The n rows with most tickets in the window (ties: the lower row first)."""
    window = panel.counts[rows, panel.col(window_start) : panel.col(window_end) + 1].sum(axis=1)
    return rows[np.argsort(-window, kind="stable")[:n]]


def _group_placebo(
    panel: Panel, group: _Group, shift: int, free: np.ndarray
) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """Top N of the free rows in the shifted window; weighted tickets after and before."""
    top = _top(panel, np.flatnonzero(free), group.window_start - shift, group.window_end - shift, group.size)
    after = before = 0.0
    after_months: list[int] = []
    for c, ks in group.members:
        share = len(c.rows) / group.size
        months = [c.first_post - shift + k for k in ks]
        after_months += months
        after += share * sum(panel.counts[top, panel.col(m)].sum() for m in months)
        before += share * sum(panel.counts[top, panel.col(m - YEAR)].sum() for m in months)
    detail = {
        "window": _span([group.window_start - shift, group.window_end - shift]),
        "real_window": _span([group.window_start, group.window_end]),
        "top": len(top),
        "after_months": _span(after_months) if after_months else None,
        "before_months": _span([m - YEAR for m in after_months]) if after_months else None,
        "change_pct": _ratio_pct(after, before),
    }
    return top, after, before, detail


def naive_like_placebo(panel: Panel, cohorts: list[Cohort]) -> tuple[float | None, dict[str, Any]]:
    """The naive figure's rule where there were no task forces (%), or None when the data lack room.

    Same month pairs, same N per selection window, whole layout shifted back (see the module
    docstring). Detail: kind, shift, whole_years, pairs, groups (window, real_window, top,
    after_months, before_months, change_pct); or reason "no_room" with months_needed and
    months_available (months before the earliest first_post).
    """
    groups = _window_groups(panel, cohorts)
    pairs = max((max(ks) + 1 for g in groups for _, ks in g.members if ks), default=0)
    detail: dict[str, Any] = {"kind": "shifted", "pairs": pairs}
    months = list(_layout_months(groups))
    if not months:
        return None, {**detail, "reason": "no_naive_months"}
    first_post = min(c.first_post for c in cohorts)
    lo, hi = min(months), max(months)
    chosen = _choose_shift(lo, hi, panel.first_month, first_post)
    if chosen is None:
        need = {"months_needed": hi - lo + 1, "months_available": first_post - panel.first_month}
        return None, {**detail, "reason": "no_room", **need}
    shift, whole_years = chosen
    free = np.ones(len(panel.compound_ids), dtype=bool)
    after = before = 0.0
    rows = []
    for g in groups:
        top, a, b, info = _group_placebo(panel, g, shift, free)
        free[top] = False
        after, before = after + a, before + b
        rows.append(info)
    detail.update({"shift": shift, "whole_years": whole_years, "groups": rows})
    return _ratio_pct(after, before), detail


# ---------------------------------------------------------------- adjusted estimator on placebos


def _adjusted_pct(
    panel: Panel, cohorts: list[Cohort], controls: int | str, seed: int, exclude: set[int] | None = None
) -> tuple[float | None, float | None, float | None]:
    stacks = build_stacks(panel, cohorts, controls=controls, seed=seed, exclude=exclude)
    adj = adjusted_effect(panel, cohorts, stacks)
    if adj.log_effect is None or adj.se is None:
        return None, None, None
    lo, hi = adj.interval() or (None, None)
    return _pct(adj.log_effect), _pct(lo), _pct(hi)


def _moved_back(cohort: Cohort, shift: int) -> Cohort:
    return Cohort(
        cohort.window_start - shift,
        cohort.window_end - shift,
        cohort.first_post - shift,
        _md(cohort.first_post - shift),
        list(cohort.rows),
    )


def fake_start_placebo(
    panel: Panel, cohorts: list[Cohort], controls: int | str = "auto", seed: int = 0, shift: int = YEAR
) -> dict[str, Any] | None:
    """The adjusted effect with every window and start moved back `shift` months (%), or None.

    The panel is cut before the earliest real selection window. Returns effect, low, high (95%)
    and shift; None when a shifted window has fewer than FAKE_START_MIN_MONTHS months before it
    or a shifted start fewer than that many months before the cut.
    """
    if not cohorts:
        return None
    cut = min(c.window_start for c in cohorts)
    fake = [_moved_back(c, shift) for c in cohorts]
    room_before = min(c.window_start for c in fake) - panel.first_month
    room_after = cut - max(c.first_post for c in fake)
    if min(room_before, room_after) < FAKE_START_MIN_MONTHS:
        return None
    truncated = Panel(
        panel.compound_ids, panel.first_month, panel.counts[:, : panel.col(cut)], panel.community
    )
    effect, low, high = _adjusted_pct(truncated, fake, controls, seed)
    if effect is None:
        return None
    return {"effect": effect, "low": low, "high": high, "shift": shift}


def _draw_placebo_cohorts(
    panel: Panel, cohorts: list[Cohort], untreated: np.ndarray, rng: np.random.Generator
) -> list[Cohort]:
    """Each cohort's compounds replaced by a random draw from the top 3N untreated in its window."""
    free = untreated.copy()
    drawn = []
    for c in cohorts:
        n = len(c.rows)
        start = max(c.window_start, panel.first_month)
        pool = _top(panel, np.flatnonzero(free), start, c.window_end, PERMUTATION_POOL * n)
        rows = rng.choice(pool, size=min(n, len(pool)), replace=False)
        free[rows] = False
        drawn.append(Cohort(c.window_start, c.window_end, c.first_post, c.start, sorted(map(int, rows))))
    return drawn


def permutation_placebo(
    panel: Panel, cohorts: list[Cohort], n: int = PERMUTATIONS, seed: int = 0, controls: int | str = "auto"
) -> dict[str, Any]:
    """Adjusted effects (%) on `n` random sets of comparable compounds without a task force.

    Returns effects (one per draw that gave an estimate), q025, median, q975 (percent, one
    decimal; None when no draw gave an estimate) and n (the number of estimates).
    """
    rng = np.random.default_rng(seed)
    treated = {r for c in cohorts for r in c.rows}
    untreated = np.ones(len(panel.compound_ids), dtype=bool)
    untreated[list(treated)] = False
    effects: list[float] = []
    for i in range(n):
        fake = _draw_placebo_cohorts(panel, cohorts, untreated, rng)
        effect, _, _ = _adjusted_pct(panel, fake, controls, seed + i, exclude=treated)
        if effect is not None:
            effects.append(effect)
    if not effects:
        return {"effects": [], "q025": None, "median": None, "q975": None, "n": 0}
    q025, median, q975 = (round(float(q), 1) for q in np.quantile(effects, [0.025, 0.5, 0.975]))
    return {"effects": effects, "q025": q025, "median": median, "q975": q975, "n": len(effects)}
