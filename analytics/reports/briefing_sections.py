"""The five sections of the leaders' monthly briefing (see analytics.reports.briefing, which puts
them together): each builder reads the store and returns a `Section` of paragraphs and tables in
the reader's language, numbers kept as (value, kind) cells for the writers to format."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.config import LIST_N, REPEAT_DAYS
from analytics.errors import HotlineError
from analytics.metrics import trends
from analytics.metrics.rates import service_rates
from analytics.reports import briefing_layout, effects_text
from analytics.reports.briefing_layout import Cell, Section, Table, cell_text
from analytics.reports.text import text, value_text
from analytics.services import effects
from analytics.services.taskforces import deadlines, records
from analytics.store import db

SECTION_SUMMARY = "summary"
SECTION_SUBDISTRICTS = "subdistricts"
SECTION_RANKING = "ranking"
SECTION_TASKFORCES = "taskforces"
SECTION_EFFECTS = "effects"
SECTIONS = (SECTION_SUMMARY, SECTION_SUBDISTRICTS, SECTION_RANKING, SECTION_TASKFORCES, SECTION_EFFECTS)
UP, DOWN = "↑", "↓"  # places gained or lost in the ranking


def _month(month: Any) -> pd.Period:
    return calendar.parse_month(month)


def month_label(month: Any, lang: str = "zh") -> str:
    m = _month(month)
    return text("br_month", lang, year=m.year, month=m.month)


def date_text(day: Any, lang: str = "zh") -> str:
    """A date as the report writes it: 2024年3月1日 / 2024-03-01 (never a time)."""
    if briefing_layout.missing(day):
        return briefing_layout.MISSING
    d = pd.Timestamp(day)
    return text("br_date", lang, year=d.year, month=d.month, day=d.day)


def _change(value: Any, lang: str) -> str:
    """'上升 12.3%' / '下降 4.5%' / '持平' / '无可比数据'."""
    if briefing_layout.missing(value):
        return text("br_change_na", lang)
    r = round(float(value), 1)
    if r == 0:
        return text("br_change_flat", lang)
    return text("br_change_up" if r > 0 else "br_change_down", lang, pct=f"{abs(r):.1f}%")


def _share(value: Any, lang: str) -> str:
    return text("br_na", lang) if briefing_layout.missing(value) else cell_text(value, "share")


def _count(value: Any) -> str:
    return cell_text(value, "count")


def _pct_round(value: Any) -> float | None:
    return None if briefing_layout.missing(value) else round(float(value), 1)


# --------------------------------------------------------------------------- 一、总体情况


def festival_comparison(con: duckdb.DuckDBPyConnection, month: Any, newest: Any) -> dict[str, Any] | None:
    """The Spring Festival correction for `month`, or None when its single-month 同比 is fair.

    When the festival falls in this month in one year and not in the other (trends.district_kpis'
    festival_shift), January and February together are compared with the same two months a year
    before: {festival, festival_last_year, tickets, last_year_tickets, yoy_pct}. The combined
    figures are None in January while February is not yet complete in the data. None as well
    when the data hold no January or February of the year before (no comparison at all).
    """
    m = _month(month)
    this, last = trends.spring_festival(m.year), trends.spring_festival(m.year - 1)
    if m.month not in (1, 2) or (this.month == m.month) == (last.month == m.month):
        return None
    out: dict[str, Any] = {
        "festival": this,
        "festival_last_year": last,
        "tickets": None,
        "last_year_tickets": None,
        "yoy_pct": None,
    }
    feb = pd.Period(f"{m.year}-02", "M")
    if m != feb and (newest is None or calendar.complete_month(newest) < feb):
        return out
    counts = trends.monthly_counts(con, "district", f"{m.year - 1}-01", f"{m.year}-02")
    by_year = counts[counts["month"].dt.month <= 2].groupby(counts["month"].dt.year)["tickets"].sum()
    now, before = int(by_year.get(m.year, 0)), int(by_year.get(m.year - 1, 0))
    if before == 0:
        return None  # no last year to compare with: there is no distorted comparison to correct
    out.update(tickets=now, last_year_tickets=before, yoy_pct=trends.pct_change(now, before))
    return out


# summary measure -> how its value reads
SUMMARY_KINDS = {
    "tickets": "count",
    "valid": "count",
    "prev_month": "count",
    "mom_pct": "change",
    "last_year": "count",
    "janfeb": "count",
    "janfeb_last_year": "count",
    "janfeb_yoy": "change",
    "yoy_pct": "change",
    "rate": "rate",
    "response": "share",
    "resolution": "share",
    "satisfaction": "share",
    "on_time": "share",
    "repeat": "share",
}
# measures with a plain-words note (br_note_<measure>)
NOTED = {"valid", "janfeb_yoy", "rate", "response", "resolution", "satisfaction", "on_time", "repeat"}


def summary_section(k: dict[str, Any], fest: dict[str, Any] | None, newest: Any, lang: str) -> Section:
    m = _month(k["month"])
    blocks: list[str | Table] = []
    if (
        newest is not None
        and pd.Timestamp(newest).to_period("M") == m
        and calendar.complete_month(newest) < m
    ):
        blocks.append(text("br_partial", lang, date=date_text(newest, lang)))
    base = {"month": month_label(m, lang), "tickets": _count(k["tickets"])}
    raw = text("br_lead_raw", lang, mom=_change(k["mom_pct"], lang), yoy=_change(k["yoy_pct"], lang))
    if fest is None:
        blocks.append(
            text("br_lead", lang, **base, mom=_change(k["mom_pct"], lang), yoy=_change(k["yoy_pct"], lang))
        )
    else:
        why = {"this": date_text(fest["festival"], lang), "last": date_text(fest["festival_last_year"], lang)}
        if fest["yoy_pct"] is None:
            blocks.append(text("br_lead_festival_pending", lang, **base, **why) + raw)
        else:
            corrected = {"janfeb": _count(fest["tickets"]), "janfeb_change": _change(fest["yoy_pct"], lang)}
            blocks.append(text("br_lead_festival", lang, **base, **why, **corrected) + raw)
    blocks.append(
        text(
            "br_lead_rates",
            lang,
            response=_share(k["response_rate"], lang),
            resolution=_share(k["resolution_rate"], lang),
            satisfaction=_share(k["satisfaction_rate"], lang),
            on_time=_share(k["on_time_rate"], lang),
            repeat=_share(k["repeat_share"], lang),
            days=REPEAT_DAYS,
        )
    )
    values: dict[str, Any] = {
        "tickets": k["tickets"],
        "valid": k["valid_tickets"],
        "prev_month": k["prev_month_tickets"],
        "mom_pct": _pct_round(k["mom_pct"]),
        "last_year": k["last_year_tickets"],
        "yoy_pct": _pct_round(k["yoy_pct"]),
        "rate": k["rate_per_100_households"],
        "response": k["response_rate"],
        "resolution": k["resolution_rate"],
        "satisfaction": k["satisfaction_rate"],
        "on_time": k["on_time_rate"],
        "repeat": k["repeat_share"],
    }
    order = ["tickets", "valid", "prev_month", "mom_pct", "last_year", "yoy_pct"]
    if fest is not None and fest["yoy_pct"] is not None:
        # the corrected comparison first, the distorted single month after it
        values.update(
            janfeb=fest["tickets"], janfeb_last_year=fest["last_year_tickets"], janfeb_yoy=_pct_round(fest["yoy_pct"])
        )  # fmt: skip
        order = ["tickets", "valid", "prev_month", "mom_pct", "janfeb", "janfeb_last_year", "janfeb_yoy",
                 "last_year", "yoy_pct"]  # fmt: skip
    order += ["rate", "response", "resolution", "satisfaction", "on_time", "repeat"]
    rows: list[list[Cell]] = []
    for measure in order:
        kind, note = SUMMARY_KINDS[measure], measure if measure in NOTED else ""
        if measure == "yoy_pct" and fest is not None:
            note = "festival"
        rows.append(
            [
                (text(f"br_row_{measure}", lang, days=REPEAT_DAYS), "text"),
                (values[measure], kind),
                (text(f"br_note_{note}", lang, days=REPEAT_DAYS) if note else "", "text"),
            ]
        )
    blocks.append(Table([text(f"br_col_{c}", lang) for c in ("measure", "value", "note")], rows))
    return Section(SECTION_SUMMARY, "", blocks)


# --------------------------------------------------------------------------- 二、街道情况


def subdistricts_section(
    con: duckdb.DuckDBPyConnection, m: pd.Period, k: dict[str, Any], fest: dict[str, Any] | None, lang: str
) -> Section:
    janfeb = fest is not None and fest["yoy_pct"] is not None
    # a January briefing with the corrected comparison reads February too (it is complete then)
    end = pd.Period(f"{m.year}-02", "M") if janfeb else m
    counts = trends.monthly_counts(con, "subdistrict", str(m - 13), str(end))
    if counts.empty or int(counts.loc[counts["month"] == m.start_time, "tickets"].sum()) == 0:
        return Section(SECTION_SUBDISTRICTS, "", [text("br_no_data", lang)])
    moved = trends.yoy_mom(counts)
    now = moved[moved["month"] == m.start_time].sort_values(["tickets", "key"], ascending=[False, True])
    rates = service_rates(con, str(m), str(m), group_by="subdistrict").set_index("key")
    district = service_rates(con, str(m), str(m))
    whole = district.iloc[0] if len(district) else pd.Series(dtype=float)
    cols = ["subdistrict", "tickets", "prev_month", "mom_pct", "last_year", "yoy_pct"]
    cols += ["janfeb_yoy"] if janfeb else []
    cols += ["resolution_rate", "satisfaction_rate"]
    rows: list[list[Cell]] = []
    for rec in now.itertuples(index=False):
        rate = rates.loc[rec.key] if rec.key in rates.index else pd.Series(dtype=float)
        row: list[Cell] = [
            (rec.key, "text"),
            (rec.tickets, "count"),
            (rec.prev_month, "count"),
            (_pct_round(rec.mom_pct), "change"),
            (rec.prev_year, "count"),
            (_pct_round(rec.yoy_pct), "change"),
        ]
        if janfeb:
            row.append((_pct_round(rec.janfeb_yoy_pct), "change"))
        row += [(rate.get("resolution_rate"), "share"), (rate.get("satisfaction_rate"), "share")]
        rows.append(row)
    tickets, prev, last = (int(now[c].fillna(0).sum()) for c in ("tickets", "prev_month", "prev_year"))
    total: list[Cell] = [
        (text("br_total", lang), "text"),
        (tickets, "count"),
        (prev if now["prev_month"].notna().any() else None, "count"),
        (_pct_round(trends.pct_change(tickets, prev)) if now["prev_month"].notna().any() else None, "change"),
        (last if now["prev_year"].notna().any() else None, "count"),
        (_pct_round(trends.pct_change(tickets, last)) if now["prev_year"].notna().any() else None, "change"),
    ]
    if janfeb:
        jf = now[["janfeb", "janfeb_prev_year"]].sum(min_count=1)
        total.append((_pct_round(trends.pct_change(jf["janfeb"], jf["janfeb_prev_year"])), "change"))
    total += [(whole.get("resolution_rate"), "share"), (whole.get("satisfaction_rate"), "share")]
    rows.append(total)
    top = now.iloc[0]
    blocks: list[str | Table] = [
        text(
            "br_sub_lead",
            lang,
            name=top["key"],
            tickets=_count(top["tickets"]),
            share=cell_text(top["tickets"] / k["tickets"] if k["tickets"] else None, "share"),
        )
    ]
    unmatched = k["tickets"] - tickets
    if unmatched > 0:
        blocks.append(text("br_sub_unmatched", lang, n=_count(unmatched)))
    blocks.append(Table([text(f"br_col_{c}", lang) for c in cols], rows))
    if fest is not None:
        blocks.append(text("br_sub_festival" if janfeb else "br_sub_festival_pending", lang))
    return Section(SECTION_SUBDISTRICTS, "", blocks)


# --------------------------------------------------------------------------- 三、小区排名


def _ranks(tickets: pd.Series) -> pd.Series:
    """1..n by tickets (most first), ties broken by compound id; compounds without tickets unranked."""
    ranked = tickets[tickets > 0].rename("n").reset_index()
    ranked = ranked.sort_values(["n", "key"], ascending=[False, True])
    return pd.Series(range(1, len(ranked) + 1), index=ranked["key"].to_numpy(), dtype=int)


def movement(rank: int, last_rank: Any, n: int, lang: str = "zh") -> str:
    """The move of a compound ranked `rank` now against last month's `last_rank` in a top-`n` list:
    '↑3', '↓2', '持平', or '新进' when it was not in last month's list."""
    if briefing_layout.missing(last_rank) or int(last_rank) > n:
        return text("br_move_new", lang)
    step = int(last_rank) - rank
    if step == 0:
        return text("br_move_same", lang)
    return f"{UP if step > 0 else DOWN}{abs(step)}"


