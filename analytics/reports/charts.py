"""Plotly figure builders: pure functions of DataFrames (no Streamlit, no store access).

Every builder takes a DataFrame with documented columns plus plain arguments and returns a
`plotly.graph_objects.Figure`. Titles and axis labels come from the catalogue
(`analytics.reports.text`, keys `ch_*`), Chinese by default; pass `lang="en"` for English. Nothing
here needs a tile or topojson server: the compound "map" is a plain scatter on longitude/latitude
axes, so it draws on an intranet with no internet access.

Honest-numbers rule: every estimate is drawn with its interval (error bars or a band).
Every text drawn from data (names, categories, groups) goes through `safe_text.plotly_literal`:
plotly reads HTML tags and entities in chart text, and a compound name must not become a link.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.config import TOP_N
from analytics.reports.text import text, value_text
from analytics.safe_text import plotly_literal

LANGS = ("zh", "en")
# A colour per meaning, the same on every chart: red = worse / treated, blue = comparison.
COLOR_MAIN = "#c0392b"
COLOR_COMPARE = "#2c7fb8"
COLOR_NEUTRAL = "#7f8c8d"
COLOR_BAND = "rgba(44,127,184,0.18)"
COLOR_GOOD = "#27ae60"
FONT_FAMILY = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
# funnel plot control limits: two-sided normal quantiles for ~95% and ~99.8%
FUNNEL_LIMITS: tuple[tuple[float, str], ...] = ((1.959964, "95"), (3.090232, "99.8"))


def _base_layout(
    fig: go.Figure, title: str, x_title: str | None = None, y_title: str | None = None
) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        font={"family": FONT_FAMILY},
        margin={"l": 40, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hovermode="closest",
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def _empty(title: str, lang: str) -> go.Figure:
    """A figure that says there is nothing to draw, instead of an empty frame."""
    fig = go.Figure()
    fig.add_annotation(
        text=text("ch_no_data", lang),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 16},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base_layout(fig, title)


def _as_timestamp(value: date | datetime | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value)


def mark_start(
    fig: go.Figure, start: date | datetime | str | pd.Timestamp | float | None, lang: str = "zh"
) -> go.Figure:
    """Add a dashed vertical line at the task-force start, with a label on top.

    A shape plus an annotation (not `add_vline(annotation_text=...)`) because the latter fails
    on date axes in some plotly versions.
    """
    if start is None:
        return fig
    x = start if isinstance(start, int | float) else _as_timestamp(start)
    fig.add_shape(
        type="line",
        x0=x,
        x1=x,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line={"color": COLOR_MAIN, "dash": "dash", "width": 2},
        name="start",
    )
    fig.add_annotation(
        x=x,
        y=1.0,
        xref="x",
        yref="paper",
        text=text("ch_start", lang),
        showarrow=False,
        yanchor="bottom",
        font={"color": COLOR_MAIN},
    )
    return fig


def trend_figure(
    monthly: pd.DataFrame,
    start: date | datetime | str | None = None,
    *,
    x: str = "month",
    y: str = "tickets",
    series: str | None = None,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Monthly line(s): `monthly[x]` (month start), `monthly[y]`; one line per `series` value.

    The task-force start is marked with a dashed vertical line when given.
    """
    title = title or text("ch_trend_title", lang)
    if monthly is None or monthly.empty:
        return _empty(title, lang)
    fig = go.Figure()
    data = monthly.copy()
    data[x] = pd.to_datetime(data[x])
    groups = [(None, data)] if series is None else list(data.groupby(series, sort=True))
    for i, (name, part) in enumerate(groups):
        part = part.sort_values(x)
        fig.add_trace(
            go.Scatter(
                x=part[x],
                y=part[y],
                mode="lines+markers",
                name=plotly_literal(name) if name is not None else text("ch_tickets", lang),
                line={"color": COLOR_MAIN if i == 0 else None, "width": 2},
            )
        )
    _base_layout(fig, title, text("ch_month", lang), text("ch_tickets", lang))
    fig.update_xaxes(tickformat="%Y-%m")
    return mark_start(fig, start, lang)


