"""总览 Overview: the month's headline numbers, the district trend, where tickets come from,
the biggest movers, surge alerts and the monthly briefing download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import config
from analytics.errors import HotlineError
from analytics.metrics import surges, trends
from analytics.reports import briefing, charts
from analytics.services import effects, ranking, taskforces
from ui import session, store
from ui.i18n import error_text, labelled, lang, pct, translator
from ui.widgets import render_kpi, render_table

KEY = "ov_"  # session-state prefix of this page

TEXT: dict[str, tuple[str, str]] = {
    "title": ("总览", "Overview"),
    "month": ("月份", "Month"),
    "tickets": ("本月工单", "Tickets this month"),
    "yoy": ("同比", "Year on year"),
    "mom": ("环比", "Month on month"),
    "response": ("响应率", "Response rate"),
    "resolution": ("解决率", "Resolution rate"),
    "satisfaction": ("满意率", "Satisfaction rate"),
    "repeat": ("重复来电占比", "Repeat-call share"),
    "tf_change": ("专班小区同比", "Task-force compounds, YoY"),
    "tf_help": (
        "专班小区本月工单与去年同月相比（简单同比，含高峰自然回落；调整后成效见“整治成效”页）。",
        "Task-force compounds this month vs the same month last year (naive: includes the natural "
        "decline after a peak; see Effects for the adjusted estimate).",
    ),
    "tf_adjusted": ("专班调整后成效", "Task forces, adjusted effect"),
    "tf_adjusted_ci": ("95% 区间 {lo} 至 {hi}", "95% interval {lo} to {hi}"),
    "tf_adjusted_help": (
        "扣除季节和高峰自然回落后的估计（基线在排名窗口之前）。区间跨零时不能确认专班带来了下降。",
        "Net of season and the natural fall after a peak (baseline before the ranking window). "
        "When the interval crosses zero, a decline caused by the task forces is not confirmed.",
    ),
    "tf_adjusted_zero": ("区间跨零：不能确认成效", "Interval crosses zero: not confirmed"),
    "festival": (
        "本月与去年同月的春节月份不同，同比失真；1-2 月合计同比为 {v}。",
        "The Spring Festival falls in a different month than last year, so this YoY is distorted; "
        "January-February combined: {v}.",
    ),
    "no_tickets": (
        "库中还没有工单。请分析员先在“数据上传”页导入工单。",
        "No tickets yet. An analyst can upload them on the Data upload page.",
    ),
    "trend": ("全区月度趋势", "District monthly trend"),
    "where": ("工单分布", "Where tickets come from"),
    "view": ("视图", "View"),
    "treemap": ("街道-社区-小区", "Subdistrict-community-compound"),
    "map": ("小区位置（无底图）", "Compound locations (no base map)"),
    "movers": ("同比变化最大的小区", "Biggest changes vs last year"),
    "rises": ("上升前 {n}", "Top {n} rises"),
    "falls": ("下降前 {n}", "Top {n} falls"),
    "surges": ("异常上升预警", "Surge alerts"),
    "surges_none": (
        "本月没有小区工单显著高于其季节基线（错误预警率控制在 {q:.0%}）。",
        "No compound is significantly above its seasonal baseline this month (false-alarm rate held at {q:.0%}).",
    ),
    "surges_note": (
        "共检测 {n} 个小区，按 Benjamini-Hochberg 方法控制错误预警率 {q:.0%}。",
        "{n} compounds tested; Benjamini-Hochberg keeps the false-alarm rate at {q:.0%}.",
    ),
    "briefing": ("月度通报", "Monthly briefing"),
    "briefing_xlsx": ("下载通报（Excel）", "Download briefing (Excel)"),
    "briefing_html": ("下载通报（可打印网页）", "Download briefing (printable HTML)"),
}
MOVER_COLUMNS: dict[str, tuple[str, str]] = {
    "arrow": ("", ""),
    "name": ("小区", "Compound"),
    "community": ("社区", "Community"),
    "tickets": ("本月", "This month"),
    "last_year": ("去年同月", "Last year"),
    "change": ("增减", "Change"),
    "change_pct": ("变化（%）", "Change (%)"),
}
SURGE_COLUMNS: dict[str, tuple[str, str]] = {
    "name": ("小区", "Compound"),
    "community": ("社区", "Community"),
    "tickets": ("本月", "This month"),
    "expected": ("预期", "Expected"),
    "ratio": ("倍数", "Ratio"),
    "q_value": ("q 值", "q value"),
    "reason": ("原因", "Reason"),
}


tr = translator(TEXT)


user = session.require("overview")
con = store.get_connection()
st.title(tr("title"))

district = store.cached(trends.monthly_counts, "district")
if district.empty or int(district["tickets"].sum()) == 0:
    st.info(tr("no_tickets"))
    st.stop()

months = [m.strftime("%Y-%m") for m in district["month"]]
try:
    default = str(store.cached(ranking.latest_complete_month))
except HotlineError:
    default = months[-1]
month = st.selectbox(
    tr("month"), list(reversed(months)), index=list(reversed(months)).index(default) if default in months else 0,
    key=f"{KEY}month",
)  # fmt: skip

kpis = store.cached(trends.district_kpis, month)
cols = st.columns(4)
with cols[0]:
    render_kpi(tr("tickets"), kpis["tickets"], delta=f"{tr('mom')} {pct(kpis['mom_pct'])}", help=None)
with cols[1]:
    render_kpi(tr("yoy"), pct(kpis["yoy_pct"]), delta=None)
with cols[2]:
    render_kpi(tr("response"), pct(kpis["response_rate"], signed=False))
with cols[3]:
    render_kpi(tr("resolution"), pct(kpis["resolution_rate"], signed=False))
cols = st.columns(4)
with cols[0]:
    render_kpi(tr("satisfaction"), pct(kpis["satisfaction_rate"], signed=False))
with cols[1]:
    render_kpi(tr("repeat"), pct(kpis["repeat_share"], signed=False))
with cols[2]:
    tf = kpis.get("taskforce")
    render_kpi(tr("tf_change"), pct(tf["yoy_pct"]) if tf else "—", help=tr("tf_help"))
with cols[3]:
    # the naive figure is never shown alone: the adjusted estimate and its interval sit beside it
    try:
        fx = store.cached(effects.estimate_effects, details=False).as_json()
    except HotlineError:
        fx = None
    if fx and fx["adjusted_effect_pct"] is not None:
        render_kpi(tr("tf_adjusted"), pct(fx["adjusted_effect_pct"]), help=tr("tf_adjusted_help"))
        st.caption(tr("tf_adjusted_ci", lo=pct(fx["ci_low_pct"]), hi=pct(fx["ci_high_pct"])))
        if fx["ci_low_pct"] <= 0 <= fx["ci_high_pct"]:
            st.caption(f":orange[{tr('tf_adjusted_zero')}]")
if kpis.get("festival_shift"):
    st.caption(tr("festival", v=pct(kpis.get("janfeb_yoy_pct"))))

st.subheader(tr("trend"))
ledger = store.cached(taskforces.ledger)
start = pd.to_datetime(ledger["start_date"]).min() if not ledger.empty else None
st.plotly_chart(charts.trend_figure(district, start, lang=lang()), key=f"{KEY}trend_chart")

st.subheader(tr("where"))
where = store.cached(briefing.compound_month, month)
has_coords = bool(where[["lat", "lon"]].notna().all(axis=1).any())
view = "treemap"
if has_coords:
    view = st.segmented_control(
        tr("view"), ["treemap", "map"], format_func=tr, default="treemap", key=f"{KEY}view"
    ) or "treemap"  # fmt: skip
if view == "map":
    st.plotly_chart(charts.compound_map_figure(where, lang=lang()), key=f"{KEY}map_chart")
else:
    st.plotly_chart(charts.treemap_figure(where, lang=lang()), key=f"{KEY}treemap_chart")

st.subheader(tr("movers"))
movers = store.cached(trends.top_bottom, month, config.LIST_N)
left, right = st.columns(2)
with left:
    st.markdown(f"**{tr('rises', n=config.LIST_N)}**")
    render_table(
        labelled(movers[movers["direction"] == "rise"], MOVER_COLUMNS),
        key=f"{KEY}rises",
        file_stem=f"上升前十_{month}",
    )
with right:
    st.markdown(f"**{tr('falls', n=config.LIST_N)}**")
    render_table(
        labelled(movers[movers["direction"] == "fall"], MOVER_COLUMNS),
        key=f"{KEY}falls",
        file_stem=f"下降前十_{month}",
    )

st.subheader(tr("surges"))
try:
    alerts = store.cached(surges.detect_surges, month)
except HotlineError as exc:
    st.info(error_text(exc))
else:
    q = alerts.attrs.get("q", surges.FDR_Q)
    if alerts.empty:
        st.success(tr("surges_none", q=q))
    else:
        shown = alerts.copy()
        if lang() == "en":
            shown["reason"] = shown["reason_en"]
        shown["expected"] = shown["expected"].round(1)
        shown["ratio"] = shown["ratio"].round(2)
        render_table(labelled(shown, SURGE_COLUMNS), key=f"{KEY}surges", file_stem=f"异常上升_{month}")
    st.caption(tr("surges_note", n=alerts.attrs.get("n_tested", 0), q=q))

# the briefing is made when clicked, and only while this session may still export
grant = session.download_grant()
if grant is not None:
    st.subheader(tr("briefing"))
    left, right, _ = st.columns([1, 1, 2])
    xlsx_name, html_name = f"月度通报_{month}.xlsx", f"月度通报_{month}.html"
    with left:
        st.download_button(
            tr("briefing_xlsx"),
            data=grant.deferred(con, lambda: briefing.briefing_xlsx(con, month), xlsx_name),
            file_name=xlsx_name,
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{KEY}briefing_xlsx",
            on_click="ignore",
        )
    with right:
        st.download_button(
            tr("briefing_html"),
            data=grant.deferred(con, lambda: briefing.briefing_html(con, month), html_name),
            file_name=html_name,
            mime="text/html",
            key=f"{KEY}briefing_html",
            on_click="ignore",
        )