def ranking_frame(con: duckdb.DuckDBPyConnection, month: Any, n: int = LIST_N) -> pd.DataFrame:
    """The `n` compounds with the most tickets in `month`, with last month's rank and the change.

    Columns: rank, last_rank (None when it had no tickets last month), compound_id, name,
    community, subdistrict, tickets, prev_month, mom_pct, last_year, yoy_pct.
    """
    m = _month(month)
    cols = ["rank", "last_rank", "compound_id", "name", "community", "subdistrict", "tickets", "prev_month",
            "mom_pct", "last_year", "yoy_pct"]  # fmt: skip
    counts = trends.monthly_counts(con, "compound", str(m - 12), str(m))
    if counts.empty:
        return pd.DataFrame(columns=cols)
    # one pivot instead of trends.yoy_mom per compound: a district has ~1,100 of them
    wide = counts.pivot_table(index="key", columns="month", values="tickets", aggfunc="sum", fill_value=0)
    zero = pd.Series(0, index=wide.index)
    now, prev = wide.get(m.start_time, zero), wide.get((m - 1).start_time, zero)
    last = wide.get((m - 12).start_time)
    ranks, last_ranks = _ranks(now).head(n), _ranks(prev)
    where = db.query_df(con, "SELECT compound_id AS key, name, community, subdistrict FROM compounds")
    where = where.set_index("key").reindex(ranks.index)
    out = pd.DataFrame(
        {
            "rank": ranks.to_numpy(),
            "last_rank": [last_ranks.get(c) for c in ranks.index],
            "compound_id": ranks.index.to_numpy(),
            "name": where["name"].fillna(pd.Series(ranks.index, index=ranks.index)).to_numpy(),
            "community": where["community"].to_numpy(),
            "subdistrict": where["subdistrict"].to_numpy(),
            "tickets": now.reindex(ranks.index).astype(int).to_numpy(),
            "prev_month": prev.reindex(ranks.index).astype(int).to_numpy(),
            "last_year": last.reindex(ranks.index).to_numpy() if last is not None else None,
        }
    )
    out["mom_pct"] = [
        _pct_round(trends.pct_change(a, b)) for a, b in zip(out["tickets"], out["prev_month"], strict=True)
    ]
    out["yoy_pct"] = [
        None if pd.isna(b) else _pct_round(trends.pct_change(a, b))
        for a, b in zip(out["tickets"], out["last_year"], strict=True)
    ]  # fmt: skip
    return out[cols]


