"""Tables that read like a report: catalogue headers, counts with thousands separators, one
decimal where a decimal means something, dates as dates, 是/否 for yes and no, and a dash where
a value is missing (never "None", "nan" or "NaT").

`report_table(df, prefix, kinds)` keeps the columns named in `kinds` (in that order), heads each
with the catalogue's `prefix + column` and gives the frame and the `column_config` to draw it
with (`ui.widgets.render_table(..., column_config=...)`). A column with a missing value is shown
as text, formatted the same way, since a number column would draw the gap as "None"; the others
stay numbers and dates, so they sort and download as such. A header whose catalogue key has a
`_help` twin (`prefix + column + "_help"`) carries it as its tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from analytics.reports import charts
from analytics.reports.text import CATALOGUE
from ui.i18n import lang, t, value_text

MISSING = "—"
# the kinds of column a report table shows
COUNT = "count"  # whole numbers: 1,234
DECIMAL = "decimal"  # one decimal: 12.3
RATIO = "ratio"  # a ratio near 1: 0.87
PROBABILITY = "probability"  # a p or q value: 0.043 (one decimal would read 0.04 as 0.0)
CHANGE = "change"  # a signed change in percent: +12.3%
SHARE = "share"  # a fraction as a percentage: 0.123 -> 12.3%
DATE = "date"  # 2024-03-01
DATETIME = "datetime"  # 2024-03-01 14:05
YESNO = "yesno"  # 是 / 否
VALUE = "value"  # a value kept in Chinese below the reports (a status): in the reader's language
TEXT = "text"  # data as it is (names, categories, ticket text)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _timestamp(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value)


# kind -> the text of one value (every kind can be shown as text)
_TEXT: dict[str, Callable[[Any], str]] = {
    COUNT: lambda v: f"{float(v):,.0f}",
    DECIMAL: lambda v: f"{float(v):,.1f}",
    RATIO: lambda v: f"{float(v):.2f}",
    PROBABILITY: lambda v: f"{float(v):.3f}",
    CHANGE: lambda v: f"{float(v):+.1f}%",
    SHARE: lambda v: f"{float(v):.1%}",
    DATE: lambda v: f"{_timestamp(v):%Y-%m-%d}",
    DATETIME: lambda v: f"{_timestamp(v):%Y-%m-%d %H:%M}",
    YESNO: lambda v: t("yes") if bool(v) else t("no"),
    VALUE: lambda v: str(value_text(v)),
    TEXT: lambda v: str(v),
}
# kinds that stay numbers or dates when nothing is missing, with how they are drawn
_TYPED: dict[str, Callable[..., Any]] = {
    COUNT: lambda **kw: st.column_config.NumberColumn(format="localized", **kw),
    DECIMAL: lambda **kw: st.column_config.NumberColumn(format="%.1f", **kw),
    RATIO: lambda **kw: st.column_config.NumberColumn(format="%.2f", **kw),
    PROBABILITY: lambda **kw: st.column_config.NumberColumn(format="%.3f", **kw),
    DATE: lambda **kw: st.column_config.DateColumn(format="YYYY-MM-DD", **kw),
    DATETIME: lambda **kw: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", **kw),
}


def _typed_values(values: pd.Series, kind: str) -> pd.Series:
    if kind == COUNT:
        return values.astype(float).round().astype("int64")
    if kind == DECIMAL:
        return values.astype(float).round(1)
    if kind in (RATIO, PROBABILITY):
        return values.astype(float).round(2 if kind == RATIO else 3)
    if kind == DATE:
        return pd.to_datetime(values).dt.date
    return pd.to_datetime(values).dt.floor("min")


def report_table(
    df: pd.DataFrame, prefix: str, kinds: Mapping[str, str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(frame, column_config) for `render_table`: see the module docstring."""
    frame = pd.DataFrame(index=range(len(df)))
    config: dict[str, Any] = {}
    for column, kind in kinds.items():
        if column not in df.columns:
            continue
        header = t(prefix + column)
        tip = f"{prefix}{column}_help"
        extra = {"help": t(tip)} if tip in CATALOGUE else {}
        values = df[column].reset_index(drop=True)
        gaps = values.map(_missing)
        if kind in _TYPED and not gaps.any():
            frame[header] = _typed_values(values, kind)
            config[header] = _TYPED[kind](**extra)
        else:
            frame[header] = [MISSING if gap else _TEXT[kind](v) for v, gap in zip(values, gaps, strict=True)]
            if extra:
                config[header] = st.column_config.TextColumn(**extra)
    return frame, config


GLOSSARY_PAGE = "pages/glossary.py"
GLOSSARY_SEARCH = "gl_q"  # the glossary's search box, bound to its address


def glossary_link(term: str | None = None) -> None:
    """A link to the 名词解释 page (opened at `term`, a search there), where this menu has one."""
    if "page_glossary" not in CATALOGUE:
        return
    try:
        st.page_link(
            GLOSSARY_PAGE,
            label=t("page_glossary"),
            query_params={GLOSSARY_SEARCH: term} if term else None,
        )
    except StreamlitAPIException:  # the page is not in the signed-in user's menu
        return


def counterfactual_chart(series: pd.DataFrame, start: Any, name: str, basis: str, key: str) -> None:
    """One compound's tickets against its counterfactual (`effects.scoped_effects`); a comparison
    trend standing in for the model's counterfactual is named as what it is."""
    from analytics.services import effects  # the model's modules load only on the pages that chart it

    comparison = basis == effects.BASIS_COMPARISON
    title = t("ef_comparison_title", name=name) if comparison else None
    fig = charts.counterfactual_figure(series, start, name=name, title=title, lang=lang())
    if comparison:
        fig.update_traces(name=t("ef_comparison_trace"), selector={"name": t("ch_counterfactual")})
    st.plotly_chart(fig, key=key)
    st.caption(t(f"ef_basis_note_{basis}"))