def treemap_figure(
    df: pd.DataFrame,
    *,
    value: str = "tickets",
    levels: Sequence[str] = ("subdistrict", "community", "name"),
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Treemap subdistrict -> community -> compound sized by `value`.

    Ids are the path joined with '/', so two compounds with the same name in different
    communities stay apart. Missing levels are shown as the catalogue's 'unknown'.
    """
    title = title or text("ch_treemap_title", lang)
    if df is None or df.empty or float(df[value].sum()) <= 0:
        return _empty(title, lang)
    unknown = text("ch_unknown", lang)
    root = text("ch_all", lang)
    data = df[list(levels) + [value]].copy()
    for col in levels:
        data[col] = data[col].fillna(unknown).map(plotly_literal).replace("", unknown)
    data = data.groupby(list(levels), as_index=False)[value].sum()
    data = data[data[value] > 0]
    ids: list[str] = [root]
    labels: list[str] = [root]
    parents: list[str] = [""]
    values: list[float] = [float(data[value].sum())]
    for depth in range(len(levels)):
        cols = list(levels[: depth + 1])
        agg = data.groupby(cols, as_index=False)[value].sum()
        for row in agg.itertuples(index=False):
            path = [str(v) for v in row[: depth + 1]]
            ids.append(root + "/" + "/".join(path))
            labels.append(path[-1])
            parents.append(root + ("/" + "/".join(path[:-1]) if depth else ""))
            values.append(float(row[depth + 1]))
    fig = go.Figure(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colorscale": "Reds", "colors": values},
            hovertemplate="%{label}<br>" + text("ch_tickets", lang) + ": %{value}<extra></extra>",
        )
    )
    return _base_layout(fig, title)


def compound_map_figure(
    df: pd.DataFrame,
    *,
    value: str = "tickets",
    name: str = "name",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Compounds as bubbles on plain longitude/latitude axes (no tiles, works offline).

    Needs columns lon, lat, `name`, `value`. Rows without coordinates are left out. The y axis is
    scaled by 1/cos(latitude) so distances look right at the district's latitude.
    """
    title = title or text("ch_map_title", lang)
    data = df.dropna(subset=["lon", "lat"]) if df is not None and not df.empty else pd.DataFrame()
    if data.empty:
        return _empty(title, lang)
    values = data[value].astype(float).clip(lower=0)
    size = 6 + 30 * np.sqrt(values / values.max()) if values.max() > 0 else np.full(len(values), 8.0)
    fig = go.Figure(
        go.Scatter(
            x=data["lon"],
            y=data["lat"],
            mode="markers",
            text=data[name].map(plotly_literal),
            customdata=values,
            marker={
                "size": size,
                "color": values,
                "colorscale": "Reds",
                "showscale": True,
                "colorbar": {"title": text("ch_tickets", lang)},
                "line": {"width": 0.5, "color": "#555"},
            },
            hovertemplate="%{text}<br>" + text("ch_tickets", lang) + ": %{customdata}<extra></extra>",
            name=text("ch_compounds", lang),
        )
    )
    _base_layout(fig, title, text("ch_lon", lang), text("ch_lat", lang))
    mean_lat = float(data["lat"].mean())
    fig.update_yaxes(scaleanchor="x", scaleratio=1.0 / max(math.cos(math.radians(mean_lat)), 0.1))
    return fig


def ranking_figure(
    df: pd.DataFrame,
    *,
    name: str = "name",
    rank: str = "rank",
    low: str = "rank_low",
    high: str = "rank_high",
    top: int | None = None,
    max_rows: int = 80,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Point rank with its interval as horizontal error bars, best rank at the top.

    The cut-off (`top`) is a vertical dotted line: compounds whose bar crosses it could be on
    either side of the line.
    """
    title = title or text("ch_ranking_title", lang)
    if df is None or df.empty:
        return _empty(title, lang)
    data = df.sort_values(rank).head(max_rows)
    r = data[rank].astype(float)
    fig = go.Figure(
        go.Scatter(
            x=r,
            y=data[name].map(plotly_literal),
            mode="markers",
            marker={"color": COLOR_MAIN, "size": 7},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (data[high].astype(float) - r).clip(lower=0),
                "arrayminus": (r - data[low].astype(float)).clip(lower=0),
                "color": COLOR_NEUTRAL,
                "thickness": 1.5,
            },
            name=text("ch_rank_interval", lang),
            customdata=np.stack([data[low], data[high]], axis=-1),
            hovertemplate="%{y}<br>"
            + text("ch_rank", lang)
            + ": %{x}<br>"
            + text("ch_rank_interval", lang)
            + ": %{customdata[0]}–%{customdata[1]}<extra></extra>",
        )
    )
    _base_layout(fig, title, text("ch_rank", lang), None)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(400, 14 * len(data) + 120))
    if top:
        fig.add_shape(
            type="line",
            x0=top + 0.5,
            x1=top + 0.5,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"color": COLOR_COMPARE, "dash": "dot"},
            name="cutoff",
        )
    return fig


def funnel_limits(
    district_rate: float, expected_min: float, expected_max: float, *, tau2: float = 0.0, points: int = 60
) -> pd.DataFrame:
    """Control limits of a funnel plot against the expected count (Poisson, plus `tau2` between-
    compound variance on the ratio scale when given), in the layout `ranking.funnel_data` uses:
    columns expected, rate_low_<p>, rate_high_<p> for p in 95 and 99.8.
    """
    lo = max(float(expected_min), 0.5)
    hi = max(float(expected_max), lo * 1.01)
    grid = np.geomspace(lo, hi, points)
    out: dict[str, Any] = {"expected": grid}
    for z, p in FUNNEL_LIMITS:
        half = z * np.sqrt(1.0 / grid + tau2)
        out[f"rate_low_{p}"] = np.maximum(0.0, 1 - half) * district_rate
        out[f"rate_high_{p}"] = (1 + half) * district_rate
    return pd.DataFrame(out)


def funnel_figure(
    points: pd.DataFrame,
    curve: pd.DataFrame | None = None,
    district_rate: float | None = None,
    *,
    x: str = "expected",
    rate: str = "rate",
    name: str = "name",
    x_title: str | None = None,
    y_title: str | None = None,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Funnel plot: each compound's rate against its expected count (size), with the district
    average and the 95% / 99.8% control limits. Points outside the outer funnel are more than
    chance; the funnel narrows as compounds get bigger, so small compounds are not over-read.

    `points`/`curve`/`district_rate` are what `ranking.funnel_data` returns; without a curve
    the limits are plain Poisson around the district rate.
    """
    title = title or text("ch_funnel_title", lang)
    data = points.dropna(subset=[x, rate]) if points is not None and not points.empty else pd.DataFrame()
    data = data[data[x] > 0] if not data.empty else data
    if data.empty:
        return _empty(title, lang)
    if district_rate is None:
        district_rate = float((data[rate] * data[x]).sum() / data[x].sum())
    if curve is None or curve.empty:
        curve = funnel_limits(district_rate, data[x].min(), data[x].max())
    hover_name = data[name].map(plotly_literal) if name in data else None
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=data[x],
            y=data[rate],
            mode="markers",
            text=hover_name,
            marker={"color": COLOR_MAIN, "size": 6, "opacity": 0.75},
            name=text("ch_compounds", lang),
            hovertemplate="%{text}<br>%{x:.1f}<br>%{y:.2f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[curve["expected"].min(), curve["expected"].max()],
            y=[district_rate, district_rate],
            mode="lines",
            line={"color": COLOR_NEUTRAL},
            name=text("ch_district_rate", lang),
        )
    )
    for _, p in FUNNEL_LIMITS:
        for side in ("low", "high"):
            col = f"rate_{side}_{p}"
            if col not in curve:
                continue
            fig.add_trace(
                go.Scatter(
                    x=curve["expected"],
                    y=curve[col],
                    mode="lines",
                    line={"color": COLOR_COMPARE, "dash": "dash" if p == "95" else "dot", "width": 1},
                    name=text("ch_limit", lang, p=f"{p}%"),
                    legendgroup=p,
                    showlegend=side == "high",
                )
            )
    _base_layout(fig, title, x_title or text("ch_expected", lang), y_title or text("ch_rate", lang))
    fig.update_xaxes(type="log")
    return fig


