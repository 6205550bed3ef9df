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

from analytics.reports import charts, effects_text
from analytics.reports.text import pct
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import effects
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import labelled, lang, t
from ui.widgets import render_kpi, render_table

KEY = "ef_"  # session-state prefix of this page

# the columns each table shows, headed by the catalogue's ef_category_*, ef_displacement_*, ef_compound_*
CATEGORY_COLUMNS = ("category", "tickets", "effect_pct", "ci_low_pct", "ci_high_pct", "reading")
DISPLACEMENT_COLUMNS = (
    "target",
    "compounds",
    "controls",
    "effect_pct",
    "ci_low_pct",
    "ci_high_pct",
    "reading",
)
COMPOUND_COLUMNS = (
    "compound_id", "compound_name", "start", "observed_post", "expected_post", "change_vs_expected_pct",
    "months_below", "meets_exit_rule",
)  # fmt: skip


def money(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


user = session.require("effects")
st.title(t("ef_title"))

if store.cached(records.ledger).empty:
    st.info(t("ef_no_tf"))
    st.stop()

res = store.cached(effects.stored_effects)

st.subheader(t("ef_summary"))
st.info(effects_text.summary(res, lang()))
if res.crosses_zero:
    st.warning(t("ef_crosses"), icon=":material/warning:")

cols = st.columns(3)
with cols[0]:
    render_kpi(t("ef_naive"), pct(res.naive_change_pct), help=t("ef_no_ci"))
with cols[1]:
    render_kpi(t("ef_placebo"), pct(res.placebo_change_pct), help=t("ef_no_ci"))
with cols[2]:
    render_kpi(
        t("ef_adjusted"),
        pct(res.adjusted_effect_pct),
        help=t("ef_ci", lo=pct(res.ci_low_pct), hi=pct(res.ci_high_pct)),
    )
    st.caption(t("ef_ci", lo=pct(res.ci_low_pct), hi=pct(res.ci_high_pct)))
three = pd.DataFrame(
    {
        "measure": ["naive", "placebo", "adjusted"],
        "estimate_pct": [res.naive_change_pct, res.placebo_change_pct, res.adjusted_effect_pct],
        "ci_low_pct": [None, None, res.ci_low_pct],
        "ci_high_pct": [None, None, res.ci_high_pct],
    }
)
st.plotly_chart(charts.effects_comparison_figure(three, lang=lang()), key=f"{KEY}three_chart")
design = {"w": res.selection_window, "s": res.start, "m": effects_text.method(res, lang())}
st.caption(
    t("ef_design", t=res.treated, c=res.controls, **{k: markdown_literal(v) for k, v in design.items()})
)

st.subheader(t("ef_event"))
st.plotly_chart(charts.event_study_figure(res.event_study, lang=lang()), key=f"{KEY}event_chart")
st.caption(t("ef_event_note"))

left, right = st.columns(2)
with left:
    st.subheader(t("ef_by_category"))
    by_category = effects_text.breakdown(res.by_category, lang())
    st.plotly_chart(charts.category_effects_figure(by_category, lang=lang()), key=f"{KEY}category_chart")
    render_table(
        labelled(by_category, "ef_category_", CATEGORY_COLUMNS),
        key=f"{KEY}category",
        file_stem=t("ef_file_category"),
    )
with right:
    st.subheader(t("ef_displacement"))
    displacement = effects_text.breakdown(res.displacement, lang())
    st.plotly_chart(charts.displacement_figure(displacement, lang=lang()), key=f"{KEY}displacement_chart")
    render_table(
        labelled(displacement, "ef_displacement_", DISPLACEMENT_COLUMNS),
        key=f"{KEY}displacement",
        file_stem=t("ef_file_displacement"),
    )

st.subheader(t("ef_per_compound"))
summary = res.per_compound_summary
if not summary.empty and user.compound_scope is not None:
    summary = summary[summary["compound_id"].isin(user.compound_scope)]
render_table(
    labelled(summary, "ef_compound_", COMPOUND_COLUMNS),
    key=f"{KEY}compounds",
    file_stem=t("ef_file_compounds"),
)
if not summary.empty:
    names = dict(zip(summary["compound_id"], summary["compound_name"], strict=True))
    cid = st.selectbox(
        t("ef_pick"),
        list(names),
        format_func=lambda c: strip_invisible(t("name_id", name=names[c], id=c)),
        key=f"{KEY}pick",
    )
    start = summary.loc[summary["compound_id"] == cid, "start"].iloc[0]
    series = res.per_compound[res.per_compound["compound_id"] == cid]
    st.plotly_chart(
        charts.counterfactual_figure(series, start, name=names[cid], lang=lang()), key=f"{KEY}compound_chart"
    )

st.subheader(t("ef_cost"))
cost = res.cost or {}
cols = st.columns(3)
with cols[0]:
    render_kpi(t("ef_total_cost"), money(cost.get("total_cost")))
with cols[1]:
    render_kpi(t("ef_avoided"), money(cost.get("avoided")))
    st.caption(t("ef_range", lo=money(cost.get("avoided_low")), hi=money(cost.get("avoided_high"))))
with cols[2]:
    render_kpi(t("ef_per_avoided"), money(cost.get("cost_per_avoided")))
    st.caption(
        t("ef_range", lo=money(cost.get("cost_per_avoided_low")), hi=money(cost.get("cost_per_avoided_high")))
    )
if caveat := effects_text.cost_caveat(cost, lang()):
    st.warning(caveat)

if res.notes:
    with st.expander(t("ef_notes")):
        for note in effects_text.notes(res, lang()):
            st.write(f"- {note}")
