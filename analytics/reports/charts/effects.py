"""The effects' charts: the event study, naive / placebo / adjusted side by side, one compound's
counterfactual, and effects by category or group. Every estimate is drawn with its interval; a
number written beside a bar sits where no interval line crosses it."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.reports.charts.base import (
    COLOR_BAND,
    COLOR_COMPARE,
    COLOR_GOOD,
    COLOR_MAIN,
    COLOR_NEUTRAL,
    NAME_FONT_SIZE,
    base_layout,
    empty,
    list_height,
    mark_start,
)
from analytics.reports.text import text
from analytics.safe_text import plotly_literal

PERIOD_STYLE: dict[str, str] = {
    # period -> colour: baseline must look flat; the selection spike is expected
    "baseline": COLOR_NEUTRAL,
    "selection": "#e67e22",
    "post": COLOR_MAIN,
}


def _signed(value: float) -> str:
    return f"{value:+.1f}%" if pd.notna(value) else ""


def event_study_figure(
    df: pd.DataFrame,
    *,
    x: str = "rel_month",
    coef: str = "effect_pct",
    low: str = "ci_low_pct",
    high: str = "ci_high_pct",
    period: str = "period",
    band: pd.DataFrame | None = None,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Effect by month relative to the start with 95% intervals (`effects.event_study` layout).
    `band` (`effects.effect_path` layout: `x`, band_low_pct, band_high_pct), when given, is shaded
    behind the post-start months: the band that holds every month's effect jointly at 95%.

    Baseline, selection-window and post-start months are drawn in their own colour: baseline
    points far from zero mean treated and controls were not moving in parallel before. A dashed
    line at x = -0.5 marks the start; a horizontal line marks zero. Without a `period` column,
    months before 0 are 'baseline'.
    """
    title = title or text("ch_event_title", lang)
    if df is None or df.empty:
        return empty(title, lang)
    data = df.sort_values(x).copy()
    if period not in data:
        data[period] = np.where(data[x] < 0, "baseline", "post")
    fig = go.Figure()
    if band is not None and not band.empty and {"band_low_pct", "band_high_pct"} <= set(band):
        b = band.sort_values(x)
        fig.add_trace(
            go.Scatter(
                x=[*b[x], *b[x][::-1]],
                y=[*b["band_high_pct"].astype(float), *b["band_low_pct"].astype(float)[::-1]],
                fill="toself", fillcolor="rgba(192, 57, 43, 0.13)", line={"width": 0}, hoverinfo="skip",
                name=text("ch_event_band", lang),
            )
        )  # fmt: skip
    for key, color in PERIOD_STYLE.items():
        part = data[data[period] == key]
        if part.empty:
            continue
        c = part[coef].astype(float)
        fig.add_trace(
            go.Scatter(
                x=part[x], y=c, mode="markers+lines", line={"color": color}, marker={"size": 7, "color": color},
                error_y={
                    "type": "data", "symmetric": False, "array": (part[high].astype(float) - c).clip(lower=0),
                    "arrayminus": (c - part[low].astype(float)).clip(lower=0), "color": color,
                },
                name=text(f"ch_period_{key}", lang),
                hovertemplate="%{x}: %{y:+.1f}%<extra></extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    base_layout(fig, title, text("ch_event_time", lang), text("ch_coef", lang))
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
    change is never drawn alone: callers pass all three rows. Each bar's figure is written under
    its name on the axis, where the interval line cannot cross it.
    """
    title = title or text("ch_effects_title", lang)
    if df is None or df.empty:
        return empty(title, lang)
    names = [
        text(f"ch_{k}", lang) if k in ("naive", "placebo", "adjusted", "net", "eb") else plotly_literal(k)
        for k in df[key]
    ]
    est = df[estimate].astype(float)
    lo = df[low].astype(float) if low in df else pd.Series(np.nan, index=df.index)
    hi = df[high].astype(float) if high in df else pd.Series(np.nan, index=df.index)
    colors = {
        "naive": COLOR_NEUTRAL,
        "placebo": COLOR_COMPARE,
        "adjusted": COLOR_MAIN,
        "net": COLOR_MAIN,
        "eb": COLOR_MAIN,
    }
    fig = go.Figure(
        go.Bar(
            x=names, y=est, marker={"color": [colors.get(k, COLOR_NEUTRAL) for k in df[key]]},
            error_y={
                "type": "data", "symmetric": False, "array": (hi - est).clip(lower=0).fillna(0),
                "arrayminus": (est - lo).clip(lower=0).fillna(0), "color": "#333", "thickness": 2, "width": 8,
            },
            name=text("ch_change_pct", lang), hovertemplate="%{x}: %{y:+.1f}%<extra></extra>",
        )
    )  # fmt: skip
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    base_layout(fig, title, None, text("ch_change_pct", lang))
    fig.update_xaxes(
        tickvals=names, ticktext=[f"{n}<br><b>{_signed(v)}</b>" for n, v in zip(names, est, strict=True)]
    )
    fig.update_layout(showlegend=False)
    return fig


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
        return empty(title, lang)
    data = df.copy()
    data[x] = pd.to_datetime(data[x])
    data = data.sort_values(x)
    fig = go.Figure()
    if counterfactual in data and data[counterfactual].notna().any():
        cf = data.dropna(subset=[counterfactual])
        if low in cf and high in cf and cf[low].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=pd.concat([cf[x], cf[x][::-1]]), y=pd.concat([cf[high], cf[low][::-1]]), fill="toself",
                    fillcolor=COLOR_BAND, line={"color": "rgba(0,0,0,0)"}, hoverinfo="skip",
                    name=text("ch_cf_band", lang),
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=cf[x], y=cf[counterfactual], mode="lines", line={"color": COLOR_COMPARE, "dash": "dash"},
                name=text("ch_counterfactual", lang), hovertemplate="%{x|%Y-%m}: %{y:.1f}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=data[x], y=data[actual], mode="lines+markers", line={"color": COLOR_MAIN, "width": 2},
            name=text("ch_actual", lang), hovertemplate="%{x|%Y-%m}: %{y:,}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title, text("ch_month", lang), text("ch_tickets", lang))
    fig.update_xaxes(tickformat="%Y-%m")
    fig.update_yaxes(rangemode="tozero")
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
    """Horizontal bars with interval whiskers, one per row of `df[y]` (by-category, displacement);
    each row's estimate is written after its name, outside the plot."""
    if df is None or df.empty:
        return empty(title, lang)
    data = df.sort_values(estimate)
    est = data[estimate].astype(float)
    names = [plotly_literal(v) for v in data[y]]
    fig = go.Figure(
        go.Bar(
            x=est, y=names, orientation="h", marker={"color": [COLOR_GOOD if v < 0 else COLOR_MAIN for v in est]},
            error_x={
                "type": "data", "symmetric": False,
                "array": (data[high].astype(float) - est).clip(lower=0).fillna(0),
                "arrayminus": (est - data[low].astype(float)).clip(lower=0).fillna(0), "color": "#333",
                "thickness": 1.5,
            },
            name=x_title or text("ch_change_pct", lang), hovertemplate="%{y}: %{x:+.1f}%<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=0, line={"color": "#333", "width": 1})
    base_layout(fig, title, x_title or text("ch_change_pct", lang), None)
    fig.update_yaxes(
        type="category", dtick=1, tickfont={"size": NAME_FONT_SIZE}, tickvals=names,
        ticktext=[f"{n}  {_signed(v)}" for n, v in zip(names, est, strict=True)],
    )  # fmt: skip
    fig.update_layout(height=list_height(len(data), minimum=320), showlegend=False)
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