def stability_figure(
    df: pd.DataFrame,
    *,
    name: str = "name",
    share: str = "share_in_top",
    top: int = TOP_N,
    max_rows: int = 90,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Bars: for each compound, the share of perturbed weightings that keep it in the top `top`.

    A compound at 100% is in the list whatever the weights; one near 50% is a judgement call.
    """
    title = title or text("ch_stability_title", lang, top=top)
    if df is None or df.empty:
        return _empty(title, lang)
    data = df.sort_values(share, ascending=False).head(max_rows)
    values = data[share].astype(float)
    fig = go.Figure(
        go.Bar(
            x=data[name].map(plotly_literal),
            y=values,
            marker={
                "color": [
                    COLOR_MAIN if v >= 0.9 else COLOR_NEUTRAL if v >= 0.5 else COLOR_COMPARE for v in values
                ]
            },
            name=text("ch_share_in_top", lang, top=top),
            hovertemplate="%{x}: %{y:.0%}<extra></extra>",
        )
    )
    _base_layout(fig, title, None, text("ch_share_in_top", lang, top=top))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


PERIOD_STYLE: dict[str, str] = {
    # period -> colour: baseline must look flat; the selection spike is expected
    "baseline": COLOR_NEUTRAL,
    "selection": "#e67e22",
    "post": COLOR_MAIN,
}


def event_study_figure(
    df: pd.DataFrame,
    *,
    x: str = "rel_month",
    coef: str = "effect_pct",
    low: str = "ci_low_pct",
    high: str = "ci_high_pct",
    period: str = "period",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Effect by month relative to the start with 95% intervals (`effects.event_study` layout).

    Baseline, selection-window and post-start months are drawn in their own colour: baseline
    points far from zero mean treated and controls were not moving in parallel before. A dashed
    line at x = -0.5 marks the start; a horizontal line marks zero. Without a `period` column,
    months before 0 are 'baseline'.
    """
    title = title or text("ch_event_title", lang)
    if df is None or df.empty:
        return _empty(title, lang)
    data = df.sort_values(x).copy()
    if period not in data:
        data[period] = np.where(data[x] < 0, "baseline", "post")
    fig = go.Figure()
    for key, color in PERIOD_STYLE.items():
        part = data[data[period] == key]
        if part.empty:
            continue
        c = part[coef].astype(float)
        fig.add_trace(
            go.Scatter(
                x=part[x],
                y=c,
                mode="markers+lines",
                line={"color": color},
                marker={"size": 7, "color": color},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part[high].astype(float) - c).clip(lower=0),
                    "arrayminus": (c - part[low].astype(float)).clip(lower=0),
                    "color": color,
                },
                name=text(f"ch_period_{key}", lang),
            )
        )
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    _base_layout(fig, title, text("ch_event_time", lang), text("ch_coef", lang))
    return mark_start(fig, -0.5, lang)


