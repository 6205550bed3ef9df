"""The ranking's charts: rank with its interval, the funnel plot, stability under the weights and
party-branch stars against complaints. Every chart that lists compounds names each of them: it
grows one row per compound and keeps the names outside the plot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.config import TOP_N
from analytics.models.ranking.score import RANK_INTERVAL
from analytics.reports.charts.base import (
    COLOR_COMPARE,
    COLOR_MAIN,
    COLOR_NEUTRAL,
    NAME_FONT_SIZE,
    base_layout,
    empty,
    list_height,
    unique_labels,
)
from analytics.reports.text import text
from analytics.safe_text import plotly_literal

# funnel plot control limits: two-sided normal quantiles for ~95% and ~99.8%
FUNNEL_LIMITS: tuple[tuple[float, str], ...] = ((1.959964, "95"), (3.090232, "99.8"))
# the rank interval the ranking computes, in percent (the chart's title says this number)
RANK_INTERVAL_PCT = round((RANK_INTERVAL[1] - RANK_INTERVAL[0]) * 100)


def ranking_figure(
    df: pd.DataFrame,
    *,
    name: str = "name",
    rank: str = "rank",
    low: str = "rank_low",
    high: str = "rank_high",
    key: str = "compound_id",
    top: int | None = None,
    max_rows: int = 80,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Point rank with its interval as horizontal error bars, best rank at the top.

    Every compound is named on the y axis ("3. name"), the chart growing a row per compound. The
    cut-off (`top`) is a vertical dotted line: compounds whose bar crosses it could be on either
    side of it. The rows carry `key` in customdata.
    """
    title = title or text("ch_ranking_title", lang, p=RANK_INTERVAL_PCT)
    if df is None or df.empty:
        return empty(title, lang)
    data = df.sort_values(rank, kind="stable").head(max_rows)
    r = data[rank].astype(float)
    lo, hi = data[low].astype(float), data[high].astype(float)
    labels = [f"{int(k)}. {plotly_literal(n)}" for k, n in zip(data[rank], data[name], strict=True)]
    keys = data[key].astype(str).tolist() if key in data else [""] * len(data)
    interval = text("ch_rank_interval", lang, p=RANK_INTERVAL_PCT)
    fig = go.Figure(
        go.Scatter(
            x=r, y=labels, mode="markers", marker={"color": COLOR_MAIN, "size": 7},
            error_x={
                "type": "data", "symmetric": False, "array": (hi - r).clip(lower=0),
                "arrayminus": (r - lo).clip(lower=0), "color": COLOR_NEUTRAL, "thickness": 1.5, "width": 3,
            },
            name=interval,
            customdata=np.stack([lo, hi, keys], axis=-1),
            hovertemplate="%{y}<br>" + text("ch_rank", lang) + ": %{x}<br>" + interval
            + ": %{customdata[0]}–%{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title, text("ch_rank", lang), None)
    fig.update_yaxes(
        autorange="reversed", type="category", dtick=1, tickfont={"size": NAME_FONT_SIZE}, ticklabelstandoff=6
    )
    # the axis starts left of rank 1, so no interval reaches into the names
    fig.update_xaxes(range=[0, float(max(hi.max(), r.max())) + 1], side="top", rangemode="nonnegative")
    fig.update_layout(height=list_height(len(data)), showlegend=False, margin={"t": 90, "b": 30})
    if top:
        fig.add_shape(
            type="line", x0=top + 0.5, x1=top + 0.5, xref="x", y0=0, y1=1, yref="paper",
            line={"color": COLOR_COMPARE, "dash": "dot"}, name="cutoff",
        )  # fmt: skip
        fig.add_annotation(
            x=top + 0.5, y=0, xref="x", yref="paper", yanchor="bottom", xanchor="left", showarrow=False,
            text=text("ch_cutoff", lang, top=top), font={"color": COLOR_COMPARE}, bgcolor="rgba(255,255,255,0.85)",
        )  # fmt: skip
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
        return empty(title, lang)
    if district_rate is None:
        district_rate = float((data[rate] * data[x]).sum() / data[x].sum())
    if curve is None or curve.empty:
        curve = funnel_limits(district_rate, data[x].min(), data[x].max())
    hover_name = data[name].map(plotly_literal) if name in data else None
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=data[x], y=data[rate], mode="markers", text=hover_name,
            marker={"color": COLOR_MAIN, "size": 6, "opacity": 0.75}, name=text("ch_compounds", lang),
            hovertemplate="%{text}<br>%{x:.1f}<br>%{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[curve["expected"].min(), curve["expected"].max()], y=[district_rate, district_rate], mode="lines",
            line={"color": COLOR_NEUTRAL}, name=text("ch_district_rate", lang),
        )
    )  # fmt: skip
    for _, p in FUNNEL_LIMITS:
        for side in ("low", "high"):
            col = f"rate_{side}_{p}"
            if col not in curve:
                continue
            fig.add_trace(
                go.Scatter(
                    x=curve["expected"], y=curve[col], mode="lines",
                    line={"color": COLOR_COMPARE, "dash": "dash" if p == "95" else "dot", "width": 1},
                    name=text("ch_limit", lang, p=f"{p}%"), legendgroup=p, showlegend=side == "high",
                    hoverinfo="skip",
                )
            )  # fmt: skip
    base_layout(fig, title, x_title or text("ch_expected", lang), y_title or text("ch_rate", lang))
    # a log axis labelled 1, 2, 5, 10, 20, 50 ... rather than every digit between powers of ten
    ticks = log_ticks(float(min(data[x].min(), curve["expected"].min())), float(data[x].max()))
    fig.update_xaxes(
        type="log", tickvals=ticks, ticktext=[f"{v:,.0f}" if v >= 1 else f"{v:g}" for v in ticks]
    )
    fig.update_layout(height=480)
    return fig


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 steps covering [lo, hi] (for a log axis)."""
    lo, hi = max(lo, 1e-9), max(hi, lo)
    out = []
    for power in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        out.extend(m * 10.0**power for m in (1, 2, 5))
    inside = [v for v in out if lo / 2 <= v <= hi * 2]
    return inside or out


def stability_figure(
    df: pd.DataFrame,
    *,
    name: str = "name",
    share: str = "share_in_top",
    key: str = "compound_id",
    top: int = TOP_N,
    max_rows: int = 90,
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Horizontal bars, one per named compound: the share of perturbed weightings that keep it in
    the top `top`, written at the end of its bar.

    A compound at 100% is in the list whatever the weights; one near 50% is a judgement call.
    """
    title = title or text("ch_stability_title", lang, top=top)
    if df is None or df.empty:
        return empty(title, lang)
    data = df.sort_values(share, ascending=False).head(max_rows)
    values = data[share].astype(float)
    ids = data[key].astype(str).tolist() if key in data else None
    labels = unique_labels([plotly_literal(n) for n in data[name]], ids)
    fig = go.Figure(
        go.Bar(
            x=values, y=labels, orientation="h",
            marker={
                "color": [COLOR_MAIN if v >= 0.9 else COLOR_NEUTRAL if v >= 0.5 else COLOR_COMPARE for v in values]
            },
            text=[f"{v:.0%}" for v in values], textposition="outside", cliponaxis=False,
            name=text("ch_share_in_top", lang, top=top), hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title, text("ch_share_in_top", lang, top=top), None)
    fig.update_xaxes(tickformat=".0%", range=[0, 1.15])
    fig.update_yaxes(autorange="reversed", type="category", dtick=1, tickfont={"size": NAME_FONT_SIZE})
    fig.update_layout(height=list_height(len(data)), showlegend=False)
    return fig


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

    Each level's label says how many compounds it holds (a level with few has a wide interval);
    the count sits under the axis, where no interval line can cross it.
    """
    title = title or text("ch_stars_title", lang)
    data = table.dropna(subset=[stars, mean]) if table is not None and not table.empty else pd.DataFrame()
    if data.empty:
        return empty(title, lang)
    data = data.sort_values(stars)
    m = data[mean].astype(float)
    ticks = [f"{int(s)}★" for s in data[stars]]
    if count in data:
        counts = [text("ch_stars_compounds", lang, n=int(n)) for n in data[count]]
        labels = [f"{s}<br>{c}" for s, c in zip(ticks, counts, strict=True)]
    else:
        labels = ticks
    fig = go.Figure(
        go.Bar(
            x=ticks, y=m, marker={"color": COLOR_COMPARE},
            error_y={
                "type": "data", "symmetric": False, "array": (data[high].astype(float) - m).clip(lower=0).fillna(0),
                "arrayminus": (m - data[low].astype(float)).clip(lower=0).fillna(0), "color": "#333",
            },
            name=text("ch_rate", lang), hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title, text("ch_stars", lang), text("ch_rate", lang))
    fig.update_xaxes(tickvals=ticks, ticktext=labels)
    fig.update_layout(showlegend=False)
    return fig