def ranking_section(con: duckdb.DuckDBPyConnection, m: pd.Period, k: dict[str, Any], lang: str) -> Section:
    frame = ranking_frame(con, m)
    if frame.empty:
        return Section(SECTION_RANKING, "", [text("br_no_data", lang)])
    n = len(frame)
    new = sum(briefing_layout.missing(r) or int(r) > LIST_N for r in frame["last_rank"])
    lead = text(
        "br_rank_lead",
        lang,
        n=n,
        tickets=_count(frame["tickets"].sum()),
        share=cell_text(frame["tickets"].sum() / k["tickets"] if k["tickets"] else None, "share"),
    )
    lead += text("br_rank_new", lang, new=new, n=LIST_N) if new else text("br_rank_no_new", lang, n=LIST_N)
    cols = ["rank", "move", "name", "community", "subdistrict", "tickets", "prev_month", "mom_pct", "last_year",
            "yoy_pct"]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            (rec.rank, "rank"),
            (movement(rec.rank, rec.last_rank, LIST_N, lang), "text"),
            (rec.name, "text"),
            (rec.community, "text"),
            (rec.subdistrict, "text"),
            (rec.tickets, "count"),
            (rec.prev_month, "count"),
            (rec.mom_pct, "change"),
            (rec.last_year, "count"),
            (rec.yoy_pct, "change"),
        ]
        for rec in frame.itertuples(index=False)
    ]
    table = Table([text(f"br_col_{c}", lang) for c in cols], rows)
    return Section(SECTION_RANKING, "", [lead, table, text("br_rank_note", lang, n=LIST_N)])


