"""整治成效 Effects: did complaints fall because of the task forces?

The naive drop is never shown alone: naive, placebo and the adjusted estimate (with its
interval) stand side by side, with the event study, by-category and displacement views, each
compound's counterfactual and the cost per avoided complaint. The model runs once per store
state: its result is stored in the store (rebuilt right after each write from the app) and read
back while it is fresh.

A task-force head sees none of that: only their own compounds, each against its counterfactual,
and the actions and costs logged for them (`effects.scoped_effects`); no figure summed over the
district reaches their page or their downloads.
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
from ui.i18n import lang, t
from ui.report import (
    CHANGE,
    COUNT,
    DATE,
    DECIMAL,
    PROBABILITY,
    RATIO,
    TEXT,
    YESNO,
    counterfactual_chart,
    glossary_link,
    report_table,
)
from ui.widgets import render_kpi, render_table

KEY = "ef_"  # session-state prefix of this page

# the columns each table shows (headed by the catalogue's ef_category_*, ef_displacement_*,
# ef_compound_*, ef_action_*) and how each reads
CATEGORY_COLUMNS = {
    "category": TEXT, "tickets": COUNT, "effect_pct": DECIMAL, "ci_low_pct": DECIMAL, "ci_high_pct": DECIMAL,
    "reading": TEXT,
}  # fmt: skip
DISPLACEMENT_COLUMNS = {
    "target": TEXT, "compounds": COUNT, "controls": COUNT, "effect_pct": DECIMAL, "ci_low_pct": DECIMAL,
    "ci_high_pct": DECIMAL, "reading": TEXT,
}  # fmt: skip
PRETREND_LEVEL = 0.05  # the joint pre-trend test's level
EB_COLUMNS = {
    "compound_id": TEXT, "observed_before": COUNT, "predicted_before": COUNT, "eb_before": COUNT,
    "counterfactual_after": COUNT, "observed_after": COUNT, "ratio": RATIO,
}  # fmt: skip
INTEGRITY_COLUMNS = {"compound_name": TEXT, "kind": TEXT, "month": TEXT, "exclude": YESNO}
SENSITIVITY_COLUMNS = {
    "window_months": COUNT, "stored": YESNO, "effect_pct": DECIMAL, "ci_low_pct": DECIMAL, "ci_high_pct": DECIMAL,
    "reason": TEXT,
}  # fmt: skip
COMPOUND_COLUMNS = {
    "compound_id": TEXT, "compound_name": TEXT, "start": DATE, "observed_post": COUNT, "expected_post": COUNT,
    "change_vs_expected_pct": CHANGE, "q_value": PROBABILITY, "flagged": YESNO, "months_below": COUNT,
    "meets_exit_rule": YESNO,
}  # fmt: skip
HEAD_COMPOUND_COLUMNS = {
    "compound_name": TEXT, "start": DATE, "observed_post": COUNT, "expected_post": COUNT,
    "change_vs_expected_pct": CHANGE, "basis": TEXT, "cost": COUNT,
}  # fmt: skip
HEAD_ACTION_COLUMNS = {"compound_name": TEXT, "date": DATE, "action": TEXT, "cost": COUNT, "user": TEXT}


def money(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


def table(frame: pd.DataFrame, prefix: str, kinds: dict[str, str], key: str, file_stem: str) -> None:
    shown, config = report_table(frame, prefix, kinds)
    render_table(shown, key=key, file_stem=file_stem, column_config=config)


def head_view(scope: list[str]) -> None:
    """A task-force head's compounds, and nothing summed beyond them."""
    mine = store.cached(effects.scoped_effects, tuple(scope))
    summary = mine.summary
    if summary.empty:
        st.info(t("ef_head_no_tf"))
        return
    st.caption(t("ef_head_scope", n=len(summary)))
    st.subheader(t("ef_head_compounds"), help=t("ef_per_compound_help"))
    shown = summary.assign(basis=[t(f"ef_basis_{b}") for b in summary["basis"]])
    table(shown, "ef_compound_", HEAD_COMPOUND_COLUMNS, f"{KEY}head_compounds", t("ef_file_compounds"))
    for i, row in enumerate(summary.itertuples(index=False)):
        name = str(row.compound_name)
        st.markdown(f"**{markdown_literal(t('name_id', name=name, id=row.compound_id))}**")
        series = mine.series[mine.series["compound_id"] == row.compound_id]
        counterfactual_chart(series, row.start, name, row.basis, f"{KEY}head_chart_{i}")
    st.subheader(t("ef_head_actions"))
    if mine.actions.empty:
        st.caption(t("ef_head_no_actions"))
    else:
        table(mine.actions, "ef_action_", HEAD_ACTION_COLUMNS, f"{KEY}head_actions", t("ef_head_actions"))


