"""What every chart shares: colours, fonts, the layout (legend below the plot, out of the way of
titles and markers), the 'no data' figure and the task-force start marker."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analytics.reports.text import text

LANGS = ("zh", "en")
# A colour per meaning, the same on every chart: red = worse / treated, blue = comparison.
COLOR_MAIN = "#c0392b"
COLOR_COMPARE = "#2c7fb8"
COLOR_NEUTRAL = "#7f8c8d"
COLOR_BAND = "rgba(44,127,184,0.18)"
COLOR_GOOD = "#27ae60"
COLOR_LAST_YEAR = "#95a5a6"
COLOR_HIGHLIGHT = "rgba(241,196,15,0.15)"
FONT_FAMILY = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
FONT_SIZE = 13
# the legend sits under the plot, anchored to the bottom of the figure, so it never covers a
# title, an annotation or a marker drawn along the top of the plot
LEGEND = {"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"}
MARGIN = {"l": 50, "r": 20, "t": 60, "b": 100}
ROW_HEIGHT = 22  # px per bar or name on charts that list compounds
NAME_FONT_SIZE = 12


def base_layout(
    fig: go.Figure, title: str, x_title: str | None = None, y_title: str | None = None
) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        font={"family": FONT_FAMILY, "size": FONT_SIZE},
        margin=dict(MARGIN),
        legend=dict(LEGEND),
        hovermode="closest",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def empty(title: str, lang: str) -> go.Figure:
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
    return base_layout(fig, title)


def mark_start(
    fig: go.Figure, start: date | datetime | str | pd.Timestamp | float | None, lang: str = "zh"
) -> go.Figure:
    """Add a dashed vertical line at the task-force start, labelled just inside the top of the plot.

    A shape plus an annotation (not `add_vline(annotation_text=...)`) because the latter fails on
    date axes in some plotly versions.
    """
    if start is None:
        return fig
    x = start if isinstance(start, int | float) else pd.Timestamp(start)
    fig.add_shape(
        type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper",
        line={"color": COLOR_MAIN, "dash": "dash", "width": 2}, name="start",
    )  # fmt: skip
    fig.add_annotation(
        x=x, y=1.0, xref="x", yref="paper", text=text("ch_start", lang), showarrow=False,
        xanchor="left", yanchor="top", xshift=4, font={"color": COLOR_MAIN}, bgcolor="rgba(255,255,255,0.85)",
    )  # fmt: skip
    return fig


def start_lines(fig: go.Figure) -> list[Any]:
    """The start-marker shapes of a figure (used by tests and by pages that check a figure)."""
    return [s for s in fig.layout.shapes if getattr(s, "name", None) == "start"]


def list_height(rows: int, minimum: int = 360) -> int:
    """The height of a chart with one row per compound: every name gets room for its label."""
    return max(minimum, ROW_HEIGHT * rows + MARGIN["t"] + MARGIN["b"] + 40)


def unique_labels(labels: list[str], ids: list[Any] | None = None) -> list[str]:
    """Labels for a category axis: a name that two rows share gets its id (or number) added, so
    the two rows are not drawn on top of each other."""
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    out = []
    for i, label in enumerate(labels):
        if seen[label] > 1:
            label = f"{label}（{ids[i] if ids is not None else i + 1}）"
        out.append(label)
    return out