# --------------------------------------------------------------------------- 四、专班进展


TF_MONTH_SQL = """
SELECT compound_id, count(*) AS this_month
FROM tickets
WHERE compound_id IN (SELECT unnest(?::VARCHAR[])) AND created_at >= ? AND created_at < ?
GROUP BY compound_id
"""


def _exit_text(rec: Any, lang: str) -> str:
    if briefing_layout.missing(rec.target):
        return text("br_na", lang)
    values = {
        "n": 0 if briefing_layout.missing(rec.months_below) else int(rec.months_below),
        "k": int(rec.exit_months),
        "target": cell_text(rec.target, "mean"),
    }
    return text("br_exit_met" if bool(rec.meets_exit_rule) else "br_exit_progress", lang, **values)


def _review_text(rec: Any, lang: str) -> str | None:
    """The planned exit review, marked when it is due or past as of the briefing's month."""
    if rec.review_state == deadlines.CLOSED:
        return None
    day = date_text(rec.review_date, lang)
    if rec.review_state in (deadlines.OVERDUE, deadlines.DUE):
        return text(f"br_review_{rec.review_state}", lang, date=day)
    return day


def taskforces_section(
    con: duckdb.DuckDBPyConnection, m: pd.Period, k: dict[str, Any], newest: Any, lang: str
) -> Section:
    hi = (m + 1).start_time
    as_of = min(m.end_time.date(), pd.Timestamp(newest).date()) if newest is not None else m.end_time.date()
    ledger = records.ledger(con, as_of=as_of)
    if not ledger.empty:
        ledger = ledger[pd.to_datetime(ledger["start_date"]) < hi]
    if ledger.empty:
        return Section(SECTION_TASKFORCES, "", [text("br_tf_none", lang)])
    ids = sorted(ledger["compound_id"].astype(str).unique())
    this = db.query_df(con, TF_MONTH_SQL, [ids, m.start_time, hi]).set_index("compound_id")["this_month"]
    ledger = ledger.assign(this_month=ledger["compound_id"].map(this).fillna(0).astype(int))
    ledger = ledger.sort_values(["this_month", "compound_id"], ascending=[False, True])
    tf = k.get("taskforce") or {}
    met = int(ledger["meets_exit_rule"].fillna(False).astype(bool).sum())
    blocks: list[str | Table] = [
        text(
            "br_tf_lead",
            lang,
            n=len(ledger),
            compounds=ledger["compound_id"].nunique(),
            tickets=_count(tf.get("tickets", int(ledger["this_month"].sum()))),
            last=_count(tf.get("last_year_tickets")),
            change=_change(tf.get("yoy_pct"), lang),
            met=text("br_tf_met", lang, met=met) if met else text("br_tf_met_none", lang),
        )
    ]
    ledger = deadlines.review_schedule(ledger, today=as_of)
    ended = ledger["end_date"].notna().any()
    cols = ["name", "leader", "head", "start"] + (["end"] if ended else [])
    cols += ["review", "before_monthly", "after_monthly", "this_month", "status", "exit_rule"]
    rows: list[list[Cell]] = []
    for rec in ledger.itertuples(index=False):
        row: list[Cell] = [
            (rec.compound_name if isinstance(rec.compound_name, str) else rec.compound_id, "text"),
            (rec.leader if isinstance(rec.leader, str) else None, "text"),
            (rec.head if isinstance(rec.head, str) else None, "text"),
            (date_text(rec.start_date, lang), "text"),
        ]
        if ended:
            row.append((date_text(rec.end_date, lang), "text"))
        row += [
            (_review_text(rec, lang), "text"),
            (rec.tickets_before_monthly, "mean"),
            (rec.tickets_after_monthly, "mean"),
            (rec.this_month, "count"),
            (value_text(rec.status, lang), "text"),
            (_exit_text(rec, lang), "text"),
        ]
        rows.append(row)
    blocks.append(Table([text(f"br_col_{c}", lang) for c in cols], rows))
    blocks.append(text("br_tf_note", lang))
    return Section(SECTION_TASKFORCES, "", blocks)