user = session.require("effects")
st.title(t("ef_title"))
glossary_link()

scope = user.scope_list()
if scope is not None:
    head_view(scope)
    st.stop()

if store.cached(records.ledger).empty:
    st.info(t("ef_no_tf"))
    st.stop()

res = store.cached(effects.stored_effects)

st.subheader(t("ef_summary"), help=t("ef_summary_help"))
st.info(effects_text.summary(res, lang()))
if res.crosses_zero:
    st.warning(t("ef_crosses"))

interval = t("ef_ci", lo=pct(res.ci_low_pct), hi=pct(res.ci_high_pct))
cols = st.columns(4)
with cols[0]:
    render_kpi(t("ef_naive"), pct(res.naive_change_pct), help=t("ef_naive_help"))
    st.caption(t("ef_naive_basis"))
with cols[1]:
    placebo = pct(res.placebo_change_pct) if res.placebo_change_pct is not None else t("ef_placebo_none")
    render_kpi(t("ef_placebo"), placebo, help=t("ef_placebo_help"))
with cols[2]:
    render_kpi(t("ef_adjusted"), pct(res.adjusted_effect_pct), help=t("ef_adjusted_help"))
    st.caption(interval, help=t("ef_interval_help"))
with cols[3]:
    render_kpi(t("ef_net"), pct(res.net_effect_pct), help=t("ef_net_help"))
    if res.net_effect_pct is None:
        st.caption(t("ef_net_none"))
    else:
        st.caption(t("ef_ci", lo=pct(res.net_ci_low_pct), hi=pct(res.net_ci_high_pct)))
rows = [
    ("naive", res.naive_change_pct, None, None),
    ("placebo", res.placebo_change_pct, None, None),
    ("adjusted", res.adjusted_effect_pct, res.ci_low_pct, res.ci_high_pct),
    ("net", res.net_effect_pct, res.net_ci_low_pct, res.net_ci_high_pct),
    ("eb", res.eb_effect_pct, res.eb_ci_low_pct, res.eb_ci_high_pct),
]
shown = [r for r in rows if r[1] is not None or r[0] in ("naive", "adjusted")]
three = pd.DataFrame(shown, columns=["measure", "estimate_pct", "ci_low_pct", "ci_high_pct"])
st.plotly_chart(charts.effects_comparison_figure(three, lang=lang()), key=f"{KEY}three_chart")
design = {"w": effects_text.window(res, lang()), "s": res.start or "—", "m": effects_text.method(res, lang())}
st.caption(
    t("ef_design", t=res.treated, c=res.controls, **{k: markdown_literal(v) for k, v in design.items()})
    + t(f"ef_window_source_{res.selection_window_source}"),
    help=effects_text.method_help(res, lang()),
)

if not res.eb_per_compound.empty:
    with st.expander(t("ef_eb_table")):
        st.caption(t("ef_eb_help"))
        table(res.eb_per_compound, "ef_eb_", EB_COLUMNS, f"{KEY}eb", t("ef_eb_table"))

st.subheader(t("ef_null"), help=t("ef_null_help"))
fake = res.fake_start or {}
if fake.get("effect") is not None:
    st.write(
        t(
            "ef_fake_start",
            shift=fake["shift"],
            effect=pct(fake["effect"]),
            lo=pct(fake["low"]),
            hi=pct(fake["high"]),
        )
    )
