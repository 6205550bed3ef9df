"""总览 Overview: the month's headline numbers, the district trend, where tickets come from,
the biggest movers, surge alerts and the monthly briefing download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import config
from analytics.errors import HotlineError
from analytics.metrics import surges, trends
from analytics.reports import briefing, charts
from analytics.reports.alerts import reasons as alert_reasons
from analytics.reports.text import pct
from analytics.services import effects, ranking
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import error_text, labelled, lang, t
from ui.widgets import render_kpi, render_table

KEY = "ov_"  # session-state prefix of this page

# the columns each table shows, headed by the catalogue's ov_mover_* and ov_surge_*
MOVER_COLUMNS = ("arrow", "name", "community", "tickets", "last_year", "change", "change_pct")
SURGE_COLUMNS = ("name", "community", "tickets", "expected", "ratio", "q_value", "reason")


user = session.require("overview")
con = store.get_connection()
st.title(t("ov_title"))

district = store.cached(trends.monthly_counts, "district")
if district.empty or int(district["tickets"].sum()) == 0:
    st.info(t("ov_no_tickets"))
    st.stop()

months = [m.strftime("%Y-%m") for m in district["month"]]
try:
    default = str(store.cached(ranking.latest_complete_month))
except HotlineError:
    default = months[-1]
month = st.selectbox(
    t("ov_month"), list(reversed(months)), index=list(reversed(months)).index(default) if default in months else 0,
    key=f"{KEY}month",
)  # fmt: skip

kpis = store.cached(trends.district_kpis, month)
cols = st.columns(4)
with cols[0]:
    render_kpi(t("ov_tickets"), kpis["tickets"], delta=f"{t('ov_mom')} {pct(kpis['mom_pct'])}", help=None)
with cols[1]:
    render_kpi(t("ov_yoy"), pct(kpis["yoy_pct"]), delta=None)
with cols[2]:
    render_kpi(t("ov_response"), pct(kpis["response_rate"], signed=False))
with cols[3]:
    render_kpi(t("ov_resolution"), pct(kpis["resolution_rate"], signed=False))
cols = st.columns(4)
with cols[0]:
    render_kpi(t("ov_satisfaction"), pct(kpis["satisfaction_rate"], signed=False))
with cols[1]:
    render_kpi(t("ov_repeat"), pct(kpis["repeat_share"], signed=False))
with cols[2]:
    tf = kpis.get("taskforce")
    render_kpi(t("ov_tf_change"), pct(tf["yoy_pct"]) if tf else "—", help=t("ov_tf_help"))
with cols[3]:
    # the naive figure is never shown alone: the adjusted estimate and its interval sit beside it
    try:
        fx = store.cached(effects.estimate_effects, details=False).as_json()
    except HotlineError:
        fx = None
    if fx and fx["adjusted_effect_pct"] is not None:
        render_kpi(t("ov_tf_adjusted"), pct(fx["adjusted_effect_pct"]), help=t("ov_tf_adjusted_help"))
        st.caption(t("ov_tf_adjusted_ci", lo=pct(fx["ci_low_pct"]), hi=pct(fx["ci_high_pct"])))
        if fx["ci_low_pct"] <= 0 <= fx["ci_high_pct"]:
            st.caption(f":orange[{t('ov_tf_adjusted_zero')}]")
if kpis.get("festival_shift"):
    st.caption(t("ov_festival", v=pct(kpis.get("janfeb_yoy_pct"))))

st.subheader(t("ov_trend"))
ledger = store.cached(records.ledger)
start = pd.to_datetime(ledger["start_date"]).min() if not ledger.empty else None
st.plotly_chart(charts.trend_figure(district, start, lang=lang()), key=f"{KEY}trend_chart")

st.subheader(t("ov_where"))
where = store.cached(briefing.compound_month, month)
has_coords = bool(where[["lat", "lon"]].notna().all(axis=1).any())
view = "treemap"
if has_coords:
    view = st.segmented_control(
        t("ov_view"), ["treemap", "map"], format_func=lambda v: t(f"ov_{v}"), default="treemap", key=f"{KEY}view"
    ) or "treemap"  # fmt: skip
if view == "map":
    st.plotly_chart(charts.compound_map_figure(where, lang=lang()), key=f"{KEY}map_chart")
else:
    st.plotly_chart(charts.treemap_figure(where, lang=lang()), key=f"{KEY}treemap_chart")

st.subheader(t("ov_movers"))
movers = store.cached(trends.top_bottom, month, config.LIST_N)
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('ov_rises', n=config.LIST_N)}**")
    render_table(
        labelled(movers[movers["direction"] == "rise"], "ov_mover_", MOVER_COLUMNS),
        key=f"{KEY}rises",
        file_stem=t("ov_file_rises", month=month),
    )
with right:
    st.markdown(f"**{t('ov_falls', n=config.LIST_N)}**")
    render_table(
        labelled(movers[movers["direction"] == "fall"], "ov_mover_", MOVER_COLUMNS),
        key=f"{KEY}falls",
        file_stem=t("ov_file_falls", month=month),
    )

st.subheader(t("ov_surges"))
try:
    alerts = store.cached(surges.detect_surges, month)
except HotlineError as exc:
    st.info(error_text(exc))
else:
    q = alerts.attrs.get("q", surges.FDR_Q)
    if alerts.empty:
        st.success(t("ov_surges_none", q=q))
    else:
        shown = alerts.assign(reason=alert_reasons(alerts, lang()))
        shown["expected"] = shown["expected"].round(1)
        shown["ratio"] = shown["ratio"].round(2)
        render_table(
            labelled(shown, "ov_surge_", SURGE_COLUMNS),
            key=f"{KEY}surges",
            file_stem=t("ov_file_surges", month=month),
        )
    st.caption(t("ov_surges_note", n=alerts.attrs.get("n_tested", 0), q=q))

# the briefing is made when clicked, and only while this session may still export
grant = session.download_grant()
if grant is not None:
    st.subheader(t("ov_briefing"))
    left, right, _ = st.columns([1, 1, 2])
    stem, reader = t("ov_file_briefing", month=month), lang()
    xlsx_name, html_name = f"{stem}.xlsx", f"{stem}.html"
    with left:
        st.download_button(
            t("ov_briefing_xlsx"),
            data=grant.deferred(con, lambda: briefing.briefing_xlsx(con, month, lang=reader), xlsx_name),
            file_name=xlsx_name,
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{KEY}briefing_xlsx",
            on_click="ignore",
        )
    with right:
        st.download_button(
            t("ov_briefing_html"),
            data=grant.deferred(con, lambda: briefing.briefing_html(con, month, lang=reader), html_name),
            file_name=html_name,
            mime="text/html",
            key=f"{KEY}briefing_html",
            on_click="ignore",
        )
