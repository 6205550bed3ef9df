"""总览 Overview: a period's headline numbers (a month, a quarter, the year to date or any dates,
each against the period before and the same dates last year), the district trend, where tickets
come from, the biggest movers, surge alerts and the monthly briefing download.

A compound picked in the movers or alerts tables, or clicked in the treemap, opens its 小区档案."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import calendar, config
from analytics.errors import HotlineError
from analytics.metrics import periods, surges, trends
from analytics.reports import briefing, charts
from analytics.reports.alerts import reasons as alert_reasons
from analytics.reports.text import pct
from analytics.services import auth, effects
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import error_text, lang, t
from ui.profile_link import clicked_point, open_profile, picked_row
from ui.report import CHANGE, COUNT, DECIMAL, TEXT, glossary_link, report_table
from ui.widgets import render_table

KEY = "ov_"  # session-state prefix of this page
TREEMAP_KEY = f"{KEY}treemap_chart"

# the columns each table shows and how, headed by the catalogue's ov_mover_* and ov_surge_*
MOVER_COLUMNS = {
    "name": TEXT, "community": TEXT, "tickets": COUNT, "last_year": COUNT, "change": COUNT, "change_pct": CHANGE,
}  # fmt: skip
SURGE_COLUMNS = {
    "name": TEXT, "community": TEXT, "tickets": COUNT, "expected": DECIMAL, "ratio": DECIMAL, "q_value": TEXT,
    "reason": TEXT,
}  # fmt: skip


def day(value: dt.date) -> str:
    return value.strftime("%Y-%m-%d")


def month_label(month: str) -> str:
    p = pd.Period(month, freq="M")
    return t("ov_month_label", y=p.year, m=p.month)


def span(p: periods.Period) -> str:
    """A period in words: a whole month as the month, anything else as its first and last day."""
    if p.whole_months and p.months == 1:
        return month_label(p.start.strftime("%Y-%m"))
    if p.kind == "quarter" and p.whole_months and p.months == 3:
        y, q = periods.quarter_of(p.start)
        return t("ov_quarter_label", y=y, q=q)
    return day(p.start) if p.start == p.end else t("ov_range", a=day(p.start), b=day(p.end))


def q_text(q: float) -> str:
    return "<0.01" if q < 0.01 else f"{q:.2f}"


def pick_period(first: pd.Timestamp, last: pd.Timestamp, default_month: str) -> periods.Period:
    """The period picker: its kind, then the month, quarter, year or dates (all cut at the data's end)."""
    months = [str(m) for m in pd.period_range(first.to_period("M"), last.to_period("M"), freq="M")][::-1]
    kind_col, pick_col = st.columns([2, 3])
    with kind_col:
        kind = st.segmented_control(
            t("ov_period"), periods.KINDS, format_func=lambda k: t(f"ov_period_{k}"), default="month",
            key=f"{KEY}period_kind",
        ) or "month"  # fmt: skip
    with pick_col:
        if kind == "quarter":
            quarters = list(dict.fromkeys(periods.quarter_of(m) for m in months))
            default = periods.quarter_of(default_month)
            # the key carries the language: the options are worded, and a switch starts afresh
            y, q = st.selectbox(
                t("ov_quarter"),
                quarters,
                index=quarters.index(default) if default in quarters else 0,
                format_func=lambda yq: t("ov_quarter_label", y=yq[0], q=yq[1]),
                key=f"{KEY}quarter_{lang()}",
            )
            return periods.quarter(y, q, last)
        if kind == "ytd":
            years = sorted({int(m[:4]) for m in months}, reverse=True)
            year = st.selectbox(t("ov_year"), years, key=f"{KEY}year")
            return periods.year_to_date(year, last)
        if kind == "custom":
            end = last.date()
            chosen = st.date_input(
                t("ov_dates"), value=(max(first.date(), end - dt.timedelta(days=89)), end),
                min_value=first.date(), max_value=end, format="YYYY-MM-DD", key=f"{KEY}dates",
            )  # fmt: skip
            chosen = tuple(chosen) if isinstance(chosen, list | tuple) else (chosen,)
            start = chosen[0] if chosen else end
            return periods.custom(start, chosen[-1] if chosen else end, last)
        month = st.selectbox(
            t("ov_month"),
            months,
            index=months.index(default_month) if default_month in months else 0,
            key=f"{KEY}month",
        )
        return periods.month(month, last)


user = session.require("overview")
con = store.get_connection()
st.title(t("ov_title"))
glossary_link()

district = store.cached(trends.monthly_counts, "district")
first_at, last_at = store.cached(trends.data_span)
if district.empty or int(district["tickets"].sum()) == 0 or last_at is None:
    st.info(t("ov_no_tickets"))
    st.stop()

complete = calendar.complete_month(last_at)
default_month = str(max(complete, first_at.to_period("M")))
try:
    period = pick_period(first_at, last_at, default_month)
except HotlineError as exc:
    st.warning(error_text(exc))
    st.stop()
previous, last_year = period.previous(), period.last_year()
# the briefing and the surge test read whole months: the latest complete one in the period
month = str(min(period.last_month, complete) if period.last_month >= first_at.to_period("M") else complete)

kpis = store.cached(trends.period_kpis, period)
st.caption(t("ov_period_line", period=span(period)))
ly_n = f"{kpis['last_year_tickets']:,}"
if previous is None:
    st.caption(t("ov_compare_line_ytd", ly=span(last_year), ly_n=ly_n))
else:
    st.caption(
        t(
            "ov_compare_line",
            prev=span(previous),
            prev_n=f"{kpis['previous_tickets']:,}",
            ly=span(last_year),
            ly_n=ly_n,
        )
    )
if period.partial:
    st.warning(t("ov_partial", date=day(period.end)))

cols = st.columns(4)
with cols[0]:
    mom = kpis["mom_pct"]
    st.metric(
        t(f"ov_tickets_{period.kind}"), f"{kpis['tickets']:,}",
        delta=pct(mom) if mom is not None else None, delta_color="inverse",
        delta_description=t("ov_mom_vs", prev=span(previous)) if previous is not None else None,
        help=t("ov_tickets_help", valid=f"{kpis['valid_tickets']:,}", share=pct(kpis["valid_share"], signed=False)),
    )  # fmt: skip
with cols[1]:
    change = kpis["tickets"] - kpis["last_year_tickets"]
    st.metric(
        t("ov_yoy"), pct(kpis["yoy_pct"]),
        delta=t("ov_yoy_delta", n=f"{change:+,}") if kpis["last_year_tickets"] else None, delta_color="inverse",
        delta_description=t("ov_yoy_vs", ly=span(last_year)), help=t("ov_yoy_help", ly=span(last_year), ly_n=ly_n),
    )  # fmt: skip
with cols[2]:
    st.metric(t("ov_response"), pct(kpis["response_rate"], signed=False), help=t("ov_response_help"))
with cols[3]:
    st.metric(t("ov_resolution"), pct(kpis["resolution_rate"], signed=False), help=t("ov_resolution_help"))
cols = st.columns(4)
with cols[0]:
    st.metric(
        t("ov_satisfaction"), pct(kpis["satisfaction_rate"], signed=False), help=t("ov_satisfaction_help")
    )
with cols[1]:
    st.metric(
        t("ov_repeat"),
        pct(kpis["repeat_share"], signed=False),
        help=t("ov_repeat_help", days=config.REPEAT_DAYS),
    )
# the naive figure is never shown alone: the adjusted estimate the 整治成效 page shows sits beside it
try:
    fx = store.cached(effects.stored_effects)
except HotlineError:
    fx = None
with cols[2]:
    tf = kpis.get("taskforce")
    st.metric(t("ov_tf_change"), pct(tf["yoy_pct"]) if tf else "—", help=t("ov_tf_help"))
    if tf and fx is not None and fx.naive_change_pct is not None:
        st.caption(
            t("ov_tf_consistency", naive=pct(fx.naive_change_pct), adjusted=pct(fx.adjusted_effect_pct))
        )
        if auth.can(user, "effects"):
            st.page_link("pages/effects.py", label=t("ov_tf_effects_link"))
with cols[3]:
    if fx is not None and fx.adjusted_effect_pct is not None:
        st.metric(t("ov_tf_adjusted"), pct(fx.adjusted_effect_pct), help=t("ov_tf_adjusted_help"))
        st.caption(t("ov_tf_adjusted_ci", lo=pct(fx.ci_low_pct), hi=pct(fx.ci_high_pct)))
        if fx.crosses_zero:
            st.caption(f":orange[{t('ov_tf_adjusted_zero')}]")
if kpis.get("festival_shift"):
    v = kpis.get("janfeb_yoy_pct")
    st.caption(t("ov_festival", v=pct(v)) if v is not None else t("ov_festival_no_janfeb"))

st.subheader(t("ov_trend"))
ledger = store.cached(records.ledger)
start = pd.to_datetime(ledger["start_date"]).min() if not ledger.empty else None
st.plotly_chart(
    charts.trend_figure(
        district, start, lang=lang(), data_end=last_at, last_year=True, highlight=(period.start, period.end)
    ),
    key=f"{KEY}trend_chart",
)
st.caption(t("ov_trend_note"))

st.subheader(t("ov_where"))
where = store.cached(trends.compound_totals, period)
has_coords = bool(where[["lat", "lon"]].notna().all(axis=1).any())
view = "treemap"
if has_coords:
    view = st.segmented_control(
        t("ov_view"), ["treemap", "map"], format_func=lambda v: t(f"ov_{v}"), default="treemap", key=f"{KEY}view"
    ) or "treemap"  # fmt: skip
if view == "map":
    st.plotly_chart(charts.compound_map_figure(where, lang=lang()), key=f"{KEY}map_chart")
else:
    tree = charts.treemap_figure(where, lang=lang())
    clicked = clicked_point(st.session_state.get(TREEMAP_KEY))
    if clicked:
        open_profile(charts.treemap_compound(tree, clicked.get("id")))
        # a subdistrict or community: keep it open when the page draws again
        if clicked.get("id") in set(tree.data[0].ids or ()):
            tree.update_traces(level=clicked["id"])
    st.plotly_chart(tree, key=TREEMAP_KEY, on_select="rerun", selection_mode="points")
    st.caption(t("ov_where_note"))

st.subheader(t("ov_movers"))
movers = store.cached(trends.movers, period, config.LIST_N)
st.caption(t("ov_movers_note", ly=span(last_year)))
left, right = st.columns(2)
for column, direction, heading in ((left, "rise", "ov_rises"), (right, "fall", "ov_falls")):
    with column:
        st.markdown(f"**{t(heading, n=config.LIST_N)}**")
        part = movers[movers["direction"] == direction].reset_index(drop=True)
        frame, formats = report_table(part, "ov_mover_", MOVER_COLUMNS)
        event = render_table(
            frame, key=f"{KEY}{direction}s", column_config=formats, selectable=True,
            file_stem=t(f"ov_file_{direction}s", month=f"{day(period.start)}_{day(period.end)}"),
        )  # fmt: skip
        open_profile(picked_row(event, list(part["compound_id"])))

st.subheader(t("ov_surges"), help=t("ov_surges_help"))
st.caption(t("ov_surges_month", month=month_label(month)))
try:
    alerts = store.cached(surges.detect_surges, month)
except HotlineError as exc:
    st.info(error_text(exc))
else:
    q = alerts.attrs.get("q", surges.FDR_Q)
    if alerts.empty:
        st.success(t("ov_surges_none", q=q))
    else:
        shown = alerts.assign(reason=alert_reasons(alerts, lang()), q_value=alerts["q_value"].map(q_text))
        frame, formats = report_table(shown, "ov_surge_", SURGE_COLUMNS)
        event = render_table(
            frame, key=f"{KEY}surges", column_config=formats, selectable=True,
            file_stem=t("ov_file_surges", month=month),
        )  # fmt: skip
        open_profile(picked_row(event, list(alerts["compound_id"])))
        st.caption(t("ov_pick_hint"))
    st.caption(t("ov_surges_note", n=alerts.attrs.get("n_tested", 0), q=q))

# the briefing is made when clicked; it holds district totals, so only roles that see the
# overview and may export (never a task-force head, never a scoped account) are offered it
grant = session.download_grant(needs=("overview", "export"))
if grant is not None and grant.scope is None:
    st.subheader(t("ov_briefing"))
    reader = lang()
    for column, fmt in zip(st.columns(len(briefing.FORMATS)), briefing.FORMATS, strict=True):
        name = briefing.file_name(month, fmt, reader)
        with column:
            st.download_button(
                t(f"br_download_{fmt}"),
                data=grant.deferred(con, lambda fmt=fmt: briefing.make(con, month, fmt, lang=reader), name),
                file_name=name,
                mime=briefing.MIME[fmt],
                key=f"{KEY}briefing_{fmt}",
                help=t("br_download_help"),
                on_click="ignore",
                width="stretch",
            )
