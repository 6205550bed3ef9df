"""Placebos on simulated districts with no effect: comparable with the naive figure, and honest
about missing history.

Null districts need a history long enough for a placebo: 48 months from 2022-01, task forces
ranked on months 30-35 (2024H2) moving in at month 36 (2025-01), so the naive figure's twelve
month pairs and the same layout one year earlier both fit before the first task force.
"""

from __future__ import annotations

import numpy as np
import pytest

from analytics.models.effects import placebo
from analytics.models.effects.estimates import naive_change
from analytics.models.effects.panel import Cohort, Panel, _md
from analytics.synthetic.effects_sim import Wave, simulate, to_panel

NULL_SEEDS = range(100, 300)
LONG = 48

# null layouts: (months, waves)
NULL_LAYOUTS = {
    "one wave": (LONG, [Wave(30, 35, 36, 65, 0.0)]),
    # one ranking, most task forces move in at once and ten a month later (as in the demo)
    "two starts, one window": (LONG, [Wave(30, 35, 36, 55, 0.0), Wave(30, 35, 37, 10, 0.0)]),
    "two windows": (54, [Wave(30, 35, 36, 40, 0.0), Wave(36, 41, 42, 25, 0.0)]),
}


def _null_panel(seed: int, months: int = LONG, waves: list[Wave] | None = None) -> tuple[Panel, list[Cohort]]:
    return to_panel(simulate(n_months=months, waves=waves or NULL_LAYOUTS["one wave"][1], seed=seed))


# ---------------------------------------------------------------- naive-like placebo


@pytest.mark.parametrize("layout", list(NULL_LAYOUTS))
def test_on_null_districts_the_placebo_averages_what_the_naive_figure_averages(layout):
    months, waves = NULL_LAYOUTS[layout]
    naive, new = [], []
    for seed in NULL_SEEDS:
        panel, cohorts = _null_panel(seed, months, waves)
        naive.append(naive_change(panel, cohorts)[0])
        new.append(placebo.naive_like_placebo(panel, cohorts)[0])
    diff = np.array(naive) - np.array(new)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    print(
        f"{layout}: naive {np.mean(naive):.1f}, naive-like placebo {np.mean(new):.1f} "
        f"(paired difference {diff.mean():.2f}, SE {se:.2f})"
    )
    assert np.mean(naive) < -5  # the rule alone produces a drop the placebo must match
    assert abs(diff.mean()) < 2.5 * se
    assert abs(diff.mean()) < 3


def test_uses_the_naive_figures_month_pairs_one_year_earlier():
    panel, cohorts = _null_panel(100)
    value, detail = placebo.naive_like_placebo(panel, cohorts)
    assert value is not None
    assert detail["pairs"] == naive_change(panel, cohorts)[1]["months"] == 12
    assert (detail["kind"], detail["shift"], detail["whole_years"]) == ("shifted", 12, True)
    (group,) = detail["groups"]
    assert group == {
        "window": "2023-07:2023-12",
        "real_window": "2024-07:2024-12",
        "top": 65,
        "after_months": "2024-01:2024-12",
        "before_months": "2023-01:2023-12",
        "change_pct": value,
    }


def _hand_panel(first_month: int, n_months: int, seed: int = 7) -> Panel:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(20, (12, n_months)).astype(float)
    ids = [f"C{i:02d}" for i in range(12)]
    return Panel(ids, first_month, counts, [None] * 12)


def _sum(panel: Panel, rows: list[int], months: range) -> float:
    return float(sum(panel.counts[rows, panel.col(panel.first_month + m)].sum() for m in months))


def _top(panel: Panel, rows: list[int], window: range, n: int) -> list[int]:
    cols = [panel.col(panel.first_month + m) for m in window]
    tickets = panel.counts[np.ix_(rows, cols)].sum(axis=1)
    return [rows[i] for i in np.argsort(-tickets, kind="stable")[:n]]


