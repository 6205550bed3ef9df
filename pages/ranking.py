"""重点小区排名 Ranking: the composite ranking with rank intervals, the funnel plot, the weights
and how stable the list is under them, peer comparison, league tables, stars vs complaints,
snapshots and creating task forces from a snapshot."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import calendar, config
from analytics.errors import HotlineError
from analytics.metrics import trends
from analytics.models.ranking import score
from analytics.reports import charts
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth, ranking, taskforces
from ui import session, store
from ui.i18n import error_text, labelled, lang, translator
from ui.widgets import render_table, shown_errors

KEY = "rk_"  # session-state prefix of this page
CHART_ROWS = 80  # compounds drawn in the rank-interval chart

TEXT: dict[str, tuple[str, str]] = {
    "title": ("重点小区排名", "Compound ranking"),
    "no_tickets": ("库中还没有工单，无法排名。", "No tickets yet: nothing to rank."),
    "window": ("排名窗口（月份）", "Ranking window (months)"),
    "top": ("重点小区数", "Compounds to select"),
    "weights": ("权重设置", "Weights"),
    "apply": ("应用权重", "Apply weights"),
    "reset": ("恢复默认", "Reset to default"),
    "sentence_custom": (
        "综合得分 = {parts}，各项先换算为百分位。",
        "Score = {parts}; each as a percentile first.",
    ),
    "table": ("排名表", "Ranking table"),
    "table_note": (
        "排名区间为 90% 区间：区间越宽，名次越不确定；“进入前{top}名概率”低于 50% 的小区是否入选只是运气之差。",
        "Rank intervals are 90% intervals: the wider, the less certain; compounds with P(top {top}) below 50% "
        "are in or out by luck.",
    ),
    "interval_chart": ("排名及区间", "Rank with interval"),
    "funnel": ("漏斗图", "Funnel plot"),
    "funnel_note": (
        "点在外侧虚线（99.8%）之外才说明投诉率确实偏高，而非偶然；小小区的波动天然更大。",
        "Only points outside the outer (99.8%) funnel are high beyond chance; small compounds naturally vary more.",
    ),
    "stability": ("权重稳定性检验", "Stability under the weights"),
    "stability_text": (
        "每个权重随机上下浮动 {j:.0%}（{n} 次）：前 {top} 名平均有 {mean:.1f} 个不变（最少 {min}），"
        "{always} 个小区每次都在名单内。",
        "Each weight moved at random by up to {j:.0%} ({n} times): on average {mean:.1f} of the top {top} stay "
        "(at least {min}); {always} compounds are in the list every time.",
    ),
    "peer": ("同类小区对比", "Peer comparison"),
    "peer_note": (
        "同类 = 相同类型和户数档次；倍数 > 1 表示投诉率高于同类中位数。",
        "Peers = same type and size band; a ratio above 1 means more complaints than the peer median.",
    ),
    "leagues": ("物业公司与社区排名", "Property companies and communities"),
    "companies": ("物业公司（季度红黑榜）：{p}", "Property companies (quarterly): {p}"),
    "communities": ("社区（半年考核）：{p}", "Communities (half-year): {p}"),
    "stars": ("党支部星级与投诉率", "Party-branch stars and complaints"),
    "spearman": (
        "星级与投诉率的等级相关 {rho:+.2f}（95% 区间 {lo:+.2f} 至 {hi:+.2f}，{n} 个小区，{p}）；负值表示星级越高投诉越少。",
        "Rank correlation of stars and complaint rate {rho:+.2f} (95% CI {lo:+.2f} to {hi:+.2f}; {n} compounds, "
        "{p}); negative = more stars, fewer complaints.",
    ),
    "snapshot": ("保存排名快照", "Save a ranking snapshot"),
    "note": ("备注", "Note"),
    "save": ("保存快照", "Save snapshot"),
    "saved": ("排名快照 {id} 已保存。", "Ranking snapshot {id} saved."),
    "create": ("由快照创建专班", "Create task forces from a snapshot"),
    "pick_snapshot": ("选择快照", "Snapshot"),
    "no_snapshots": ("还没有排名快照，请先保存一个。", "No snapshot yet; save one first."),
    "assign": (
        "为每个小区填写包保领导和专班组长（留空领导的行不创建）。",
        "Fill in the leader and head for each compound (rows without a leader are skipped).",
    ),
    "start": ("进驻日期", "Start date"),
    "create_button": ("创建专班", "Create task forces"),
    "created": ("已创建或更新 {n} 个专班。", "{n} task forces created or updated."),
    "none_assigned": ("请至少为一个小区填写包保领导。", "Fill in a leader for at least one compound."),
}
COMPONENT_LABELS: dict[str, tuple[str, str]] = {
    "shrunk_rate": ("每百户投诉率（向同类小区收缩）", "rate per 100 households (shrunk to peers)"),
    "volume": ("工单量", "ticket volume"),
    "repeat_share": ("重复来电占比", "repeat-call share"),
    "unresolved_share": ("未解决占比", "unresolved share"),
    "dissatisfaction": ("不满意占比", "dissatisfaction"),
    "trend": ("上升趋势", "rising trend"),
}
RANK_COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"),
    "compound_id": ("小区编号", "Compound id"),
    "name": ("小区", "Compound"),
    "community": ("社区", "Community"),
    "score": ("综合得分", "Score"),
    "tickets": ("工单量", "Tickets"),
    "rate_per_100_households": ("每百户月均", "Per 100 households / month"),
    "shrunk_rate": ("收缩后投诉率", "Shrunk rate"),
    "repeat_share": ("重复来电占比", "Repeat share"),
    "unresolved_share": ("未解决占比", "Unresolved share"),
    "dissatisfaction": ("不满意占比", "Dissatisfaction"),
    "rank_low": ("排名区间下限", "Rank low"),
    "rank_high": ("排名区间上限", "Rank high"),
    "p_top": ("进入前N名概率", "P(top N)"),
}
PEER_COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"),
    "name": ("小区", "Compound"),
    "peer_group": ("同类组", "Peer group"),
    "peer_size": ("同类小区数", "Peers"),
    "shrunk_rate": ("投诉率", "Rate"),
    "peer_median_rate": ("同类中位数", "Peer median"),
    "peer_ratio": ("倍数", "Ratio"),
}
LEAGUE_COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"),
    "key": ("名称", "Name"),
    "compounds": ("小区数", "Compounds"),
    "tickets": ("工单量", "Tickets"),
    "shrunk_rate": ("投诉率", "Rate"),
    "rate_low": ("投诉率下限", "Rate low"),
    "rate_high": ("投诉率上限", "Rate high"),
    "rank_low": ("排名区间下限", "Rank low"),
    "rank_high": ("排名区间上限", "Rank high"),
    "p_worst": ("处于后10%概率", "P(worst 10%)"),
    "tail": ("榜单", "List"),
    "evaluation_list": ("区评定", "District list"),
}


def weights_sentence(weights: dict[str, float]) -> str:
    """The one sentence a leader reads: the default one verbatim, else built from the weights."""
    total = sum(weights.values()) or 1.0
    if all(abs(weights.get(k, 0) / total - v) < 1e-9 for k, v in score.DEFAULT_WEIGHTS.items()):
        return score.WEIGHTS_SENTENCE[1 if lang() == "en" else 0]
    idx = 1 if lang() == "en" else 0
    parts = [f"{COMPONENT_LABELS[k][idx]} {w / total:.0%}" for k, w in weights.items() if w > 0]
    return tr("sentence_custom", parts=" + ".join(parts))


tr = translator(TEXT)


user = session.require("ranking")
con = store.get_connection()
st.title(tr("title"))
if message := st.session_state.pop(f"{KEY}flash", None):
    st.success(message)

district = store.cached(trends.monthly_counts, "district")
if district.empty or int(district["tickets"].sum()) == 0:
    st.info(tr("no_tickets"))
    st.stop()
months = [m.strftime("%Y-%m") for m in district["month"]]
first, last = (d.strftime("%Y-%m") for d in store.cached(ranking.default_window))
first = first if first in months else months[0]
last = last if last in months else months[-1]

c1, c2 = st.columns([3, 1])
with c1:
    window_months = st.select_slider(tr("window"), options=months, value=(first, last), key=f"{KEY}window")
with c2:
    top = int(
        st.number_input(tr("top"), min_value=1, max_value=500, value=config.TOP_N, step=1, key=f"{KEY}top")
    )
window = calendar.parse_window(f"{window_months[0]}:{window_months[1]}")

if f"{KEY}weights" not in st.session_state:
    st.session_state[f"{KEY}weights"] = dict(score.DEFAULT_WEIGHTS)
with st.expander(tr("weights")), st.form(f"{KEY}weights_form"):
    idx = 1 if lang() == "en" else 0
    chosen = {
        name: st.slider(
            COMPONENT_LABELS[name][idx],
            0,
            100,
            int(round(100 * st.session_state[f"{KEY}weights"][name])),
            5,
            key=f"{KEY}w_{name}",
        )  # fmt: skip
        for name in score.COMPONENTS
    }
    if st.form_submit_button(tr("apply")) and sum(chosen.values()) > 0:
        st.session_state[f"{KEY}weights"] = {k: v / 100 for k, v in chosen.items()}
weights = st.session_state[f"{KEY}weights"]
st.info(weights_sentence(weights))

try:
    ranked = store.cached(ranking.rank_compounds, window, weights, top)
except HotlineError as exc:
    st.warning(error_text(exc))
    st.stop()

st.subheader(tr("table"))
render_table(
    labelled(ranked, RANK_COLUMNS),
    key=f"{KEY}table",
    file_stem=f"重点小区排名_{window_months[0]}_{window_months[1]}",
    column_config={RANK_COLUMNS["p_top"][idx]: st.column_config.ProgressColumn(min_value=0.0, max_value=1.0)},
)
st.caption(tr("table_note", top=top))

st.subheader(tr("interval_chart"))
st.plotly_chart(
    charts.ranking_figure(ranked, top=top, max_rows=CHART_ROWS, lang=lang()), key=f"{KEY}rank_chart"
)

left, right = st.columns(2)
with left:
    st.subheader(tr("funnel"))
    funnel = store.cached(ranking.funnel_data, window)
    st.plotly_chart(
        charts.funnel_figure(funnel.points, funnel.curve, funnel.district_rate, lang=lang()),
        key=f"{KEY}funnel",
    )
    st.caption(tr("funnel_note"))
with right:
    st.subheader(tr("stability"))
    stab = store.cached(ranking.stability, window, weights, top)
    st.write(
        tr(
            "stability_text", j=stab["jitter"], n=stab["n"], top=stab["top"], mean=stab["mean_overlap"],
            min=stab["min_overlap"], always=stab["always_in"],
        )
    )  # fmt: skip
    names = dict(zip(ranked["compound_id"], ranked["name"], strict=True))
    shares = pd.DataFrame(
        {
            "name": [names.get(c, c) for c in stab["in_top_share"]],
            "share_in_top": list(stab["in_top_share"].values()),
        }
    )
    st.plotly_chart(charts.stability_figure(shares, top=stab["top"], lang=lang()), key=f"{KEY}stability")

st.subheader(tr("peer"))
render_table(labelled(ranked.head(top), PEER_COLUMNS), key=f"{KEY}peer", file_stem="同类小区对比")
st.caption(tr("peer_note"))

st.subheader(tr("leagues"))
left, right = st.columns(2)
for column, fn, label in (
    (left, ranking.company_league, "companies"),
    (right, ranking.community_league, "communities"),
):
    with column:
        try:
            league = store.cached(fn)
        except HotlineError as exc:
            st.info(error_text(exc))
            continue
        st.markdown(f"**{tr(label, p=markdown_literal(league.attrs.get('period', '')))}**")
        render_table(labelled(league, LEAGUE_COLUMNS), key=f"{KEY}{label}", file_stem=label)

st.subheader(tr("stars"))
try:
    stars = store.cached(ranking.stars_vs_rate)
except HotlineError as exc:
    st.info(error_text(exc))
else:
    st.plotly_chart(charts.stars_figure(stars.table, lang=lang()), key=f"{KEY}stars")
    if stars.spearman is not None:
        st.caption(
            tr(
                "spearman",
                rho=stars.spearman,
                lo=stars.ci_low,
                hi=stars.ci_high,
                n=stars.n,
                p=markdown_literal(stars.period),
            )
        )

if auth.can(user, "save_snapshot"):
    st.subheader(tr("snapshot"))
    with st.form(f"{KEY}snapshot_form"):
        note = st.text_input(tr("note"), key=f"{KEY}note")
        if st.form_submit_button(tr("save")):
            with shown_errors():
                params = {
                    "weights": weights,
                    "top": top,
                    "min_tickets": config.MIN_TICKETS,
                    "n_draws": score.N_DRAWS,
                }
                sid = ranking.save_snapshot(
                    con, ranked, window[0], window[1], params, user=user.username, note=note
                )
                store.invalidate()
                st.session_state[f"{KEY}flash"] = tr("saved", id=sid)
                st.rerun()

    st.subheader(tr("create"))
    snapshots = store.cached(ranking.list_snapshots)
    if snapshots.empty:
        st.info(tr("no_snapshots"))
    else:
        labels = {
            int(
                r.snapshot_id
            ): f"#{r.snapshot_id} · {pd.Timestamp(r.window_start):%Y-%m}–{pd.Timestamp(r.window_end):%Y-%m}"
            + (f" · {strip_invisible(r.note)}" if isinstance(r.note, str) and r.note else "")
            for r in snapshots.itertuples()
        }
        sid = st.selectbox(tr("pick_snapshot"), list(labels), format_func=labels.get, key=f"{KEY}snapshot")
        snap = store.cached(ranking.load_snapshot, sid)
        chosen_top = int((snap.attrs.get("params") or {}).get("top", top))
        grid = snap.head(chosen_top)[["rank", "compound_id", "name"]].assign(leader="", head="")
        st.caption(tr("assign"))
        edited = st.data_editor(
            grid,
            key=f"{KEY}assign_{sid}",
            hide_index=True,
            disabled=["rank", "compound_id", "name"],
            column_config={
                "rank": st.column_config.NumberColumn(RANK_COLUMNS["rank"][idx]),
                "compound_id": st.column_config.TextColumn(RANK_COLUMNS["compound_id"][idx]),
                "name": st.column_config.TextColumn(RANK_COLUMNS["name"][idx]),
                "leader": st.column_config.TextColumn(taskforces.FIELD_LABELS["leader"]),
                "head": st.column_config.TextColumn(taskforces.FIELD_LABELS["head"]),
            },
        )
        start = st.date_input(tr("start"), value=dt.date.today(), key=f"{KEY}start")
        if st.button(tr("create_button"), key=f"{KEY}create", type="primary"):
            rows = edited[edited["leader"].fillna("").astype(str).str.strip() != ""]
            if rows.empty:
                st.warning(tr("none_assigned"))
            else:
                with shown_errors():
                    rows = rows.assign(head=rows["head"].fillna("").astype(str).str.strip().replace("", None))
                    ids = taskforces.create_from_snapshot(con, sid, rows, start, user=user.username)
                    store.invalidate()
                    st.session_state[f"{KEY}flash"] = tr("created", n=len(ids))
                    st.rerun()
