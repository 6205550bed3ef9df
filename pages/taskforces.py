"""专班跟踪 Task forces: reminders of exit reviews due, this month's surge alerts, the ledger,
one compound's series, actions, exit rule and hot issues.

A task-force head sees only the compounds in their scope; leaders and analysts see all and can
filter by leader. Every compound links to its 小区档案.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.metrics import repeats, surges
from analytics.reports.alerts import reasons as alert_reasons
from analytics.safe_text import markdown_literal, safe_file_stem, strip_invisible
from analytics.services import auth, effects, freshness, ranking
from analytics.services.taskforces import deadlines, records
from ui import session, store
from ui.i18n import lang, t, value_text
from ui.profile_link import PROFILE_PAGE, open_profile, picked_row
from ui.report import (
    COUNT,
    DATE,
    DATETIME,
    DECIMAL,
    TEXT,
    VALUE,
    YESNO,
    counterfactual_chart,
    glossary_link,
    report_table,
)
from ui.widgets import render_kpi, render_table, shown_errors

KEY = "tf_"  # session-state prefix of this page
ALL = "__all__"
REMINDER_ITEMS = 10  # a reminder names this many task forces, then says how many more

# the columns each table shows (headed by the catalogue's tf_ledger_*, tf_hot_*, tf_action_*)
# and how each reads
LEDGER_COLUMNS = {
    "taskforce_id": COUNT, "compound_id": TEXT, "compound_name": TEXT, "community": TEXT, "leader": TEXT,
    "head": TEXT, "start_date": DATE, "end_date": DATE, "status": VALUE, "tickets_before_monthly": DECIMAL,
    "tickets_after_monthly": DECIMAL, "target": DECIMAL, "months_below": COUNT, "meets_exit_rule": YESNO,
    "review_date": DATE, "review_due": TEXT,
}  # fmt: skip
HOT_COLUMNS = {
    "category": TEXT, "tickets": COUNT, "callers": COUNT, "first_seen": DATETIME, "last_seen": DATETIME,
    "still_open": YESNO, "sample_text": TEXT,
}  # fmt: skip
ACTION_COLUMNS = {"date": DATE, "action": TEXT, "cost": COUNT, "user": TEXT}


def due_text(state: str, days: int | None) -> str:
    """How far off a task force's exit review is, in words."""
    if state == deadlines.CLOSED or days is None or pd.isna(days):
        return t("tf_review_closed")
    if days < 0:
        return t("tf_review_overdue", n=-int(days))
    return t("tf_review_today") if days == 0 else t("tf_review_in", n=int(days))


def display_name(name: object, compound_id: str) -> str:
    """A compound's name, or its id where the registry has none."""
    return name if isinstance(name, str) and name.strip() else compound_id


def flash(message: str) -> None:
    """A success message that survives the rerun after a write."""
    st.session_state[f"{KEY}flash"] = message


def show_reminders(schedule: pd.DataFrame) -> None:
    """One warning naming the exit reviews that are overdue or due within REMINDER_DAYS."""
    due = deadlines.due_reviews(schedule)
    if due.empty:
        return
    lines = [
        t(
            "tf_reminder_item",
            name=markdown_literal(
                t("name_id", name=display_name(r.compound_name, r.compound_id), id=r.compound_id)
            ),
            when=due_text(r.review_state, r.days_left),
            date=f"{r.review_date:%Y-%m-%d}",
        )
        for r in due.head(REMINDER_ITEMS).itertuples(index=False)
    ]
    if len(due) > REMINDER_ITEMS:
        lines.append(t("tf_reminder_more", n=len(due) - REMINDER_ITEMS))
    overdue = int((due["review_state"] == deadlines.OVERDUE).sum())
    head = t("tf_reminder", overdue=overdue, due=len(due) - overdue, days=deadlines.REMINDER_DAYS)
    st.warning("\n".join([head, *(f"- {line}" for line in lines)]))


def show_surges(compound_ids: list[str]) -> None:
    """This month's surge alerts among `compound_ids`, each linking to its 小区档案."""
    st.subheader(t("tf_surges"), help=t("tf_surges_help"))
    try:
        month = str(store.cached(ranking.latest_complete_month))
        alerts = store.cached(surges.alerts_in, month, tuple(compound_ids))
    except HotlineError as exc:
        st.caption(t("tf_surges_unavailable", reason=markdown_literal(exc.message(lang()))))
        return
    if alerts.empty:
        st.caption(t("tf_surges_none", month=month))
        return
    st.caption(t("tf_surges_month", month=month, n=len(alerts)))
    for row, reason in zip(alerts.itertuples(index=False), alert_reasons(alerts, lang()), strict=True):
        name = strip_invisible(t("name_id", name=display_name(row.name, row.compound_id), id=row.compound_id))
        st.page_link(
            PROFILE_PAGE,
            label=markdown_literal(t("tf_surge_item", name=name, reason=reason)),
            query_params={"compound": row.compound_id},
        )


user = session.require("taskforces")
con = store.get_connection()
st.title(t("tf_title"))
glossary_link()
if message := st.session_state.pop(f"{KEY}flash", None):
    st.success(message)

scope = user.scope_list()
if scope is not None:
    st.caption(t("tf_scope_note", n=len(scope)))
    leader = None
else:
    everyone = store.cached(records.ledger)
    leaders = sorted(everyone["leader"].dropna().unique().tolist()) if not everyone.empty else []
    # labels made now: a format function that called t() later could speak another language
    leader_labels = {ALL: t("tf_all_leaders"), **{name: strip_invisible(name) for name in leaders}}
    picked = st.selectbox(
        t("tf_leader"), list(leader_labels), format_func=leader_labels.get, key=f"{KEY}leader"
    )
    leader = None if picked == ALL else picked