else:
    st.write(t("ef_fake_start_none"))
perm = res.permutation or {}
if perm.get("n"):
    st.write(
        t(
            "ef_permutation",
            n=perm["n"],
            median=pct(perm["median"]),
            lo=pct(perm["q025"]),
            hi=pct(perm["q975"]),
        )
    )
if not res.window_sensitivity.empty:
    st.markdown(f"**{t('ef_sensitivity')}**", help=t("ef_sensitivity_help"))
    sensitivity = res.window_sensitivity.assign(
        reason=res.window_sensitivity.get("reason", pd.Series(dtype=object)).map(
            lambda r: t(f"ef_sens_reason_{r}") if isinstance(r, str) else ""
        )
    )
    table(sensitivity, "ef_sens_", SENSITIVITY_COLUMNS, f"{KEY}sensitivity", t("ef_sensitivity"))

st.subheader(t("ef_event"), help=t("ef_event_help"))
st.plotly_chart(
    charts.event_study_figure(res.event_study, band=res.path, lang=lang()), key=f"{KEY}event_chart"
)
st.caption(t("ef_event_note"))
if res.pretrend.get("p_value") is not None and res.pretrend["p_value"] == res.pretrend["p_value"]:
    p_value = res.pretrend["p_value"]
    reading = t("ef_pretrend_bad") if p_value < PRETREND_LEVEL else t("ef_pretrend_ok")
    st.write(t("ef_pretrend", p=f"{p_value:.2f}", reading=reading))
end = res.path_end or {}
if end.get("effect_pct") is not None and end.get("rel_months"):
    st.write(
        t(
            "ef_path_end", first=end["rel_months"][0] + 1, last=end["rel_months"][-1] + 1,
            effect=pct(end["effect_pct"]), lo=pct(end["ci_low_pct"]), hi=pct(end["ci_high_pct"]),
        )
    )  # fmt: skip

st.subheader(t("ef_integrity"), help=t("ef_integrity_help"))
if res.integrity.empty:
    st.caption(t("ef_integrity_none"))
else:
    flags = res.integrity.assign(kind=res.integrity["kind"].map(lambda k: t(f"ef_kind_{k}")))
    table(flags, "ef_integrity_", INTEGRITY_COLUMNS, f"{KEY}integrity", t("ef_integrity"))

# one after the other, full width: side by side, their tables lost their last columns
for frame, name, figure, columns in (
    (res.by_category, "category", charts.category_effects_figure, CATEGORY_COLUMNS),
    (res.displacement, "displacement", charts.displacement_figure, DISPLACEMENT_COLUMNS),
):
    heading = "ef_by_category" if name == "category" else "ef_displacement"
    st.subheader(t(heading), help=t(f"ef_{name}_help"))
    shown = effects_text.breakdown(frame, lang())
    st.plotly_chart(figure(shown, lang=lang()), key=f"{KEY}{name}_chart")
    if shown.empty:
        st.caption(t("no_rows"))
    else:
        table(shown, f"ef_{name}_", columns, f"{KEY}{name}", t(f"ef_file_{name}"))

st.subheader(t("ef_per_compound"), help=t("ef_per_compound_help"))
summary = res.per_compound_summary
if summary.empty:
    st.caption(t("ef_per_compound_none"))
else:
    table(summary, "ef_compound_", COMPOUND_COLUMNS, f"{KEY}compounds", t("ef_file_compounds"))
    names = dict(zip(summary["compound_id"], summary["compound_name"], strict=True))
    picks = {c: strip_invisible(t("name_id", name=n, id=c)) for c, n in names.items()}
    cid = st.selectbox(t("ef_pick"), list(picks), format_func=picks.get, key=f"{KEY}pick")
    start = summary.loc[summary["compound_id"] == cid, "start"].iloc[0]
    series = res.per_compound[res.per_compound["compound_id"] == cid]
    counterfactual_chart(series, start, str(names[cid]), effects.BASIS_MODEL, f"{KEY}compound_chart")

st.subheader(t("ef_cost"), help=t("ef_cost_help"))
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
