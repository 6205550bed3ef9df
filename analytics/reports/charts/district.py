"""Where and when tickets come from: the monthly trend, the subdistrict → community → compound
treemap, the compound map and a compound's category mix."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.reports.charts.base import (
    COLOR_HIGHLIGHT,
    COLOR_LAST_YEAR,
    COLOR_MAIN,
    base_layout,
    empty,
    mark_start,
)
from analytics.reports.text import text, value_text
from analytics.safe_text import plotly_literal

TREEMAP_FULL_DEPTH = 60  # up to this many compounds the treemap opens on every level at once
TREEMAP_MIN_TEXT = 11  # px: a label that would be smaller is hidden, not shrunk to a smudge


def partial_month(data_end: date | datetime | str | pd.Timestamp | None) -> pd.Timestamp | None:
    """The first day of the month `data_end` falls in, when the data stop before that month ends."""
    if data_end is None:
        return None
    end = pd.Timestamp(data_end)
    month = end.to_period("M")
    return None if end.day == month.days_in_month else month.start_time


def trend_figure(
    monthly: pd.DataFrame,
    start: date | datetime | str | None = None,
    *,
    x: str = "month",
    y: str = "tickets",
    series: str | None = None,
    title: str | None = None,
    lang: str = "zh",
    data_end: date | datetime | str | None = None,
    last_year: bool = False,
    highlight: tuple[Any, Any] | None = None,
    events: pd.DataFrame | None = None,
) -> go.Figure:
    """Monthly line(s): `monthly[x]` (month start), `monthly[y]`; one line per `series` value.

    `events` (columns date, kind, detail): registry changes (rename / split / merge) drawn as
    dotted vertical lines labelled with their kind, the detail on hover, so a series that stops or
    starts there is read as a change of the registry, not of the complaints.

    The y axis starts at zero, so a swing of a few percent looks like one. The task-force start is
    a dashed vertical line. When the data stop before the end of their last month (`data_end`),
    that month is drawn dashed with a hollow point and a note: it is unfinished, not a fall.
    `last_year` adds the same months a year before as a grey line (one series only);
    `highlight` = (first day, last day) shades a reporting period.
    """
    title = title or text("ch_trend_title", lang)
    if monthly is None or monthly.empty:
        return empty(title, lang)
    fig = go.Figure()
    data = monthly.copy()
    data[x] = pd.to_datetime(data[x])
    cut = partial_month(data_end)
    groups = [(None, data)] if series is None else list(data.groupby(series, sort=True))
    partial_shown = False
    for i, (name, part) in enumerate(groups):
        part = part.sort_values(x)
        label = plotly_literal(name) if name is not None else text("ch_tickets", lang)
        color = COLOR_MAIN if i == 0 else None
        whole = part if cut is None else part[part[x] < cut]
        fig.add_trace(
            go.Scatter(
                x=whole[x], y=whole[y], mode="lines+markers", name=label, legendgroup=str(i),
                line={"color": color, "width": 2},
                hovertemplate="%{x|%Y-%m}: %{y:,}<extra>" + label + "</extra>",
            )
        )  # fmt: skip
        if cut is not None and (part[x] == cut).any():
            tail = part[part[x] >= cut - pd.offsets.MonthBegin(1)]
            fig.add_trace(
                go.Scatter(
                    x=tail[x], y=tail[y], mode="lines+markers", legendgroup="partial",
                    name=text("ch_partial", lang), showlegend=not partial_shown,
                    line={"color": color or COLOR_MAIN, "width": 2, "dash": "dot"},
                    marker={"symbol": "circle-open", "size": 10, "line": {"width": 2}},
                    hovertemplate="%{x|%Y-%m}: %{y:,}<extra>" + text("ch_partial", lang) + "</extra>",
                )
            )  # fmt: skip
            partial_shown = True
    if last_year and series is None:
        before = data[[x, y]].assign(**{x: data[x] + pd.DateOffset(years=1)})
        before = before[before[x] <= data[x].max()]
        if not before.empty:
            fig.add_trace(
                go.Scatter(
                    x=before[x], y=before[y], mode="lines", name=text("ch_last_year", lang),
                    line={"color": COLOR_LAST_YEAR, "width": 1.5, "dash": "dash"},
                    hovertemplate="%{x|%Y-%m}: %{y:,}<extra>" + text("ch_last_year", lang) + "</extra>",
                )
            )  # fmt: skip
    base_layout(fig, title, text("ch_month", lang), text("ch_tickets", lang))
    fig.update_xaxes(tickformat="%Y-%m")
    fig.update_yaxes(rangemode="tozero", tickformat=",d")
    if highlight is not None:
        lo = pd.Timestamp(highlight[0]).to_period("M").start_time - pd.Timedelta(days=15)
        hi = pd.Timestamp(highlight[1]).to_period("M").start_time + pd.Timedelta(days=15)
        fig.add_vrect(x0=lo, x1=hi, fillcolor=COLOR_HIGHLIGHT, line_width=0, layer="below", name="period")
    if events is not None:
        for ev in events.itertuples(index=False):
            when = pd.Timestamp(ev.date)
            fig.add_shape(
                type="line", x0=when, x1=when, xref="x", y0=0, y1=1, yref="paper", name="registry_event",
                line={"color": COLOR_LAST_YEAR, "dash": "dot", "width": 2},
            )  # fmt: skip
            fig.add_annotation(
                x=when, y=0.92, xref="x", yref="paper", showarrow=False, xanchor="left", xshift=4,
                text=text(f"ch_event_{ev.kind}", lang), hovertext=plotly_literal(ev.detail),
                font={"size": 11, "color": "#555"}, bgcolor="rgba(255,255,255,0.85)",
            )  # fmt: skip
    if partial_shown:
        fig.add_annotation(
            x=cut, y=0, xref="x", yref="paper", yanchor="bottom", showarrow=False,
            text=text("ch_partial_note", lang, date=pd.Timestamp(data_end).strftime("%Y-%m-%d")),
            font={"size": 11, "color": "#555"}, bgcolor="rgba(255,255,255,0.85)", xanchor="right",
        )  # fmt: skip
    return mark_start(fig, start, lang)


def treemap_figure(
    df: pd.DataFrame,
    *,
    value: str = "tickets",
    levels: Sequence[str] = ("subdistrict", "community", "name"),
    key: str = "compound_id",
    households: str = "households",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """Treemap subdistrict -> community -> compound sized by `value`, each tile labelled with its
    name and count; coloured by tickets per 100 households (with its colour bar) when `households`
    is given, else by the count.

    Ids are the path joined with '/', so two compounds with the same name in different communities
    stay apart. A compound tile carries its `key` in customdata (a click opens its profile); other
    tiles carry ''. Missing levels are shown as the catalogue's 'unknown'. With many compounds the
    first view stops at communities; a click opens one.
    """
    title = title or text("ch_treemap_title", lang)
    if df is None or df.empty or float(df[value].sum()) <= 0:
        return empty(title, lang)
    unknown = text("ch_unknown", lang)
    root = text("ch_all", lang)
    data = df.copy()
    for col in levels:
        data[col] = data[col].fillna(unknown).map(plotly_literal).replace("", unknown)
    data["_key"] = data[key].astype(str) if key in data else ""
    data["_households"] = pd.to_numeric(data[households], errors="coerce") if households in data else np.nan
    data = data[data[value] > 0]
    by_rate = bool(data["_households"].notna().any())
    ids: list[str] = [root]
    labels: list[str] = [root]
    parents: list[str] = [""]
    values: list[float] = [float(data[value].sum())]
    homes: list[float] = [float(data["_households"].sum())]
    keys: list[str] = [""]
    depths: list[int] = [0]
    for depth in range(len(levels)):
        cols = list(levels[: depth + 1])
        leaf = depth == len(levels) - 1
        agg_cols = cols + (["_key"] if leaf else [])
        agg = data.groupby(agg_cols, as_index=False).agg(v=(value, "sum"), h=("_households", "sum"))
        for row in agg.itertuples(index=False):
            path = [str(v) for v in row[: depth + 1]]
            node = root + "/" + "/".join(path)
            if leaf and key in df:
                node += f"#{row[depth + 1]}"  # two same-named compounds in one community stay apart
            ids.append(node)
            labels.append(path[-1])
            parents.append(root + ("/" + "/".join(path[:-1]) if depth else ""))
            values.append(float(row.v))
            homes.append(float(row.h))
            keys.append(str(row[depth + 1]) if leaf and key in df else "")
            depths.append(depth + 1)
    values_arr, homes_arr = np.array(values), np.array(homes)
    if by_rate:
        colour = np.where(homes_arr > 0, values_arr * 100.0 / np.where(homes_arr > 0, homes_arr, 1), np.nan)
        colour_title = text("ch_treemap_rate", lang)
        hover_colour = "<br>" + colour_title + ": %{color:.1f}"
    else:
        colour, colour_title, hover_colour = values_arr, text("ch_tickets", lang), ""
    leaves = [c for c in colour[[bool(k) for k in keys]] if not np.isnan(c)]
    top = float(np.nanpercentile(leaves, 95)) if leaves else float(np.nanmax(colour))
    unit = text("ch_unit_tickets", lang)
    maxdepth = -1 if len(data) <= TREEMAP_FULL_DEPTH else 3
    # the tiles drawn without their children hold name over count; a tile drawn with its children
    # has a one-line header above them
    last_shown = len(levels) if maxdepth < 0 else maxdepth - 1
    two_lines, one_line = "%{label}<br>%{value:,}" + unit, "%{label} · %{value:,}" + unit
    fig = go.Figure(
        go.Treemap(
            ids=ids, labels=labels, parents=parents, values=values, customdata=keys, branchvalues="total",
            maxdepth=maxdepth,
            texttemplate=[two_lines if depth >= last_shown else one_line for depth in depths],
            textposition="top left",
            marker={
                "colors": colour, "colorscale": "Reds", "cmin": 0, "cmax": max(top, 1e-9), "showscale": True,
                "colorbar": {"title": {"text": colour_title, "side": "right"}, "thickness": 14},
                "pad": {"t": 24, "l": 3, "r": 3, "b": 3},
            },
            pathbar={"visible": True},
            hovertemplate="%{label}<br>" + text("ch_tickets", lang) + ": %{value:,}" + hover_colour
            + "<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title)
    fig.update_layout(
        uniformtext={"minsize": TREEMAP_MIN_TEXT, "mode": "hide"},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        height=560,
    )
    return fig


def treemap_compound(fig: go.Figure, node_id: str | None) -> str | None:
    """The compound key of a treemap tile id (None for a subdistrict, a community or no tile)."""
    if not node_id or not fig.data:
        return None
    trace = fig.data[0]
    lookup = dict(
        zip(trace.ids or (), trace.customdata if trace.customdata is not None else (), strict=False)
    )
    return lookup.get(node_id) or None


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
        return empty(title, lang)
    values = data[value].astype(float).clip(lower=0)
    size = 6 + 30 * np.sqrt(values / values.max()) if values.max() > 0 else np.full(len(values), 8.0)
    fig = go.Figure(
        go.Scatter(
            x=data["lon"], y=data["lat"], mode="markers", text=data[name].map(plotly_literal), customdata=values,
            marker={
                "size": size, "color": values, "colorscale": "Reds", "showscale": True,
                "colorbar": {"title": {"text": text("ch_tickets", lang)}}, "line": {"width": 0.5, "color": "#555"},
            },
            hovertemplate="%{text}<br>" + text("ch_tickets", lang) + ": %{customdata:,}<extra></extra>",
            name=text("ch_compounds", lang),
        )
    )  # fmt: skip
    base_layout(fig, title, text("ch_lon", lang), text("ch_lat", lang))
    fig.update_layout(showlegend=False)
    mean_lat = float(data["lat"].mean())
    fig.update_yaxes(scaleanchor="x", scaleratio=1.0 / max(math.cos(math.radians(mean_lat)), 0.1))
    return fig


def category_mix_figure(
    mix: pd.DataFrame,
    *,
    category: str = "category",
    value: str = "tickets",
    title: str | None = None,
    lang: str = "zh",
) -> go.Figure:
    """A compound's tickets by category as a ring (`trends.category_mix` layout).

    Shares are written inside the slices (hidden where a slice is too thin to hold them) and the
    categories are named in the legend under the ring, so no label is cut off at the edge.
    """
    title = title or text("ch_category", lang)
    if mix is None or mix.empty:
        return empty(title, lang)
    labels = mix[category].map(
        lambda c: plotly_literal(value_text(c, lang))
    )  # 未分类 in the reader's language
    fig = go.Figure(
        go.Pie(
            labels=labels, values=mix[value], hole=0.4, sort=True, textinfo="percent", textposition="inside",
            insidetextorientation="horizontal", automargin=True,
            hovertemplate="%{label}<br>%{value:,}" + text("ch_unit_tickets", lang) + " (%{percent})<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, title)
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 50, "b": 90}, uniformtext={"minsize": TREEMAP_MIN_TEXT, "mode": "hide"}
    )
    return fig
