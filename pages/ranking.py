"""重点小区排名 Ranking: the list of the compounds most likely to be the worst by the chosen
definition (analytics.models.ranking.posterior), each with its expected and avoidable tickets, its
chance of the list and its rank range; the rank-interval chart, the funnel plot, how the list moves
with the share weights and with the definition, peer comparison, league tables, stars vs
complaints, snapshots and creating task forces from a snapshot. Every number of the list, the
chart, the stability and the peer table comes from the same posterior draws.

A compound picked in the ranking or peer table opens its 小区档案."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from analytics import calendar, config
from analytics.errors import HotlineError
from analytics.metrics import trends
from analytics.models.ranking import posterior
from analytics.reports import charts
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth, ranking
from analytics.services.taskforces import records
from ui import session, store
from ui.i18n import error_text, lang, t, value_text
from ui.profile_link import open_profile, picked_row
from ui.report import COUNT, DECIMAL, TEXT, VALUE, glossary_link, report_table
from ui.widgets import render_table, shown_errors

KEY = "rk_"  # session-state prefix of this page
CHART_ROWS = 80  # compounds drawn in the rank-interval chart
STABLE = 0.995  # a compound in the top in (nearly) every perturbed weighting is not drawn one by one
PERCENT = "percent"  # a share shown as a percentage with one decimal (the header says %)

# the columns each table shows and how, headed by the catalogue's rk_rank_*, rk_peer_* and rk_league_*
RANK_COLUMNS = {
    "rank": COUNT, "name": TEXT, "expected_tickets": COUNT, "avoidable_tickets": COUNT, "p_top": PERCENT,
    "certainty": TEXT, "rate_per_100_households": DECIMAL, "tickets": COUNT, "community": TEXT,
    "repeat_share": PERCENT, "unresolved_share": PERCENT, "dissatisfaction": PERCENT, "compound_id": TEXT,
}  # fmt: skip
PEER_COLUMNS = {
    "rank": COUNT, "name": TEXT, "peer_group": TEXT, "peer_size": COUNT, "rate_per_100_households": DECIMAL,
    "peer_median_rate": DECIMAL, "peer_ratio": DECIMAL,
}  # fmt: skip
LEAGUE_COLUMNS = {
    "rank": COUNT, "key": TEXT, "compounds": COUNT, "tickets": COUNT, "shrunk_rate": DECIMAL, "rate_low": DECIMAL,
    "rate_high": DECIMAL, "rank_low": COUNT, "rank_high": COUNT, "p_worst": PERCENT, "tail": VALUE,
    "evaluation_list": TEXT,
}  # fmt: skip


def table(df: pd.DataFrame, prefix: str, columns: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """`report_table`, with shares turned into percentages with one decimal (numbers, so they sort)."""
    shares = [c for c, kind in columns.items() if kind == PERCENT and c in df.columns]
    frame = df.assign(**{c: (df[c].astype(float) * 100).round(1) for c in shares})
    return report_table(frame, prefix, {c: DECIMAL if k == PERCENT else k for c, k in columns.items()})


def weights_sentence(info: dict) -> str:
    """The one sentence a leader reads on what the list is ranked by, with the shares that add weight."""
    if info["preset"] != "volume":
        return t("rk_weights_not_used")
    parts = [
        t("rk_weight_part", name=t(f"rk_share_ticket_{k}"), w=w) for k, w in info["weights"].items() if w > 0
    ]
    return t("rk_weights_used", parts=t("rk_weight_join").join(parts)) if parts else t("rk_weights_none")


def certainty(row: pd.Series) -> str:
    """'有 90% 把握排在第 3 至 12 位'."""
    lo, hi = int(row["rank_low"]), int(row["rank_high"])
    key = "rk_certainty_one" if lo == hi else "rk_certainty"
    return t(key, p=charts.RANK_INTERVAL_PCT, lo=lo, hi=hi)


def peer_group(group: object) -> object:
    """'商开·≤300户' with its parts in the reader's language (a registry type stays as it is).

    A size band '801-1500户' is worded '801至1500户': written with a dash its digits would read
    as a phone number, which every table masks."""
    if not isinstance(group, str):
        return group
    parts = []
    for part in group.split("·"):
        band = re.fullmatch(r"(\d+)-(\d+)\D+", part)  # a household band: digits, dash, digits, unit
        parts.append(t("rk_band", lo=band[1], hi=band[2]) if band else str(value_text(part)))
    return "·".join(parts)


def period_label(period: object) -> str:
    """'2024Q2' / '2024H1' in words; anything else as it is."""
    text = str(period or "")
    if len(text) == 6 and text[:4].isdigit() and text[4] == "Q" and text[5] in "1234":
        return t("rk_quarter", y=text[:4], n=text[5])
    if len(text) == 6 and text[:4].isdigit() and text[4] == "H" and text[5] in "12":
        return t(f"rk_half{text[5]}", y=text[:4])
    return text


user = session.require("ranking")
con = store.get_connection()
st.title(t("rk_title"))
glossary_link()
if message := st.session_state.pop(f"{KEY}flash", None):
    st.success(message)

district = store.cached(trends.monthly_counts, "district")
if district.empty or int(district["tickets"].sum()) == 0:
    st.info(t("rk_no_tickets"))
    st.stop()
months = [m.strftime("%Y-%m") for m in district["month"]]
first, last = (d.strftime("%Y-%m") for d in store.cached(ranking.default_window))
first = first if first in months else months[0]
last = last if last in months else months[-1]

c1, c2 = st.columns([3, 1])
with c1:
    window_months = st.select_slider(
        t("rk_window"), options=months, value=(first, last), key=f"{KEY}window", help=t("rk_window_help")
    )
with c2:
    top = int(
        st.number_input(t("rk_top"), min_value=1, max_value=500, value=config.TOP_N, step=1, key=f"{KEY}top")
    )
window = calendar.parse_window(f"{window_months[0]}:{window_months[1]}")
preset_labels = {p: t(f"rk_preset_name_{p}") for p in ranking.PRESETS}
preset = st.radio(
    t("rk_preset"), list(preset_labels), format_func=preset_labels.get, horizontal=True, key=f"{KEY}preset"
)
st.info(t(f"rk_preset_{preset}"))

if f"{KEY}weights" not in st.session_state:
    st.session_state[f"{KEY}weights"] = dict(posterior.DEFAULT_SHARE_WEIGHTS)
try:
    tests = store.cached(ranking.share_tests, window)
except HotlineError as exc:
    st.warning(error_text(exc))
    st.stop()
with st.expander(t("rk_weights")), st.form(f"{KEY}weights_form"):
    st.caption(t("rk_weights_intro"))
    chosen = {}
    for name in posterior.SHARE_INPUTS:
        test = tests[name]
        usable = test["reason"] == "signal"
        chosen[name] = st.slider(
            t(f"rk_component_{name}"), 0, 100,
            int(round(100 * st.session_state[f"{KEY}weights"][name])) if usable else 0, 5,
            key=f"{KEY}w_{name}", disabled=not usable, format="%d%%",
        )  # fmt: skip
        if test["reason"] == "no_signal":
            st.caption(t("rk_weight_no_signal", name=t(f"rk_component_{name}"), p=f"{test['p_value']:.2f}"))
        elif test["reason"] == "no_data":
            st.caption(t("rk_weight_no_data", name=t(f"rk_component_{name}")))
    if st.form_submit_button(t("rk_apply")):
        st.session_state[f"{KEY}weights"] = {k: v / 100 for k, v in chosen.items()}
weights = st.session_state[f"{KEY}weights"]

try:
    ranked = store.cached(ranking.rank_compounds, window, weights, top, preset=preset)
except HotlineError as exc:
    st.warning(error_text(exc))
    st.stop()
info = ranked.attrs
st.caption(weights_sentence(info))
if info.get("excluded_without_households"):
    st.caption(t("rk_rate_excluded", n=info["excluded_without_households"]))

listed = ranked[ranked["listed"]].reset_index(drop=True)
shown_top = len(listed)
st.subheader(t("rk_list_title", top=shown_top))


def list_table(rows: pd.DataFrame, key: str, stem: str) -> None:
    """One ranking table: the rank range in words, the chance of the list as a bar; a pick opens the profile."""
    rows = rows.assign(certainty=rows.apply(certainty, axis=1)) if len(rows) else rows.assign(certainty="")
    frame, formats = table(rows, "rk_rank_", RANK_COLUMNS)
    # the probability of making the list, named with the list's length and drawn as a bar
    p_top = t("rk_rank_p_top_n", top=shown_top)
    frame = frame.rename(columns={t("rk_rank_p_top"): p_top})
    formats[p_top] = st.column_config.ProgressColumn(
        min_value=0.0, max_value=100.0, format="%.0f%%", help=t("rk_rank_p_top_help", top=shown_top)
    )
    formats.pop(t("rk_rank_p_top"), None)
    event = render_table(frame, key=key, column_config=formats, selectable=True, file_stem=stem)
    open_profile(picked_row(event, list(rows["compound_id"])))


list_table(listed, f"{KEY}table", t("rk_file_ranking", first=window_months[0], last=window_months[1]))
st.caption(t("rk_list_note", top=shown_top, n=info["n_draws"], sum=float(listed["p_top"].sum())))
surges = info.get("surges") or {}
if surges.get("discounted"):
    st.caption(t("rk_surges_note", n=surges["compounds"]))
with st.expander(t("rk_all_title", n=len(ranked))):
    list_table(ranked, f"{KEY}all", t("rk_file_ranking", first=window_months[0], last=window_months[1]))

st.subheader(t("rk_interval_chart"), help=t("rk_interval_help", p=charts.RANK_INTERVAL_PCT))
st.plotly_chart(
    charts.ranking_figure(ranked, top=shown_top, max_rows=CHART_ROWS, lang=lang()), key=f"{KEY}rank_chart"
)
if len(ranked) > CHART_ROWS:
    st.caption(t("rk_chart_rows", n=CHART_ROWS, total=len(ranked)))

st.subheader(t("rk_funnel"), help=t("rk_funnel_help"))
funnel = store.cached(ranking.funnel_data, window)
st.plotly_chart(
    charts.funnel_figure(funnel.points, funnel.curve, funnel.district_rate, lang=lang()),
    key=f"{KEY}funnel",
)
st.caption(t("rk_funnel_note"))

st.subheader(t("rk_stability"), help=t("rk_stability_help"))
stab = store.cached(ranking.stability, window, weights, top)
if not stab["varied"]:
    st.write(t("rk_stability_no_signal"))
else:
    st.write(
        t(
            "rk_stability_text", j=stab["jitter"], n=stab["n"], top=stab["top"], mean=stab["mean_overlap"],
            min=stab["min_overlap"], always=stab["always_in"],
        )
    )  # fmt: skip
    names = dict(zip(ranked["compound_id"], ranked["name"], strict=True))
    shares = pd.DataFrame(
        {
            "compound_id": list(stab["in_top_share"]),
            "name": [names.get(c, c) for c in stab["in_top_share"]],
            "share_in_top": list(stab["in_top_share"].values()),
        }
    )
    # the compounds in the list under every weighting are counted above; the chart names the others
    unsure = shares[shares["share_in_top"] < STABLE]
    if unsure.empty:
        st.caption(t("rk_stability_all_stable", top=stab["top"]))
    else:
        st.plotly_chart(charts.stability_figure(unsure, top=stab["top"], lang=lang()), key=f"{KEY}stability")
overlap = store.cached(ranking.preset_overlap, window, weights, top, base=preset)
for row in overlap.itertuples():
    if row.preset != preset:
        st.write(t("rk_overlap", name=preset_labels[row.preset], top=row.listed, n=row.shared))

st.subheader(t("rk_peer"), help=t("rk_peer_help"))
peers = listed.assign(peer_group=lambda f: f["peer_group"].map(peer_group)).reset_index(drop=True)
frame, formats = table(peers, "rk_peer_", PEER_COLUMNS)
event = render_table(
    frame, key=f"{KEY}peer", file_stem=t("rk_file_peer"), column_config=formats, selectable=True
)
open_profile(picked_row(event, list(peers["compound_id"])))
st.caption(t("rk_peer_note"))

st.subheader(t("rk_leagues"), help=t("rk_leagues_help"))
# one under the other at full width: side by side, half their columns would be cut off
for fn, label in ((ranking.company_league, "companies"), (ranking.community_league, "communities")):
    try:
        league = store.cached(fn)
    except HotlineError as exc:
        st.info(error_text(exc))
        continue
    st.markdown(f"**{t(f'rk_{label}', p=markdown_literal(period_label(league.attrs.get('period', ''))))}**")
    league = league.assign(tail=league["tail"].mask(league["tail"] == ""))
    frame, formats = table(league, "rk_league_", LEAGUE_COLUMNS)
    render_table(frame, key=f"{KEY}{label}", file_stem=t(f"rk_file_{label}"), column_config=formats)

st.subheader(t("rk_stars"))
try:
    stars = store.cached(ranking.stars_vs_rate)
except HotlineError as exc:
    st.info(error_text(exc))
else:
    st.plotly_chart(charts.stars_figure(stars.table, lang=lang()), key=f"{KEY}stars")
    if stars.spearman is not None:
        st.caption(
            t(
                "rk_spearman",
                rho=stars.spearman,
                lo=stars.ci_low,
                hi=stars.ci_high,
                n=stars.n,
                p=markdown_literal(period_label(stars.period)),
            )
        )

if auth.can(user, "save_snapshot"):
    st.subheader(t("rk_snapshot"))
    with st.form(f"{KEY}snapshot_form"):
        note = st.text_input(t("rk_note"), key=f"{KEY}note")
        if st.form_submit_button(t("rk_save")):
            with shown_errors():
                params = ranking.snapshot_params(info, top)
                sid = ranking.save_snapshot(
                    con, ranked, window[0], window[1], params, user=user.username, note=note
                )
                store.invalidate()
                st.session_state[f"{KEY}flash"] = t("rk_saved", id=sid)
                st.rerun()

    st.subheader(t("rk_create"))
    snapshots = store.cached(ranking.list_snapshots)
    if snapshots.empty:
        st.info(t("rk_no_snapshots"))
    else:
        labels = {
            int(
                r.snapshot_id
            ): f"#{r.snapshot_id} · {pd.Timestamp(r.window_start):%Y-%m}–{pd.Timestamp(r.window_end):%Y-%m}"
            + (f" · {strip_invisible(r.note)}" if isinstance(r.note, str) and r.note else "")
            for r in snapshots.itertuples()
        }
        sid = st.selectbox(t("rk_pick_snapshot"), list(labels), format_func=labels.get, key=f"{KEY}snapshot")
        snap = store.cached(ranking.load_snapshot, sid)
        chosen_top = int((snap.attrs.get("params") or {}).get("top", top))
        grid = snap.head(chosen_top)[["rank", "compound_id", "name"]].assign(leader="", head="")
        st.caption(t("rk_assign"))
        edited = st.data_editor(
            grid,
            key=f"{KEY}assign_{sid}",
            hide_index=True,
            disabled=["rank", "compound_id", "name"],
            column_config={
                "rank": st.column_config.NumberColumn(t("rk_rank_rank")),
                "compound_id": st.column_config.TextColumn(t("rk_rank_compound_id")),
                "name": st.column_config.TextColumn(t("rk_rank_name")),
                "leader": st.column_config.TextColumn(t("rk_assign_leader")),
                "head": st.column_config.TextColumn(t("rk_assign_head")),
            },
        )
        start = st.date_input(t("rk_start"), value=dt.date.today(), key=f"{KEY}start")
        if st.button(t("rk_create_button"), key=f"{KEY}create", type="primary"):
            rows = edited[edited["leader"].fillna("").astype(str).str.strip() != ""]
            if rows.empty:
                st.warning(t("rk_none_assigned"))
            else:
                with shown_errors():
                    rows = rows.assign(head=rows["head"].fillna("").astype(str).str.strip().replace("", None))
                    ids = records.create_from_snapshot(con, sid, rows, start, user=user.username)
                    store.invalidate()
                    st.session_state[f"{KEY}flash"] = t("rk_created", n=len(ids))
                    st.rerun()