def effects_comparison_figure(
    df: pd.DataFrame,
    *,
    key: str = "measure",
    estimate: str = "estimate_pct",
    low: str = "ci_low_pct",
    high: str = "ci_high_pct",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Side-by-side bars naive / placebo / adjusted, each with its interval where it has one.

    `df[key]` holds 'naive', 'placebo', 'adjusted' (translated here) or any label; the naive
    change is never drawn alone: callers pass all three rows.
    """
    title = title or text("ch_effects_title", lang)
    if df is None or df.empty:
        return _empty(title, lang)
    names = [
        text(f"ch_{k}", lang) if k in ("naive", "placebo", "adjusted") else plotly_literal(k) for k in df[key]
    ]
    est = df[estimate].astype(float)
    lo = df[low].astype(float) if low in df else pd.Series(np.nan, index=df.index)
    hi = df[high].astype(float) if high in df else pd.Series(np.nan, index=df.index)
    colors = {"naive": COLOR_NEUTRAL, "placebo": COLOR_COMPARE, "adjusted": COLOR_MAIN}
    fig = go.Figure(
        go.Bar(
            x=names,
            y=est,
            marker={"color": [colors.get(k, COLOR_NEUTRAL) for k in df[key]]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (hi - est).clip(lower=0).fillna(0),
                "arrayminus": (est - lo).clip(lower=0).fillna(0),
                "color": "#333",
                "thickness": 2,
                "width": 8,
            },
            text=[f"{v:+.1f}%" if pd.notna(v) else "" for v in est],
            textposition="outside",
            name=text("ch_change_pct", lang),
        )
    )
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    return _base_layout(fig, title, None, text("ch_change_pct", lang))


def counterfactual_figure(
    df: pd.DataFrame,
    start: date | datetime | str | None,
    *,
    x: str = "month",
    actual: str = "observed",
    counterfactual: str = "expected",
    low: str = "pi_low",
    high: str = "pi_high",
    name: str = "",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """One compound's monthly tickets, the counterfactual line and its band, start marked.

    Counterfactual columns may be NaN before the start (only the fitted period is drawn).
    """
    title = title or text("ch_compound_title", lang, name=plotly_literal(name))
    if df is None or df.empty:
        return _empty(title, lang)
    data = df.copy()
    data[x] = pd.to_datetime(data[x])
    data = data.sort_values(x)
    fig = go.Figure()
    if counterfactual in data and data[counterfactual].notna().any():
        cf = data.dropna(subset=[counterfactual])
        if low in cf and high in cf and cf[low].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=pd.concat([cf[x], cf[x][::-1]]),
                    y=pd.concat([cf[high], cf[low][::-1]]),
                    fill="toself",
                    fillcolor=COLOR_BAND,
                    line={"color": "rgba(0,0,0,0)"},
                    hoverinfo="skip",
                    name=text("ch_cf_band", lang),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=cf[x],
                y=cf[counterfactual],
                mode="lines",
                line={"color": COLOR_COMPARE, "dash": "dash"},
                name=text("ch_counterfactual", lang),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=data[x],
            y=data[actual],
            mode="lines+markers",
            line={"color": COLOR_MAIN, "width": 2},
            name=text("ch_actual", lang),
        )
    )
    _base_layout(fig, title, text("ch_month", lang), text("ch_tickets", lang))
    fig.update_xaxes(tickformat="%Y-%m")
    return mark_start(fig, start, lang)


def interval_bars_figure(
    df: pd.DataFrame,
    *,
    y: str,
    estimate: str = "effect_pct",
    low: str = "ci_low_pct",
    high: str = "ci_high_pct",
    title: str,
    x_title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Horizontal bars with interval whiskers, one per row of `df[y]` (by-category, displacement)."""
    if df is None or df.empty:
        return _empty(title, lang)
    data = df.sort_values(estimate)
    est = data[estimate].astype(float)
    fig = go.Figure(
        go.Bar(
            x=est,
            y=data[y].map(plotly_literal),
            orientation="h",
            marker={"color": [COLOR_GOOD if v < 0 else COLOR_MAIN for v in est]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (data[high].astype(float) - est).clip(lower=0).fillna(0),
                "arrayminus": (est - data[low].astype(float)).clip(lower=0).fillna(0),
                "color": "#333",
                "thickness": 1.5,
            },
            name=x_title or text("ch_change_pct", lang),
        )
    )
    fig.add_vline(x=0, line={"color": "#333", "width": 1})
    _base_layout(fig, title, x_title or text("ch_change_pct", lang), None)
    fig.update_layout(height=max(320, 28 * len(data) + 120))
    return fig


def category_effects_figure(
    df: pd.DataFrame, *, category: str = "category", lang: str = "zh", **cols: str
) -> go.Figure:
    """Effect by ticket category with 95% intervals (`effects` by_category: effect_pct, ci_low_pct, ci_high_pct)."""
    return interval_bars_figure(df, y=category, title=text("ch_category_title", lang), lang=lang, **cols)


def displacement_figure(
    df: pd.DataFrame, *, group: str = "target", lang: str = "zh", **cols: str
) -> go.Figure:
    """Change in neighbouring (untreated) compounds vs others: a rise would mean complaints moved."""
    return interval_bars_figure(df, y=group, title=text("ch_displacement_title", lang), lang=lang, **cols)


def stars_figure(
    table: pd.DataFrame,
    *,
    stars: str = "stars",
    mean: str = "mean_rate",
    low: str = "mean_low",
    high: str = "mean_high",
    count: str = "compounds",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Mean complaint rate per party-branch star level with its 95% interval (`ranking.stars_vs_rate`).

    Bars are labelled with the number of compounds: a level with few compounds has a wide interval.
    """
    title = title or text("ch_stars_title", lang)
    data = table.dropna(subset=[stars, mean]) if table is not None and not table.empty else pd.DataFrame()
    if data.empty:
        return _empty(title, lang)
    data = data.sort_values(stars)
    m = data[mean].astype(float)
    fig = go.Figure(
        go.Bar(
            x=[f"{int(s)}★" for s in data[stars]],
            y=m,
            marker={"color": COLOR_COMPARE},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (data[high].astype(float) - m).clip(lower=0).fillna(0),
                "arrayminus": (m - data[low].astype(float)).clip(lower=0).fillna(0),
                "color": "#333",
            },
            text=[text("ch_stars_compounds", lang, n=int(n)) for n in data[count]] if count in data else None,
            textposition="inside",
            name=text("ch_rate", lang),
        )
    )
    _base_layout(fig, title, text("ch_stars", lang), text("ch_rate", lang))
    fig.update_layout(showlegend=False)
    return fig


def category_mix_figure(
    mix: pd.DataFrame,
    *,
    category: str = "category",
    value: str = "tickets",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """A compound's tickets by category as a ring (`trends.category_mix` layout)."""
    title = title or text("ch_category", lang)
    if mix is None or mix.empty:
        return _empty(title, lang)
    labels = mix[category].map(
        lambda c: plotly_literal(value_text(c, lang))
    )  # 未分类 in the reader's language
    fig = go.Figure(go.Pie(labels=labels, values=mix[value], hole=0.4, sort=True))
    _base_layout(fig, title)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def start_lines(fig: go.Figure) -> list[Any]:
    """The start-marker shapes of a figure (used by tests and by pages that check a figure)."""
    return [s for s in fig.layout.shapes if getattr(s, "name", None) == "start"]
