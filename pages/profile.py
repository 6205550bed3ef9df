"""小区档案: one compound, found by name, alias or id (or ?compound=ID), within the user's scope."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from analytics import config
from analytics.errors import NotFound
from analytics.ingest.registry import changes as registry_changes
from analytics.ingest.registry import queries
from analytics.metrics import repeats, trends
from analytics.reports import charts
from analytics.safe_text import markdown_literal, safe_file_stem, strip_invisible
from analytics.services import ranking
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import lang, t
from ui.report import (
    COUNT,
    DATE,
    DATETIME,
    DECIMAL,
    SHARE,
    TEXT,
    VALUE,
    YESNO,
    glossary_link,
    report_table,
)
from ui.widgets import render_kpi, render_table

SEARCH_LIMIT = 50
RECENT_TICKETS = 50
FACT_FIELDS = ("community", "subdistrict", "type", "built_year", "households", "property_company")
HALF_YEAR = re.compile(r"^(\d{4})\s*[Hh]([12])$")  # a rating period as stored: 2024H1

# the columns each table shows (headed by the catalogue's prefix + column) and how each reads;
# a recent ticket never shows the caller hash, and its text has phone numbers masked
RATING_COLUMNS = {"period": TEXT, "stars": TEXT}
HOT_COLUMNS = {
    "category": TEXT, "tickets": COUNT, "callers": COUNT, "first_seen": DATETIME, "last_seen": DATETIME,
    "days_active": COUNT, "open_tickets": COUNT, "still_open": YESNO, "sample_text": TEXT,
}  # fmt: skip
RECENT_COLUMNS = {
    "ticket_id": TEXT, "created_at": DATETIME, "category": TEXT, "status": TEXT, "closed_at": DATETIME,
    "any_repeat": YESNO, "same_caller": YESNO, "same_issue": YESNO, "reopened": YESNO, "text": TEXT,
}  # fmt: skip
RANK_COLUMNS = {
    "created_at": DATE, "window": TEXT, "rank": COUNT, "interval": TEXT, "score": DECIMAL, "tickets": COUNT,
    "p_top": SHARE,
}  # fmt: skip
TASKFORCE_COLUMNS = {
    "taskforce_id": COUNT, "leader": TEXT, "head": TEXT, "start_date": DATE, "end_date": DATE, "status": VALUE,
    "tickets_before_monthly": DECIMAL, "tickets_after_monthly": DECIMAL, "target": DECIMAL, "months_below": COUNT,
    "meets_exit_rule": YESNO,
}  # fmt: skip


def period_text(period: object) -> object:
    """A rating period (2024H1) in words; anything else as it is."""
    m = HALF_YEAR.match(str(period))
    return t(f"pr_half_{m.group(2)}", year=m.group(1)) if m else period


def table(frame: pd.DataFrame, prefix: str, kinds: dict[str, str], key: str, file_stem: str) -> None:
    shown, config = report_table(frame, prefix, kinds)
    render_table(shown, key=key, file_stem=file_stem, column_config=config)


user = session.require("profile")
scope = user.scope_list()
st.title(t("page_profile"))
glossary_link()

requested = st.query_params.get("compound")
if requested and not user.sees(requested):
    st.error(t("pr_out_of_scope", cid=markdown_literal(requested)))
    st.stop()

query = st.text_input(t("pr_search"), key="prof_query")
hits = store.cached(queries.search_compounds, query, scope=scope, limit=SEARCH_LIMIT)
labels = {
    r.compound_id: strip_invisible(t("name_id", name=r.name, id=r.compound_id))
    for r in hits.itertuples(index=False)
}
options = list(labels)
if requested and requested not in labels and not query.strip():
    options.insert(0, requested)
if not options:
    st.info(t("pr_none_found"))
    st.stop()
compound_id = st.selectbox(
    t("pr_pick"),
    options,
    index=options.index(requested) if requested in options else 0,
    format_func=lambda cid: labels.get(cid) or strip_invisible(cid),
    key="prof_pick",
)
if compound_id != requested:
    st.query_params["compound"] = compound_id  # a link to this profile can be shared

try:
    detail = store.cached(queries.compound_detail, compound_id)
except NotFound:
    st.error(t("pr_not_found", cid=markdown_literal(compound_id)))
    st.stop()

# --- registry facts --------------------------------------------------------------------------
stem = safe_file_stem(compound_id)  # download names: ids come from uploaded registries
st.header(t("name_id", name=markdown_literal(detail["name"]), id=markdown_literal(compound_id)))
stars = detail.get("stars")
kpis = st.columns(4)
households = detail.get("households")
with kpis[0]:
    render_kpi(t("field_households"), "—" if households is None or pd.isna(households) else int(households))
with kpis[1]:
    render_kpi(t("field_type"), markdown_literal(detail.get("type") or "—"))
with kpis[2]:
    period = detail.get("stars_period")
    render_kpi(
        t("pr_ratings"),
        "★" * int(stars) if stars else "—",
        help=markdown_literal(period_text(period)) if period else None,
    )
monthly = store.cached(trends.monthly_counts, level="compound", compound_ids=[compound_id])
with kpis[3]:
    render_kpi(
        t("kpi_tickets"), int(monthly["tickets"].sum()) if not monthly.empty else 0, help=t("pr_tickets_help")
    )

with st.expander(t("pr_facts"), expanded=True):
    facts = {t(f"field_{f}"): detail.get(f) for f in FACT_FIELDS}
    if households is not None and not pd.isna(households):
        facts[t("field_households")] = f"{int(households):,}"
    facts[t("field_is_old")] = {True: t("yes"), False: t("no")}.get(detail.get("is_old"), "—")
    facts[t("field_aliases")] = detail.get("aliases") or "—"
    st.dataframe(
        pd.DataFrame(
            {
                t("pr_field"): list(facts),
                t("pr_value"): [("—" if v is None or pd.isna(v) else str(v)) for v in facts.values()],
            }
        ),
        hide_index=True,
        key="prof_facts",
    )
    if detail.get("ratings"):
        st.markdown(f"**{t('pr_ratings')}**")
        ratings = pd.DataFrame(detail["ratings"])
        ratings = ratings.assign(
            period=[period_text(p) for p in ratings["period"]],
            stars=["★" * int(n) if pd.notna(n) and int(n) > 0 else "—" for n in ratings["stars"]],
        )
        frame, shown_as = report_table(ratings, "pr_rating_", RATING_COLUMNS)
        st.dataframe(frame, hide_index=True, key="prof_ratings", column_config=shown_as)

# --- trend and category mix ------------------------------------------------------------------
tf_list = detail.get("task_forces") or []
# renames, splits and merges of this compound: marked where its series starts or stops
events = store.cached(registry_changes.registry_events)
events = events[events["compound_id"] == compound_id].assign(
    detail=lambda e: e["detail_en"] if lang() == "en" else e["detail_zh"]
)
start = tf_list[0]["start_date"] if tf_list else None
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        charts.trend_figure(monthly, start=start, title=t("pr_trend"), lang=lang(), events=events),
        key="prof_trend",
        width="stretch",
    )
with right:
    mix = store.cached(trends.category_mix, compound_ids=[compound_id])
    if mix.empty:
        st.caption(t("no_rows"))
    else:
        fig = charts.category_mix_figure(mix, title=t("pr_categories"), lang=lang())
        st.plotly_chart(fig, key="prof_categories", width="stretch")

# --- repeats, recent tickets -----------------------------------------------------------------
st.subheader(t("pr_hot", n=repeats.HOT_ISSUE_DAYS))
hot = store.cached(repeats.hot_issues, compound_ids=[compound_id])
if hot.empty:
    st.caption(t("tf_no_hot"))
else:
    table(hot, "tf_hot_", HOT_COLUMNS, "prof_hot", t("tf_file_hot", compound=stem))

st.subheader(t("pr_recent"), help=t("pr_repeat_help"))
flags = store.cached(repeats.repeat_flags, compound_ids=[compound_id])
if not flags.empty:
    st.caption(
        t(
            "pr_repeat_share",
            pct=100 * float(flags["any_repeat"].mean()),
            n=f"{len(flags):,}",
            days=config.REPEAT_DAYS,
        )
    )
recent = flags.sort_values(["created_at", "ticket_id"], ascending=False).head(RECENT_TICKETS)
if recent.empty:
    st.caption(t("no_rows"))
else:
    table(recent, "pr_recent_", RECENT_COLUMNS, "prof_recent", t("pr_file_tickets", compound=stem))

# --- rank history and task force -------------------------------------------------------------
st.subheader(t("pr_rank"), help=t("pr_rank_help"))
history = store.cached(ranking.rank_history, compound_id)
if history.empty:
    st.caption(t("no_rows"))
else:
    history = history.assign(
        window=[
            t("ef_window", first=f"{pd.Timestamp(a):%Y-%m}", last=f"{pd.Timestamp(b):%Y-%m}")
            for a, b in zip(history["window_start"], history["window_end"], strict=True)
        ],
        interval=[
            t("pr_rank_interval_text", low=int(a), high=int(b)) if a != b else t("pr_rank_exact", rank=int(a))
            for a, b in zip(history["rank_low"], history["rank_high"], strict=True)
        ],
    )
    table(history, "pr_rank_", RANK_COLUMNS, "prof_rank", t("pr_file_rank", compound=stem))

st.subheader(t("pr_taskforce"))
ledger = store.cached(records.ledger, compound_scope=[compound_id])
if ledger.empty:
    st.caption(t("pr_no_taskforce"))
else:
    table(ledger, "tf_ledger_", TASKFORCE_COLUMNS, "prof_taskforce", t("pr_file_taskforce", compound=stem))