ledger = store.cached(records.ledger, leader=leader, compound_scope=scope)
if ledger.empty:
    st.info(t("tf_empty"))
    if scope:
        show_surges(scope)
    st.stop()

# deadlines are days on the office's calendar, not on the data's; the made-up demo district
# keeps a calendar of its own, which ends on its last ticket
as_of = store.cached(freshness.data_as_of)
today = as_of.latest_ticket if as_of.demo and as_of.latest_ticket else dt.date.today()
if today != dt.date.today():
    st.caption(t("tf_demo_calendar", date=f"{today:%Y-%m-%d}"))
schedule = deadlines.review_schedule(ledger, today)
show_reminders(schedule)
show_surges(scope if scope is not None else ledger["compound_id"].tolist())

c1, c2, c3, c4 = st.columns(4)
with c1:
    render_kpi(t("tf_n_tf"), len(ledger))
with c2:
    render_kpi(
        t("tf_n_exit"),
        int(ledger["meets_exit_rule"].fillna(False).astype(bool).sum()),
        help=t("tf_exit_help"),
    )
with c3:
    render_kpi(t("tf_before"), f"{ledger['tickets_before_monthly'].mean():.1f}", help=t("tf_before_help"))
with c4:
    after = ledger["tickets_after_monthly"].dropna()
    render_kpi(t("tf_after"), f"{after.mean():.1f}" if not after.empty else "—", help=t("tf_after_help"))

st.subheader(t("tf_ledger"))
st.caption(t("tf_ledger_click"))
shown = schedule.assign(
    review_due=[due_text(s, d) for s, d in zip(schedule["review_state"], schedule["days_left"], strict=True)]
)
frame, config = report_table(shown, "tf_ledger_", LEDGER_COLUMNS)
event = render_table(
    frame, key=f"{KEY}ledger", file_stem=t("tf_file_ledger"), column_config=config, selectable=True
)
open_profile(picked_row(event, list(schedule["compound_id"])))  # a picked row opens its 小区档案

# one compound
names = dict(
    zip(schedule["taskforce_id"], schedule["compound_name"].fillna(schedule["compound_id"]), strict=True)
)
picks = {
    i: strip_invisible(t("name_id", name=names[i], id=c))
    for i, c in zip(schedule["taskforce_id"], schedule["compound_id"], strict=True)
}
tf_id = st.selectbox(t("tf_pick"), list(picks), format_func=picks.get, key=f"{KEY}pick")
row = schedule[schedule["taskforce_id"] == tf_id].iloc[0]
compound_id = str(row["compound_id"])
start = pd.Timestamp(row["start_date"]).date()

st.subheader(t("tf_series_of", name=markdown_literal(names[tf_id])))
st.page_link(
    PROFILE_PAGE,
    label=t("tf_open_profile"),
    query_params={"compound": compound_id},
)
mine = store.cached(effects.scoped_effects, (compound_id,))
basis = mine.summary["basis"].iloc[0] if len(mine.summary) else effects.BASIS_NONE
counterfactual_chart(mine.series, start, str(names[tf_id]), basis, f"{KEY}series_chart")

left, right = st.columns(2)
with left:
    st.subheader(t("tf_exit"), help=t("tf_exit_help"))
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
    planned = pd.Timestamp(row["review_date"]).date()
    basis_key = "tf_review_set" if bool(row["review_set"]) else "tf_review_rule"
    st.write(
        t(
            "tf_review_line",
            date=f"{planned:%Y-%m-%d}",
            when=due_text(row["review_state"], row["days_left"]),
            basis=t(basis_key, k=int(row["exit_months"])),
        )
    )
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
    if auth.can(user, "save_snapshot"):  # those who create task forces plan their reviews
        # one input per task force: a date picked for one is never saved for the next one chosen
        day = st.date_input(
            t("tf_review_date"), value=planned, min_value=start, key=f"{KEY}review_date_{int(tf_id)}"
        )
        save, reset = st.columns(2)
        with save:
            if st.button(t("tf_review_save"), key=f"{KEY}review_save"):
                with shown_errors():
                    records.set_review_date(con, int(tf_id), day, user=user.username)
                    store.invalidate()
                    flash(t("tf_review_saved", date=f"{day:%Y-%m-%d}"))
                    st.rerun()
        with reset:
            if bool(row["review_set"]) and st.button(t("tf_review_reset"), key=f"{KEY}review_reset"):
                with shown_errors():
                    records.set_review_date(con, int(tf_id), None, user=user.username)
                    store.invalidate()
                    flash(t("tf_review_reset_done"))
                    st.rerun()
with right:
    st.subheader(t("tf_hot", n=repeats.HOT_ISSUE_DAYS))
    hot = store.cached(repeats.hot_issues, compound_ids=[compound_id])
    if hot.empty:
        st.write(t("tf_no_hot"))
    else:
        frame, config = report_table(hot, "tf_hot_", HOT_COLUMNS)
        render_table(
            frame,
            key=f"{KEY}hot",
            file_stem=t("tf_file_hot", compound=safe_file_stem(compound_id)),
            column_config=config,
        )

st.subheader(t("tf_actions"))
log = store.cached(records.actions, int(tf_id))
if log.empty:
    st.caption(t("ef_head_no_actions"))
else:
    frame, config = report_table(log, "tf_action_", ACTION_COLUMNS)
    render_table(
        frame,
        key=f"{KEY}actions",
        file_stem=t("tf_file_actions", compound=safe_file_stem(compound_id)),
        column_config=config,
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
