"""Charts a leader can read: counts from zero, an unfinished month marked as such, every compound
named, legends out of the way, numbers beside (not under) interval lines, nothing clipped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analytics.models.ranking.score import RANK_INTERVAL
from analytics.reports import charts

MONTHS = pd.date_range("2022-07-01", periods=24, freq="MS")


def monthly() -> pd.DataFrame:
    # a district near 24,000 a month that swings by about 5%
    return pd.DataFrame({"month": MONTHS, "tickets": 24_000 + 1_200 * np.sin(np.arange(24))})


def ranking(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "compound_id": [f"C{i:03d}" for i in range(n)],
            "name": [f"小区{i // 2}" for i in range(n)],  # every name twice
            "rank": np.arange(1, n + 1),
            "rank_low": np.maximum(1, np.arange(1, n + 1) - 3),
            "rank_high": np.arange(1, n + 1) + 5,
        }
    )


def test_the_district_trend_starts_at_zero_with_last_year_beside_it():
    fig = charts.trend_figure(monthly(), last_year=True)
    assert fig.layout.yaxis.rangemode == "tozero"
    this, before = fig.data[0], fig.data[-1]
    assert before.name == "去年同月" and before.line.dash == "dash"
    # last year's line is the same series a year later: its first point is month 13 of the data
    assert pd.Timestamp(before.x[0]) == MONTHS[12] and before.y[0] == pytest.approx(this.y[0])


@pytest.mark.parametrize(
    "data_end, partial",
    [
        ("2024-06-14 17:30", True),  # the data stop mid-June
        ("2024-06-30 23:10", False),  # June is complete
    ],
)
def test_an_unfinished_last_month_is_marked_not_drawn_as_a_fall(data_end, partial):
    fig = charts.trend_figure(monthly(), data_end=data_end)
    whole, *rest = fig.data
    marked = [t for t in rest if t.name == "不完整月份"]
    notes = [a.text for a in fig.layout.annotations]
    if partial:
        # the solid line stops at May; June hangs off it dotted with a hollow point, and says why
        assert pd.Timestamp(whole.x[-1]) == pd.Timestamp("2024-05-01")
        (tail,) = marked
        assert [pd.Timestamp(x) for x in tail.x] == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")]
        assert tail.line.dash == "dot" and tail.marker.symbol == "circle-open"
        assert "数据截至 2024-06-14，本月尚不完整" in notes
    else:
        assert pd.Timestamp(whole.x[-1]) == pd.Timestamp("2024-06-01")
        assert marked == [] and not any("不完整" in n for n in notes)


def test_the_chosen_period_is_shaded_and_the_start_label_sits_inside_the_plot():
    fig = charts.trend_figure(monthly(), "2023-03-01", highlight=("2024-04-01", "2024-06-30"))
    (band,) = [s for s in fig.layout.shapes if s.name == "period"]
    assert (
        pd.Timestamp(band.x0)
        < pd.Timestamp("2024-04-01")
        < pd.Timestamp("2024-06-01")
        < pd.Timestamp(band.x1)
    )
    (label,) = [a for a in fig.layout.annotations if a.text == "专班进驻"]
    assert (label.y, label.yanchor) == (1.0, "top")  # inside the plot, not over the legend or title


def build_all() -> list:
    effects = pd.DataFrame(
        {"measure": ["naive", "placebo", "adjusted"], "estimate_pct": [-46.3, -25.0, -12.0],
         "ci_low_pct": [np.nan, -30.0, -20.0], "ci_high_pct": [np.nan, -20.0, 3.0]}
    )  # fmt: skip
    return [
        charts.trend_figure(monthly(), "2023-03-01", last_year=True),
        charts.ranking_figure(ranking(10), top=3),
        charts.funnel_figure(
            pd.DataFrame({"name": ["甲", "乙"], "expected": [5.0, 500.0], "rate": [2.0, 1.0]})
        ),
        charts.event_study_figure(
            pd.DataFrame(
                {
                    "rel_month": [-2, 1],
                    "effect_pct": [1.0, -5.0],
                    "ci_low_pct": [-2.0, -9.0],
                    "ci_high_pct": [4.0, -1.0],
                }
            )
        ),  # fmt: skip
        charts.effects_comparison_figure(effects),
        charts.counterfactual_figure(
            pd.DataFrame(
                {
                    "month": MONTHS[:4],
                    "observed": [5, 6, 4, 3],
                    "expected": [np.nan, 6.0, 6.0, 6.0],
                    "pi_low": [np.nan, 4.0, 4.0, 4.0],
                    "pi_high": [np.nan, 8.0, 8.0, 8.0],
                }
            ),
            "2022-08-01",
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("fig", build_all(), ids=lambda f: f.layout.title.text)
def test_legends_sit_under_the_plot(fig):
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0.0, "bottom", "h")
    assert fig.layout.margin.b >= 30
    json.loads(fig.to_json())


@pytest.mark.parametrize("rows", [10, 80])
def test_the_rank_chart_names_every_compound(rows):
    fig = charts.ranking_figure(ranking(rows), top=5, max_rows=rows)
    names = list(fig.data[0].y)
    # one tick per compound: a category axis with a tick on every row, and room for each
    assert len(names) == len(set(names)) == rows
    assert names[0] == "1. 小区0" and names[1] == "2. 小区0"  # the same name twice is two rows
    assert fig.layout.yaxis.type == "category" and fig.layout.yaxis.dtick == 1
    assert fig.layout.yaxis.automargin and fig.layout.height >= 22 * rows
    # the axis begins left of rank 1, so no interval line runs into the names
    assert fig.layout.xaxis.range[0] < min(fig.data[0].x - fig.data[0].error_x.arrayminus)


def test_the_rank_chart_says_the_interval_the_ranking_computes():
    level = round((RANK_INTERVAL[1] - RANK_INTERVAL[0]) * 100)
    assert level == 90
    fig = charts.ranking_figure(ranking(5))
    assert "90% 区间" in fig.layout.title.text and "95%" not in fig.layout.title.text
    assert fig.data[0].name == "90% 排名区间"
    assert "90% interval" in charts.ranking_figure(ranking(5), lang="en").layout.title.text


def test_stability_bars_are_horizontal_named_and_labelled():
    shares = pd.DataFrame(
        {"compound_id": ["C1", "C2", "C3"], "name": ["甲", "乙", "甲"], "share_in_top": [0.55, 0.9, 0.2]}
    )
    fig = charts.stability_figure(shares, top=65)
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["乙", "甲（C1）", "甲（C3）"]  # largest first; a shared name gets its id
    assert list(bar.text) == ["90%", "55%", "20%"] and bar.textposition == "outside"
    assert fig.layout.yaxis.tickangle is None  # names read level, never rotated


def test_the_treemap_is_labelled_with_counts_and_has_a_titled_colour_bar():
    df = pd.DataFrame(
        {"compound_id": ["C1", "C2", "C3"], "name": ["甲", "乙", "丙"], "community": ["一", "一", "二"],
         "subdistrict": ["东", "东", "西"], "tickets": [1200, 30, 5], "households": [400, 100, 50]}
    )  # fmt: skip
    fig = charts.treemap_figure(df)
    tm = fig.data[0]
    leaves = [tpl for tpl, key in zip(tm.texttemplate, tm.customdata, strict=True) if key]
    assert leaves == ["%{label}<br>%{value:,} 件"] * 3
    assert tm.marker.colorbar.title.text == "每百户工单数" and tm.marker.showscale
    # colour = tickets per 100 households: 甲 300, 乙 30, 丙 10
    colour = dict(zip(tm.customdata, tm.marker.colors, strict=True))
    assert (colour["C1"], colour["C2"], colour["C3"]) == pytest.approx((300.0, 30.0, 10.0))
    assert fig.layout.uniformtext.minsize >= 10 and fig.layout.uniformtext.mode == "hide"
    # a click on a compound's tile names the compound, on a group's tile nothing
    leaf = tm.ids[list(tm.customdata).index("C2")]
    assert charts.treemap_compound(fig, leaf) == "C2"
    assert charts.treemap_compound(fig, "全区/东") is None and charts.treemap_compound(fig, None) is None


def test_a_big_district_opens_on_communities():
    n = 200
    df = pd.DataFrame(
        {"compound_id": [f"C{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)],
         "community": [f"社区{i % 20}" for i in range(n)], "subdistrict": [f"街道{i % 4}" for i in range(n)],
         "tickets": np.arange(1, n + 1), "households": 300}
    )  # fmt: skip
    assert charts.treemap_figure(df).data[0].maxdepth == 3
    assert charts.treemap_figure(df.head(20)).data[0].maxdepth == -1


def test_category_ring_keeps_labels_inside_or_in_the_legend():
    mix = pd.DataFrame({"category": ["供暖", "物业管理", "未分类"], "tickets": [50, 30, 2]})
    fig = charts.category_mix_figure(mix, lang="en")
    pie = fig.data[0]
    # shares inside the slices, names in the legend: nothing is cut off at the ring's edge
    assert pie.textposition == "inside" and pie.textinfo == "percent" and pie.automargin
    assert list(pie.labels) == ["供暖", "物业管理", "Uncategorised"]
    assert fig.layout.legend.yref == "container"


def test_the_funnel_axis_is_labelled_in_round_numbers():
    points = pd.DataFrame({"name": ["甲", "乙"], "expected": [3.0, 800.0], "rate": [2.0, 1.0]})
    axis = charts.funnel_figure(points).layout.xaxis
    assert axis.type == "log"
    assert list(axis.ticktext) == ["2", "5", "10", "20", "50", "100", "200", "500", "1,000"]


def test_effect_bars_write_their_numbers_beside_the_names():
    df = pd.DataFrame(
        {"category": ["供暖", "噪音"], "effect_pct": [5.0, -20.0], "ci_low_pct": [-1.0, -30.0],
         "ci_high_pct": [9.0, -10.0]}
    )  # fmt: skip
    fig = charts.category_effects_figure(df)
    assert fig.data[0].text is None
    assert list(fig.layout.yaxis.ticktext) == ["噪音  -20.0%", "供暖  +5.0%"]