# --------------------------------------------------------------------------- 五、整治成效


def _interval(lo: Any, hi: Any, lang: str) -> str:
    if briefing_layout.missing(lo) or briefing_layout.missing(hi):
        return briefing_layout.MISSING
    return text("br_fx_interval", lang, lo=cell_text(lo, "change"), hi=cell_text(hi, "change"))


def effects_section(con: duckdb.DuckDBPyConnection, lang: str) -> Section:
    try:
        # the variant the dashboard keeps stored; its headline figures are those of the page
        res = effects.stored_effects(con, by_category=False)
    except HotlineError:
        res = None
    if res is None or res.adjusted_effect_pct is None:
        # the simple comparison alone is what the briefing must not lead with: say why there is no more
        return Section(SECTION_EFFECTS, "", [text("br_fx_none", lang)])
    lead = text(
        "br_fx_lead", lang, treated=res.treated, start=date_text(res.start, lang), controls=res.controls
    )
    rows: list[list[Cell]] = [
        [(text("br_fx_naive", lang), "text"), (_pct_round(res.naive_change_pct), "change"),
         (briefing_layout.MISSING, "text"), (text("br_fx_naive_note", lang), "text")],
        [(text("br_fx_placebo", lang), "text"), (_pct_round(res.placebo_change_pct), "change"),
         (briefing_layout.MISSING, "text"), (text("br_fx_placebo_note", lang), "text")],
        [(text("br_fx_adjusted", lang), "text"), (_pct_round(res.adjusted_effect_pct), "change"),
         (_interval(res.ci_low_pct, res.ci_high_pct, lang), "text"), (text("br_fx_adjusted_note", lang), "text")],
    ]  # fmt: skip
    net = getattr(res, "net_effect_pct", None)
    if not briefing_layout.missing(net):
        lo, hi = getattr(res, "net_ci_low_pct", None), getattr(res, "net_ci_high_pct", None)
        rows.append(
            [(text("br_fx_net", lang), "text"), (_pct_round(net), "change"),
             (_interval(lo, hi, lang), "text"), (text("br_fx_net_note", lang), "text")]
        )  # fmt: skip
    table = Table(
        [text(f"br_col_{c}", lang) for c in ("fx_measure", "fx_change", "fx_interval", "note")], rows
    )
    # the page's own reading, caveat included, so the two never word it differently
    return Section(SECTION_EFFECTS, "", [lead, table, effects_text.summary(res, lang)])
