"""小区档案: one compound, found by name, alias or id (or ?compound=ID), within the user's scope."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import config
from analytics.errors import NotFound
from analytics.ingest.registry import queries
from analytics.metrics import repeats, trends
from analytics.reports import charts
from analytics.safe_text import markdown_literal, safe_file_stem, strip_invisible
from analytics.services import ranking
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import lang, t
from ui.widgets import render_kpi, render_table

SEARCH_LIMIT = 50
RECENT_TICKETS = 50
# what a recent-ticket row shows: never the caller hash, text with phone numbers masked
RECENT_COLUMNS = (
    "ticket_id",
    "created_at",
    "category",
    "status",
    "closed_at",
    "any_repeat",
    "same_caller",
    "same_issue",
    "reopened",
    "text",
)
FACT_FIELDS = ("community", "subdistrict", "type", "built_year", "households", "property_company")

user = session.require("profile")
scope = user.scope_list()
st.title(t("page_profile"))

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
with kpis[0]:
    render_kpi(t("field_households"), detail.get("households") or "—")
with kpis[1]:
    render_kpi(t("field_type"), markdown_literal(detail.get("type") or "—"))
with kpis[2]:
    period = detail.get("stars_period")
    render_kpi(
        t("pr_ratings"), "★" * int(stars) if stars else "—", help=markdown_literal(period) if period else None
    )
monthly = store.cached(trends.monthly_counts, level="compound", compound_ids=[compound_id])
with kpis[3]:
    render_kpi(t("kpi_tickets"), int(monthly["tickets"].sum()) if not monthly.empty else 0)

with st.expander(t("pr_facts"), expanded=True):
    facts = {t(f"field_{f}"): detail.get(f) for f in FACT_FIELDS}
    facts[t("field_is_old")] = {True: t("yes"), False: t("no")}.get(detail.get("is_old"), "—")
    facts[t("field_aliases")] = detail.get("aliases") or "—"
    st.dataframe(
        pd.DataFrame(
            {
                t("pr_field"): list(facts),
                t("pr_value"): [("—" if v is None else str(v)) for v in facts.values()],
            }
        ),
        hide_index=True,
        key="prof_facts",
    )
    if detail.get("ratings"):
        st.markdown(f"**{t('pr_ratings')}**")
        st.dataframe(pd.DataFrame(detail["ratings"]), hide_index=True, key="prof_ratings")

# --- trend and category mix ------------------------------------------------------------------
tf_list = detail.get("task_forces") or []
start = tf_list[0]["start_date"] if tf_list else None
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        charts.trend_figure(monthly, start=start, title=t("pr_trend"), lang=lang()),
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
render_table(
    hot.drop(columns=["ticket_ids"], errors="ignore"), key="prof_hot", file_stem=f"hot_issues_{stem}"
)

st.subheader(t("pr_recent"))
flags = store.cached(repeats.repeat_flags, compound_ids=[compound_id])
if not flags.empty:
    st.caption(
        t(
            "pr_repeat_share",
            pct=100 * float(flags["any_repeat"].mean()),
            n=len(flags),
            days=config.REPEAT_DAYS,
        )
    )
recent = flags.sort_values(["created_at", "ticket_id"], ascending=False).head(RECENT_TICKETS)
render_table(
    recent[[c for c in RECENT_COLUMNS if c in recent.columns]],
    key="prof_recent",
    file_stem=f"tickets_{stem}",
)

# --- rank history and task force -------------------------------------------------------------
st.subheader(t("pr_rank"))
history = store.cached(ranking.rank_history, compound_id)
render_table(history, key="prof_rank", file_stem=f"rank_history_{stem}")

st.subheader(t("pr_taskforce"))
ledger = store.cached(records.ledger, compound_scope=[compound_id])
if ledger.empty:
    st.caption(t("pr_no_taskforce"))
else:
    render_table(ledger, key="prof_taskforce", file_stem=f"taskforce_{stem}")
