"""Chart builders: each figure has the traces, intervals and markers a reader relies on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics.reports import charts

MONTHS = pd.date_range("2023-01-01", periods=12, freq="MS")


def _monthly() -> pd.DataFrame:
    return pd.DataFrame({"month": MONTHS, "tickets": np.arange(100, 112)})


def _compounds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "compound_id": ["C1", "C2", "C3", "C4"],
            "name": ["甲小区", "乙小区", "丙小区", "甲小区"],
            "community": ["一社区", "一社区", "二社区", "二社区"],
            "subdistrict": ["东街道", "东街道", "东街道", None],
            "tickets": [40, 30, 20, 10],
            "households": [400, 1200, 200, 800],
            "rate": [10.0, 2.5, 10.0, 1.25],
            "lon": [118.35, 118.36, np.nan, 118.33],
            "lat": [35.05, 35.06, 35.07, np.nan],
            "stars": [5, 3, 3, 1],
        }
    )


def _funnel_points() -> pd.DataFrame:
    return pd.DataFrame({"name": ["甲", "乙", "丙"], "expected": [5.0, 50.0, 500.0], "rate": [2.0, 1.2, 0.9]})


def _event() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rel_month": [-8, -7, -2, -1, 0, 1],
            "period": ["baseline", "baseline", "selection", "selection", "post", "post"],
            "effect_pct": [1.0, -1.0, 30.0, 25.0, -8.0, -10.0],
            "ci_low_pct": [-3.0, -5.0, 20.0, 15.0, -12.0, -15.0],
            "ci_high_pct": [5.0, 3.0, 40.0, 35.0, -4.0, -5.0],
        }
    )


def _stars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stars": [5, 1, 3],
            "compounds": [2, 4, 10],
            "mean_rate": [1.0, 3.0, 2.0],
            "mean_low": [0.75, 2.0, 1.5],
            "mean_high": [1.25, 4.0, 2.5],
        }
    )


def _ranking() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["甲", "乙", "丙"],
            "rank": [1, 2, 3],
            "rank_low": [1, 1, 2],
            "rank_high": [2, 4, 6],
        }
    )


def _effects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": ["naive", "placebo", "adjusted"],
            "estimate_pct": [-46.3, -25.0, -12.0],
            "ci_low_pct": [np.nan, -30.0, -20.0],
            "ci_high_pct": [np.nan, -20.0, 3.0],
        }
    )


# every builder's figure serialises (Streamlit sends it as JSON) and has a title
@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.trend_figure(_monthly(), "2023-06-01"),
        lambda: charts.treemap_figure(_compounds()),
        lambda: charts.compound_map_figure(_compounds()),
        lambda: charts.ranking_figure(_ranking(), top=2),
        lambda: charts.funnel_figure(_funnel_points()),
        lambda: charts.stability_figure(
            pd.DataFrame({"name": ["甲", "乙"], "share_in_top": [1.0, 0.4]}), top=1
        ),
        lambda: charts.event_study_figure(_event()),
        lambda: charts.effects_comparison_figure(_effects()),
        lambda: charts.category_effects_figure(
            _effects().rename(columns={"measure": "category", "estimate_pct": "effect_pct"})
        ),
        lambda: charts.displacement_figure(
            _effects().rename(columns={"measure": "target", "estimate_pct": "effect_pct"})
        ),
        lambda: charts.stars_figure(_stars()),
    ],
)
def test_figures_serialise_with_a_title(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    json.loads(fig.to_json())


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.trend_figure(pd.DataFrame(columns=["month", "tickets"])),
        lambda: charts.treemap_figure(pd.DataFrame(columns=["subdistrict", "community", "name", "tickets"])),
        lambda: charts.compound_map_figure(
            pd.DataFrame({"name": ["x"], "tickets": [1], "lon": [None], "lat": [None]})
        ),
        lambda: charts.ranking_figure(pd.DataFrame()),
        lambda: charts.effects_comparison_figure(pd.DataFrame()),
    ],
)
def test_empty_input_says_no_data(build):
    fig = build()
    assert [a.text for a in fig.layout.annotations] == ["暂无数据"]


def test_trend_marks_the_task_force_start():
    fig = charts.trend_figure(_monthly(), "2023-06-01")
    (line,) = charts.start_lines(fig)
    assert pd.Timestamp(line.x0) == pd.Timestamp("2023-06-01")
    assert any(a.text == "专班进驻" for a in fig.layout.annotations)


def test_trend_without_start_has_no_marker():
    assert charts.start_lines(charts.trend_figure(_monthly())) == []


def test_trend_one_line_per_series():
    df = pd.concat([_monthly().assign(area="东"), _monthly().assign(area="西")])
    fig = charts.trend_figure(df, series="area")
    assert sorted(t.name for t in fig.data) == ["东", "西"]


@pytest.mark.parametrize(
    "lang, title",
    [
        ("zh", "月度工单量趋势"),
        ("en", "Monthly tickets"),
    ],
)
def test_titles_follow_the_language(lang, title):
    assert charts.trend_figure(_monthly(), lang=lang).layout.title.text == title


def test_treemap_keeps_same_named_compounds_apart_and_totals_add_up():
    fig = charts.treemap_figure(_compounds())
    tm = fig.data[0]
    ids = list(tm.ids)
    # two 甲小区 in different communities are two leaves, each knowing its compound
    leaves = [(i, k) for i, label, k in zip(ids, tm.labels, tm.customdata, strict=True) if label == "甲小区"]
    assert sorted(k for _, k in leaves) == ["C1", "C4"]
    assert tm.values[ids.index("全区")] == 100
    assert tm.values[ids.index("全区/东街道")] == 90
    assert "全区/未知" in ids


def test_map_is_a_plain_scatter_without_tiles():
    fig = charts.compound_map_figure(_compounds())
    assert [t.type for t in fig.data] == ["scatter"]
    # only the two compounds with both coordinates are drawn
    assert len(fig.data[0].x) == 2
    assert fig.layout.mapbox.style is None and fig.layout.map.style is None


def test_ranking_has_asymmetric_rank_interval_error_bars():
    fig = charts.ranking_figure(_ranking(), top=2)
    err = fig.data[0].error_x
    assert list(err.array) == [1, 2, 3]
    assert list(err.arrayminus) == [0, 1, 1]
    assert any(s.name == "cutoff" and s.x0 == 2.5 for s in fig.layout.shapes)


def test_funnel_has_average_and_both_limits_that_narrow_with_size():
    fig = charts.funnel_figure(_funnel_points(), district_rate=1.0)
    names = [t.name for t in fig.data]
    assert names[:2] == ["小区", "全区平均"]
    assert "控制限 95%" in names and "控制限 99.8%" in names
    assert list(fig.data[1].y) == [1.0, 1.0]
    upper95 = next(t for t in fig.data if t.name == "控制限 95%" and t.showlegend)
    assert upper95.y[0] > upper95.y[-1] > 1.0


def test_funnel_uses_the_given_curve():
    curve = pd.DataFrame({"expected": [1.0, 100.0], "rate_low_95": [0.1, 0.8], "rate_high_95": [3.0, 1.2]})
    fig = charts.funnel_figure(_funnel_points(), curve, 1.0)
    assert [list(t.y) for t in fig.data if t.name == "控制限 95%"] == [[0.1, 0.8], [3.0, 1.2]]
    assert not any(t.name == "控制限 99.8%" for t in fig.data)


def test_funnel_limits_cover_the_rate_and_widen_with_tau2():
    lim = charts.funnel_limits(5.0, 1, 1000)
    assert (lim["rate_low_95"] <= 5.0).all() and (lim["rate_high_95"] >= 5.0).all()
    assert (lim["rate_high_99.8"] >= lim["rate_high_95"]).all()
    wider = charts.funnel_limits(5.0, 1, 1000, tau2=0.1)
    assert (wider["rate_high_95"] > lim["rate_high_95"]).all()


def test_event_study_shows_each_period_with_intervals_and_start():
    fig = charts.event_study_figure(_event())
    assert [t.name for t in fig.data] == ["基线期（排名窗口前）", "排名窗口（被选中的高峰）", "进驻后"]
    assert list(fig.data[0].x) == [-8, -7]
    assert list(fig.data[2].error_y.array) == [4, 5]
    assert charts.start_lines(fig)[0].x0 == -0.5


def test_effects_comparison_shows_all_three_with_intervals():
    fig = charts.effects_comparison_figure(_effects())
    bar = fig.data[0]
    assert list(bar.x) == ["简单同比", "安慰剂（无专班时段同规则）", "调整后效应（专班小区）"]
    assert list(bar.error_y.array) == [0, 5, 15]
    assert list(bar.error_y.arrayminus) == [0, 5, 8]
    # each figure is written under its bar's name, never on the bar where its interval runs
    assert bar.text is None
    assert [t.split("<br>")[1] for t in fig.layout.xaxis.ticktext] == [
        "<b>-46.3%</b>",
        "<b>-25.0%</b>",
        "<b>-12.0%</b>",
    ]


def test_counterfactual_band_line_and_start():
    df = pd.DataFrame(
        {
            "month": MONTHS,
            "observed": np.arange(12) + 10.0,
            "expected": [np.nan] * 6 + [20.0] * 6,
            "pi_low": [np.nan] * 6 + [15.0] * 6,
            "pi_high": [np.nan] * 6 + [25.0] * 6,
        }
    )
    fig = charts.counterfactual_figure(df, "2023-07-01", name="甲小区")
    assert [t.name for t in fig.data] == ["反事实 95% 区间", "反事实（无专班）", "实际"]
    assert fig.data[0].fill == "toself" and len(fig.data[0].x) == 12
    assert "甲小区" in fig.layout.title.text
    assert pd.Timestamp(charts.start_lines(fig)[0].x0) == pd.Timestamp("2023-07-01")


def test_category_effects_sorted_with_whiskers():
    df = pd.DataFrame(
        {
            "category": ["供暖", "噪音"],
            "effect_pct": [5.0, -20.0],
            "ci_low_pct": [-1.0, -30.0],
            "ci_high_pct": [9.0, -10.0],
        }
    )
    bar = charts.category_effects_figure(df).data[0]
    assert list(bar.y) == ["噪音", "供暖"]
    assert list(bar.error_x.array) == [10.0, 4.0]


def test_stars_one_bar_per_rating_with_interval():
    fig = charts.stars_figure(_stars())
    bar = fig.data[0]
    assert list(bar.x) == ["1★", "3★", "5★"]
    assert list(bar.error_y.array) == [1.0, 0.5, 0.25]
    # the counts sit under the axis, where no interval line crosses them
    assert bar.text is None
    assert list(fig.layout.xaxis.ticktext) == ["1★<br>4个小区", "3★<br>10个小区", "5★<br>2个小区"]
