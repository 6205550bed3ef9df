"""专班跟踪 Task forces: the ledger, one compound's series, actions, exit rule and hot issues.

A task-force head sees only the compounds in their scope; leaders and analysts see all and can
filter by leader.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.metrics import repeats, trends
from analytics.reports import charts
from analytics.safe_text import markdown_literal, safe_file_stem, strip_invisible
from analytics.services import auth, effects, taskforces
from ui import session, store
from ui.i18n import labelled, lang, translator
from ui.widgets import render_kpi, render_table, shown_errors

KEY = "tf_"  # session-state prefix of this page
ALL = "__all__"

TEXT: dict[str, tuple[str, str]] = {
    "title": ("专班跟踪", "Task forces"),
    "scope_note": ("仅显示您负责的 {n} 个小区。", "Only the {n} compounds in your scope are shown."),
    "leader": ("包保领导", "Leader"),
    "all_leaders": ("（全部）", "(all)"),
    "n_tf": ("专班数", "Task forces"),
    "n_exit": ("满足撤出条件", "Meet the exit rule"),
    "before": ("进驻前月均工单", "Monthly tickets before"),
    "after": ("进驻后月均工单", "Monthly tickets since"),
    "ledger": ("专班台账", "Task-force ledger"),
    "empty": (
        "暂无专班。分析员可在“重点小区排名”页由排名快照创建专班。",
        "No task forces yet. Analysts create them from a ranking snapshot on the Ranking page.",
    ),
    "pick": ("选择小区", "Compound"),
    "series": ("月度工单与反事实区间", "Monthly tickets and counterfactual band"),
    "cf_caveat": (
        "虚线为若无专班的预计工单（反事实），阴影为其 95% 区间；实际值落在区间内说明变化可能只是正常波动。",
        "The dashed line is what tickets would have been without the task force (counterfactual), "
        "the band its 95% interval; actual values inside the band may be ordinary fluctuation.",
    ),
    "exit": ("撤出条件", "Exit rule"),
    "exit_text": (
        "目标：月工单低于 {target} 件，须连续 {k} 个月；目前已连续 {n} 个月。{verdict}",
        "Target: below {target} tickets a month for {k} consecutive months; so far {n}. {verdict}",
    ),
    "exit_ok": ("✅ 已满足撤出条件。", "✅ The exit rule is met."),
    "exit_no": ("⏳ 尚未满足，未解决不撤出。", "⏳ Not yet met: not withdrawn until solved."),
    "no_target": ("尚未设定撤出目标。", "No exit target set."),
    "status": ("状态", "Status"),
    "set_status": ("更新状态", "Update status"),
    "status_saved": ("状态已更新。", "Status updated."),
    "actions": ("工作记录", "Action log"),
    "log": ("新增工作记录", "Log an action"),
    "date": ("日期", "Date"),
    "action": ("工作内容", "Action"),
    "cost": ("费用（元）", "Cost (yuan)"),
    "save": ("保存", "Save"),
    "saved": ("工作记录已保存。", "Action saved."),
    "hot": ("近 {n} 天热点问题", "Hot issues, last {n} days"),
    "no_hot": ("近期没有集中反映的问题。", "No concentrated issue recently."),
}

LEDGER_COLUMNS: dict[str, tuple[str, str]] = {
    "taskforce_id": ("专班编号", "Task force"),
    "compound_id": ("小区编号", "Compound id"),
    "compound_name": ("小区", "Compound"),
    "community": ("社区", "Community"),
    "leader": ("包保领导", "Leader"),
    "head": ("专班组长", "Head"),
    "start_date": ("进驻日期", "Start"),
    "end_date": ("撤出日期", "End"),
    "status": ("状态", "Status"),
    "tickets_before_monthly": ("进驻前月均", "Monthly before"),
    "tickets_after_monthly": ("进驻后月均", "Monthly since"),
    "target": ("撤出目标（件/月）", "Exit target / month"),
    "months_below": ("连续低于目标月数", "Months below target"),
    "meets_exit_rule": ("满足撤出条件", "Meets exit rule"),
}


HOT_COLUMNS: dict[str, tuple[str, str]] = {
    "category": ("类别", "Category"),
    "tickets": ("工单数", "Tickets"),
    "callers": ("来电人数", "Callers"),
    "first_seen": ("首次", "First seen"),
    "last_seen": ("最近", "Last seen"),
    "still_open": ("仍未办结", "Still open"),
    "sample_text": ("最近一条内容", "Latest text"),
}
ACTION_COLUMNS: dict[str, tuple[str, str]] = {
    "date": ("日期", "Date"),
    "action": ("工作内容", "Action"),
    "cost": ("费用（元）", "Cost (yuan)"),
    "user": ("记录人", "Logged by"),
}


def compound_series(compound_id: str) -> pd.DataFrame:
    """The compound's months with the counterfactual band when the effects model has one,
    else just its observed monthly tickets."""
    try:
        res = store.cached(effects.stored_effects, by_category=False)
        series = res.per_compound[res.per_compound["compound_id"] == compound_id]
    except HotlineError:
        series = pd.DataFrame()
    if series.empty:
        counts = store.cached(trends.monthly_counts, "compound", compound_ids=[compound_id])
        series = counts.rename(columns={"valid_tickets": "observed"})[["month", "observed"]]
    return series


def flash(message: str) -> None:
    """A success message that survives the rerun after a write."""
    st.session_state[f"{KEY}flash"] = message


tr = translator(TEXT)


user = session.require("taskforces")
con = store.get_connection()
st.title(tr("title"))
if message := st.session_state.pop(f"{KEY}flash", None):
    st.success(message)

scope = user.scope_list()
if scope is not None:
    st.caption(tr("scope_note", n=len(scope)))
    leader = None
else:
    everyone = store.cached(taskforces.ledger)
    leaders = sorted(everyone["leader"].dropna().unique().tolist()) if not everyone.empty else []
    picked = st.selectbox(
        tr("leader"),
        [ALL, *leaders],
        format_func=lambda v: tr("all_leaders") if v == ALL else strip_invisible(v),
        key=f"{KEY}leader",
    )
    leader = None if picked == ALL else picked

ledger = store.cached(taskforces.ledger, leader=leader, compound_scope=scope)
if ledger.empty:
    st.info(tr("empty"))
    st.stop()

c1, c2, c3, c4 = st.columns(4)
with c1:
    render_kpi(tr("n_tf"), len(ledger))
with c2:
    render_kpi(tr("n_exit"), int(ledger["meets_exit_rule"].fillna(False).astype(bool).sum()))
with c3:
    render_kpi(tr("before"), f"{ledger['tickets_before_monthly'].mean():.1f}")
with c4:
    after = ledger["tickets_after_monthly"].dropna()
    render_kpi(tr("after"), f"{after.mean():.1f}" if not after.empty else "—")

st.subheader(tr("ledger"))
render_table(labelled(ledger, LEDGER_COLUMNS), key=f"{KEY}ledger", file_stem="专班台账")

# one compound
options = ledger["taskforce_id"].tolist()
names = dict(zip(ledger["taskforce_id"], ledger["compound_name"].fillna(ledger["compound_id"]), strict=True))
tf_id = st.selectbox(
    tr("pick"), options, format_func=lambda i: f"{strip_invisible(names[i])}（{i}）", key=f"{KEY}pick"
)
row = ledger[ledger["taskforce_id"] == tf_id].iloc[0]
compound_id = str(row["compound_id"])
start = pd.Timestamp(row["start_date"]).date()

st.subheader(f"{markdown_literal(names[tf_id])} · {tr('series')}")
series = compound_series(compound_id)
st.plotly_chart(
    charts.counterfactual_figure(series, start, name=str(names[tf_id]), lang=lang()),
    key=f"{KEY}series_chart",
)
st.caption(tr("cf_caveat"))

left, right = st.columns(2)
with left:
    st.subheader(tr("exit"))
    if pd.isna(row.get("target")):
        st.write(tr("no_target"))
    else:
        st.write(
            tr(
                "exit_text",
                target=f"{float(row['target']):g}",
                k=int(row["exit_months"]),
                n=int(row["months_below"]),
                verdict=tr("exit_ok") if bool(row["meets_exit_rule"]) else tr("exit_no"),
            )
        )
    st.write(f"{tr('status')}：{markdown_literal(row['status'])}")
    if auth.can(user, "log_action"):
        new_status = st.selectbox(
            tr("status"),
            list(taskforces.STATUSES),
            index=list(taskforces.STATUSES).index(row["status"]),
            key=f"{KEY}status",
        )
        if st.button(tr("set_status"), key=f"{KEY}set_status") and new_status != row["status"]:
            with shown_errors():
                taskforces.set_status(con, int(tf_id), new_status, user=user.username)
                store.invalidate()
                flash(tr("status_saved"))
                st.rerun()
with right:
    st.subheader(tr("hot", n=repeats.HOT_ISSUE_DAYS))
    hot = store.cached(repeats.hot_issues, compound_ids=[compound_id])
    if hot.empty:
        st.write(tr("no_hot"))
    else:
        render_table(
            labelled(hot, HOT_COLUMNS), key=f"{KEY}hot", file_stem=f"热点问题_{safe_file_stem(compound_id)}"
        )

st.subheader(tr("actions"))
log = store.cached(taskforces.actions, int(tf_id))
render_table(
    labelled(log, ACTION_COLUMNS), key=f"{KEY}actions", file_stem=f"工作记录_{safe_file_stem(compound_id)}"
)
if auth.can(user, "log_action"):
    with st.form(f"{KEY}log_form", clear_on_submit=True):
        st.markdown(f"**{tr('log')}**")
        day = st.date_input(tr("date"), value=dt.date.today(), key=f"{KEY}log_date")
        text = st.text_area(tr("action"), key=f"{KEY}log_text")
        cost = st.number_input(tr("cost"), min_value=0.0, value=0.0, step=100.0, key=f"{KEY}log_cost")
        if st.form_submit_button(tr("save")):
            with shown_errors():
                taskforces.log_action(con, int(tf_id), day, text, cost or None, user=user.username)
                store.invalidate()
                flash(tr("saved"))
                st.rerun()
