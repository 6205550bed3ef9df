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
from analytics.services import auth, effects
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import labelled, lang, t, value_text
from ui.widgets import render_kpi, render_table, shown_errors

KEY = "tf_"  # session-state prefix of this page
ALL = "__all__"

# the columns each table shows, headed by the catalogue's tf_ledger_*, tf_hot_* and tf_action_*
LEDGER_COLUMNS = (
    "taskforce_id", "compound_id", "compound_name", "community", "leader", "head", "start_date", "end_date",
    "status", "tickets_before_monthly", "tickets_after_monthly", "target", "months_below", "meets_exit_rule",
)  # fmt: skip
HOT_COLUMNS = ("category", "tickets", "callers", "first_seen", "last_seen", "still_open", "sample_text")
ACTION_COLUMNS = ("date", "action", "cost", "user")


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


user = session.require("taskforces")
con = store.get_connection()
st.title(t("tf_title"))
if message := st.session_state.pop(f"{KEY}flash", None):
    st.success(message)

scope = user.scope_list()
if scope is not None:
    st.caption(t("tf_scope_note", n=len(scope)))
    leader = None
else:
    everyone = store.cached(records.ledger)
    leaders = sorted(everyone["leader"].dropna().unique().tolist()) if not everyone.empty else []
    picked = st.selectbox(
        t("tf_leader"),
        [ALL, *leaders],
        format_func=lambda v: t("tf_all_leaders") if v == ALL else strip_invisible(v),
        key=f"{KEY}leader",
    )
    leader = None if picked == ALL else picked

ledger = store.cached(records.ledger, leader=leader, compound_scope=scope)
if ledger.empty:
    st.info(t("tf_empty"))
    st.stop()

c1, c2, c3, c4 = st.columns(4)
with c1:
    render_kpi(t("tf_n_tf"), len(ledger))
with c2:
    render_kpi(t("tf_n_exit"), int(ledger["meets_exit_rule"].fillna(False).astype(bool).sum()))
with c3:
    render_kpi(t("tf_before"), f"{ledger['tickets_before_monthly'].mean():.1f}")
with c4:
    after = ledger["tickets_after_monthly"].dropna()
    render_kpi(t("tf_after"), f"{after.mean():.1f}" if not after.empty else "—")

st.subheader(t("tf_ledger"))
shown = ledger.assign(status=ledger["status"].map(value_text))
render_table(labelled(shown, "tf_ledger_", LEDGER_COLUMNS), key=f"{KEY}ledger", file_stem=t("tf_file_ledger"))

# one compound
options = ledger["taskforce_id"].tolist()
names = dict(zip(ledger["taskforce_id"], ledger["compound_name"].fillna(ledger["compound_id"]), strict=True))
tf_id = st.selectbox(
    t("tf_pick"),
    options,
    format_func=lambda i: strip_invisible(t("name_id", name=names[i], id=i)),
    key=f"{KEY}pick",
)
row = ledger[ledger["taskforce_id"] == tf_id].iloc[0]
compound_id = str(row["compound_id"])
start = pd.Timestamp(row["start_date"]).date()

st.subheader(f"{markdown_literal(names[tf_id])} · {t('tf_series')}")
series = compound_series(compound_id)
st.plotly_chart(
    charts.counterfactual_figure(series, start, name=str(names[tf_id]), lang=lang()),
    key=f"{KEY}series_chart",
)
st.caption(t("tf_cf_caveat"))

left, right = st.columns(2)
with left:
    st.subheader(t("tf_exit"))
    if pd.isna(row.get("target")):
        st.write(t("tf_no_target"))
    else:
        st.write(
            t(
                "tf_exit_text",
                target=f"{float(row['target']):g}",
                k=int(row["exit_months"]),
                n=int(row["months_below"]),
                verdict=t("tf_exit_ok") if bool(row["meets_exit_rule"]) else t("tf_exit_no"),
            )
        )
    st.write(t("tf_status_line", status=markdown_literal(value_text(row["status"]))))
    if auth.can(user, "log_action"):
        statuses = {status: value_text(status) for status in records.STATUSES}  # resolved now
        new_status = st.selectbox(
            t("tf_status"),
            list(statuses),
            index=list(statuses).index(row["status"]),
            format_func=statuses.get,
            key=f"{KEY}status",
        )
        if st.button(t("tf_set_status"), key=f"{KEY}set_status") and new_status != row["status"]:
            with shown_errors():
                records.set_status(con, int(tf_id), new_status, user=user.username)
                store.invalidate()
                flash(t("tf_status_saved"))
                st.rerun()
with right:
    st.subheader(t("tf_hot", n=repeats.HOT_ISSUE_DAYS))
    hot = store.cached(repeats.hot_issues, compound_ids=[compound_id])
    if hot.empty:
        st.write(t("tf_no_hot"))
    else:
        render_table(
            labelled(hot, "tf_hot_", HOT_COLUMNS),
            key=f"{KEY}hot",
            file_stem=t("tf_file_hot", compound=safe_file_stem(compound_id)),
        )

st.subheader(t("tf_actions"))
log = store.cached(records.actions, int(tf_id))
render_table(
    labelled(log, "tf_action_", ACTION_COLUMNS),
    key=f"{KEY}actions",
    file_stem=t("tf_file_actions", compound=safe_file_stem(compound_id)),
)
if auth.can(user, "log_action"):
    with st.form(f"{KEY}log_form", clear_on_submit=True):
        st.markdown(f"**{t('tf_log')}**")
        day = st.date_input(t("tf_date"), value=dt.date.today(), key=f"{KEY}log_date")
        text = st.text_area(t("tf_action"), key=f"{KEY}log_text")
        cost = st.number_input(t("tf_cost"), min_value=0.0, value=0.0, step=100.0, key=f"{KEY}log_cost")
        if st.form_submit_button(t("tf_save")):
            with shown_errors():
                records.log_action(con, int(tf_id), day, text, cost or None, user=user.username)
                store.invalidate()
                flash(t("tf_saved"))
                st.rerun()