def test_cohorts_are_pooled_per_selection_window_with_their_number_of_compounds():
    first = 2022 * 12  # 2022-01
    panel = _hand_panel(first, 48)
    panel.counts[11, 18:30] += 200  # tops both shifted windows: only the first group may take it
    cohorts = [
        Cohort(first + 30, first + 35, first + 36, _md(first + 36), [0, 1, 2, 3]),
        Cohort(first + 30, first + 35, first + 37, _md(first + 37), [4, 5]),  # same window, a month later
        Cohort(first + 36, first + 41, first + 42, _md(first + 42), [6, 7, 8]),
    ]
    value, detail = placebo.naive_like_placebo(panel, cohorts)
    assert (detail["shift"], detail["whole_years"], detail["pairs"]) == (12, True, 12)
    assert [(g["window"], g["top"]) for g in detail["groups"]] == [
        ("2023-07:2023-12", 6),
        ("2024-01:2024-06", 3),
    ]
    assert [(g["after_months"], g["before_months"]) for g in detail["groups"]] == [
        ("2024-01:2024-12", "2023-01:2023-12"),
        ("2024-07:2024-12", "2023-07:2023-12"),
    ]
    # by hand, in months since 2022-01: the naive pairs are 36-47 (first cohort), 37-47 and 42-47
    everyone = list(range(12))
    first_top = _top(panel, everyone, range(18, 24), 6)
    second_top = _top(panel, [r for r in everyone if r not in first_top], range(24, 30), 3)
    assert 11 in first_top and 11 not in second_top
    after = 4 / 6 * _sum(panel, first_top, range(24, 36)) + 2 / 6 * _sum(panel, first_top, range(25, 36))
    before = 4 / 6 * _sum(panel, first_top, range(12, 24)) + 2 / 6 * _sum(panel, first_top, range(13, 24))
    after += _sum(panel, second_top, range(30, 36))
    before += _sum(panel, second_top, range(18, 24))
    assert value == round((after / before - 1) * 100, 1)


def test_takes_the_smallest_shift_that_fits_when_no_whole_year_does():
    first = 2022 * 12 + 4  # data from 2022-05: a 24-month shift would leave the panel
    panel = _hand_panel(first, 48)
    base = 2022 * 12
    cohorts = [
        Cohort(base + 30, base + 35, base + 36, _md(base + 36), [0, 1]),
        Cohort(base + 34, base + 39, base + 40, _md(base + 40), [2, 3]),
    ]
    value, detail = placebo.naive_like_placebo(panel, cohorts)
    assert value is not None
    assert (detail["shift"], detail["whole_years"], detail["pairs"]) == (16, False, 12)
    # the last placebo month ends before the first task force
    assert detail["groups"][-1]["after_months"].endswith(f"{_md(base + 35):%Y-%m}")


def test_short_history_gives_no_placebo_and_says_how_many_months_are_missing():
    panel, cohorts = to_panel(simulate(seed=100))  # 18 months before the start
    value, detail = placebo.naive_like_placebo(panel, cohorts)
    assert value is None
    assert detail["reason"] == "no_room"
    assert (detail["months_needed"], detail["months_available"]) == (24, 18)


# ---------------------------------------------------------------- adjusted estimator on placebos


def test_fake_start_on_null_districts_mostly_covers_zero():
    results = [placebo.fake_start_placebo(*_null_panel(seed)) for seed in range(100, 120)]
    assert all(r is not None and r["shift"] == 12 for r in results)
    covered = sum(r["low"] <= 0 <= r["high"] for r in results)
    assert covered >= 16


def test_fake_start_needs_room_before_the_real_selection_window():
    assert placebo.fake_start_placebo(*to_panel(simulate(seed=100))) is None


@pytest.mark.parametrize("seed", [100, 101])
def test_permutation_placebo_on_a_null_district_is_centred_on_zero(seed):
    panel, cohorts = _null_panel(seed)
    out = placebo.permutation_placebo(panel, cohorts, n=25, seed=seed)
    assert out["n"] == len(out["effects"]) == 25
    assert out["q025"] <= 0 <= out["q975"]
    assert abs(out["median"]) < 6
