"""整治成效 Effects: did complaints fall because of the task forces?

The naive drop is never shown alone: naive, placebo and the adjusted estimate (with its
interval) stand side by side, with the event study, by-category and displacement views, each
compound's counterfactual and the cost per avoided complaint. The model runs once per store
state: its result is stored in the store (rebuilt right after each write from the app) and read
back while it is fresh.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.reports import charts
from analytics.reports.effects_text import summaries
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import effects, taskforces
from ui import session, store
from ui.i18n import labelled, lang, pct, translator
from ui.widgets import render_kpi, render_table

KEY = "ef_"  # session-state prefix of this page

TEXT: dict[str, tuple[str, str]] = {
    "title": ("整治成效", "Effects"),
    "no_tf": ("还没有专班，暂无成效可评估。", "No task forces yet: nothing to evaluate."),
    "summary": ("十秒读懂", "In ten seconds"),
    "crosses": (
        "调整后效应的 95% 区间跨越零：不能据此宣称专班使工单下降。",
        "The adjusted effect's 95% interval crosses zero: a fall caused by the task forces cannot be claimed.",
    ),
    "naive": ("简单同比（官方口径）", "Naive year on year (official)"),
    "placebo": ("安慰剂：前一年同规则", "Placebo: same rule a year earlier"),
    "adjusted": ("调整后效应", "Adjusted effect"),
    "ci": ("95% 区间 {lo} 至 {hi}", "95% interval {lo} to {hi}"),
    "no_ci": ("无区间：仅供对照", "No interval: for comparison only"),
    "design": (
        "专班小区 {t} 个，对照小区 {c} 个；选定窗口 {w}，进驻 {s}。方法：{m}。",
        "{t} task-force compounds, {c} controls; selection window {w}, start {s}. Method: {m}.",
    ),
    "event": ("事件研究", "Event study"),
    "event_note": (
        "灰色为排名窗口之前的基线月份：它们应在零附近，说明专班小区与对照小区此前走势一致；橙色为被选中时的高峰。",
        "Grey points are baseline months before the ranking window: near zero means treated and controls moved "
        "in parallel before; orange is the spike that got the compounds selected.",
    ),
    "by_category": ("分类别效应", "By category"),
    "displacement": ("外溢检验", "Displacement"),
    "per_compound": ("各专班小区：实际与反事实", "Each compound: actual vs counterfactual"),
    "pick": ("选择小区", "Compound"),
    "cost": ("投入产出", "Cost per avoided complaint"),
    "total_cost": ("登记费用合计（元）", "Logged cost (yuan)"),
    "avoided": ("估计避免的工单（件）", "Complaints avoided (est.)"),
    "per_avoided": ("每避免一件工单的费用（元）", "Cost per avoided complaint (yuan)"),
    "range": ("区间 {lo} 至 {hi}", "interval {lo} to {hi}"),
    "notes": ("说明", "Notes"),
}
CATEGORY_COLUMNS: dict[str, tuple[str, str]] = {
    "category": ("类别", "Category"),
    "tickets": ("工单数", "Tickets"),
    "effect_pct": ("效应（%）", "Effect (%)"),
    "ci_low_pct": ("区间下限（%）", "CI low (%)"),
    "ci_high_pct": ("区间上限（%）", "CI high (%)"),
    "reading": ("解读", "Reading"),
}
DISPLACEMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "target": ("对象", "Target"),
    "compounds": ("小区数", "Compounds"),
    "controls": ("对照数", "Controls"),
    "effect_pct": ("变化（%）", "Change (%)"),
    "ci_low_pct": ("区间下限（%）", "CI low (%)"),
    "ci_high_pct": ("区间上限（%）", "CI high (%)"),
    "reading": ("解读", "Reading"),
}
COMPOUND_COLUMNS: dict[str, tuple[str, str]] = {
    "compound_id": ("小区编号", "Compound id"),
    "compound_name": ("小区", "Compound"),
    "start": ("进驻日期", "Start"),
    "observed_post": ("进驻后实际", "Observed after"),
    "expected_post": ("反事实预计", "Counterfactual"),
    "change_vs_expected_pct": ("相对反事实（%）", "vs counterfactual (%)"),
    "months_below": ("连续达标月数", "Months below target"),
    "meets_exit_rule": ("满足撤出条件", "Meets exit rule"),
}


def money(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


tr = translator(TEXT)


user = session.require("effects")
st.title(tr("title"))

if store.cached(taskforces.ledger).empty:
    st.info(tr("no_tf"))
    st.stop()

res = store.cached(effects.stored_effects)

st.subheader(tr("summary"))
summary_zh, summary_en = summaries(res)
st.info(summary_en if lang() == "en" else summary_zh)
if res.crosses_zero:
    st.warning(tr("crosses"), icon=":material/warning:")

cols = st.columns(3)
with cols[0]:
    render_kpi(tr("naive"), pct(res.naive_change_pct), help=tr("no_ci"))
with cols[1]:
    render_kpi(tr("placebo"), pct(res.placebo_change_pct), help=tr("no_ci"))
with cols[2]:
    render_kpi(
        tr("adjusted"),
        pct(res.adjusted_effect_pct),
        help=tr("ci", lo=pct(res.ci_low_pct), hi=pct(res.ci_high_pct)),
    )
    st.caption(tr("ci", lo=pct(res.ci_low_pct), hi=pct(res.ci_high_pct)))
three = pd.DataFrame(
    {
        "measure": ["naive", "placebo", "adjusted"],
        "estimate_pct": [res.naive_change_pct, res.placebo_change_pct, res.adjusted_effect_pct],
        "ci_low_pct": [None, None, res.ci_low_pct],
        "ci_high_pct": [None, None, res.ci_high_pct],
    }
)
st.plotly_chart(charts.effects_comparison_figure(three, lang=lang()), key=f"{KEY}three_chart")
design = {"w": res.selection_window, "s": res.start, "m": res.method}
st.caption(tr("design", t=res.treated, c=res.controls, **{k: markdown_literal(v) for k, v in design.items()}))

st.subheader(tr("event"))
st.plotly_chart(charts.event_study_figure(res.event_study, lang=lang()), key=f"{KEY}event_chart")
st.caption(tr("event_note"))

left, right = st.columns(2)
with left:
    st.subheader(tr("by_category"))
    st.plotly_chart(charts.category_effects_figure(res.by_category, lang=lang()), key=f"{KEY}category_chart")
    render_table(labelled(res.by_category, CATEGORY_COLUMNS), key=f"{KEY}category", file_stem="分类别效应")
with right:
    st.subheader(tr("displacement"))
    st.plotly_chart(charts.displacement_figure(res.displacement, lang=lang()), key=f"{KEY}displacement_chart")
    render_table(
        labelled(res.displacement, DISPLACEMENT_COLUMNS), key=f"{KEY}displacement", file_stem="外溢检验"
    )

st.subheader(tr("per_compound"))
summary = res.per_compound_summary
if not summary.empty and user.compound_scope is not None:
    summary = summary[summary["compound_id"].isin(user.compound_scope)]
render_table(labelled(summary, COMPOUND_COLUMNS), key=f"{KEY}compounds", file_stem="专班小区反事实")
if not summary.empty:
    names = dict(zip(summary["compound_id"], summary["compound_name"], strict=True))
    cid = st.selectbox(
        tr("pick"), list(names), format_func=lambda c: strip_invisible(f"{names[c]}（{c}）"), key=f"{KEY}pick"
    )
    start = summary.loc[summary["compound_id"] == cid, "start"].iloc[0]
    series = res.per_compound[res.per_compound["compound_id"] == cid]
    st.plotly_chart(
        charts.counterfactual_figure(series, start, name=names[cid], lang=lang()), key=f"{KEY}compound_chart"
    )

st.subheader(tr("cost"))
cost = res.cost or {}
cols = st.columns(3)
with cols[0]:
    render_kpi(tr("total_cost"), money(cost.get("total_cost")))
with cols[1]:
    render_kpi(tr("avoided"), money(cost.get("avoided")))
    st.caption(tr("range", lo=money(cost.get("avoided_low")), hi=money(cost.get("avoided_high"))))
with cols[2]:
    render_kpi(tr("per_avoided"), money(cost.get("cost_per_avoided")))
    st.caption(
        tr("range", lo=money(cost.get("cost_per_avoided_low")), hi=money(cost.get("cost_per_avoided_high")))
    )
if cost.get("caveat_zh"):
    st.warning(cost["caveat_zh"])

if res.notes:
    with st.expander(tr("notes")):
        for note in res.notes:
            st.write(f"- {note}")
