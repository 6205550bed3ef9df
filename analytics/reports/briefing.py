"""The leaders' monthly briefing (月度通报), in the layout local 12345 offices publish.

Sections, each one table (the keys of `briefing_tables`, also the sheet names):

- 总体情况: headline numbers of the month: tickets, 环比, 同比, rates, repeat share, task forces;
- 街道情况: per subdistrict: tickets, last month, 环比, same month last year, 同比, resolution
  and satisfaction rates;
- 小区前十: the ten compounds with the most tickets this month, with 环比 and 同比;
- 同比升降: the compounds with the largest rise and fall vs the same month last year (arrows);
- 专班进展: every task force: leader, head, start, monthly tickets before, this month, the same
  month last year, status and the exit rule.

`briefing_xlsx` writes them as one workbook (title row, formatted headers, column widths) via
xlsxwriter; `briefing_html` as one printable page. Percentages are numbers of percent (-20.3),
rates are shares (0.843) shown as percent. Numbers here are the same functions the overview page
calls, so the briefing and the dashboard never disagree.
"""

from __future__ import annotations

import html
import io
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.config import LIST_N, REPEAT_DAYS
from analytics.errors import NotFound
from analytics.metrics import trends
from analytics.metrics.rates import service_rates
from analytics.reports import exports
from analytics.services import taskforces
from analytics.store import db

DEFAULT_TITLE = "12345热线小区工单月度通报"
SECTION_SUMMARY = "总体情况"
SECTION_SUBDISTRICTS = "街道情况"
SECTION_TOP = "小区前十"
SECTION_MOVERS = "同比升降"
SECTION_TASKFORCES = "专班进展"
SECTIONS = (SECTION_SUMMARY, SECTION_SUBDISTRICTS, SECTION_TOP, SECTION_MOVERS, SECTION_TASKFORCES)
# column name -> number format kind; anything else is text or a plain number
PCT_COLUMNS = {"环比（%）", "同比（%）", "变化（%）"}
SHARE_COLUMNS = {"解决率", "满意率", "按时办结率"}
HTML_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "SimSun", sans-serif; margin: 2em; color: #222; }
h1 { text-align: center; font-size: 22pt; margin-bottom: 0.2em; }
.sub { text-align: center; color: #555; margin-bottom: 1.5em; }
h2 { font-size: 14pt; border-left: 4px solid #c0392b; padding-left: 0.4em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; font-size: 10.5pt; }
th, td { border: 1px solid #999; padding: 3px 6px; }
th { background: #f2f2f2; }
td.num { text-align: right; }
.up { color: #c0392b; } .down { color: #1e8449; }
@media print { body { margin: 1cm; } h2 { page-break-after: avoid; } table { page-break-inside: auto; } }
"""


def _month(month: Any) -> pd.Period:
    return calendar.parse_month(month)


def month_label(month: Any) -> str:
    m = _month(month)
    return f"{m.year}年{m.month}月"


def briefing_title(con: duckdb.DuckDBPyConnection, month: Any) -> str:
    """'兰山区12345热线小区工单月度通报（2024年6月）' (district name from the setting, if any)."""
    district = db.get_setting(con, "district_name") or ""
    return f"{district}{DEFAULT_TITLE}（{month_label(month)}）"


def _pct_round(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)


def _summary(con: duckdb.DuckDBPyConnection, month: pd.Period) -> tuple[pd.DataFrame, dict[str, Any]]:
    k = trends.district_kpis(con, month)
    rows: list[tuple[str, Any, str]] = [
        ("受理工单总量（件）", k["tickets"], ""),
        ("上月工单量（件）", k["prev_month_tickets"], ""),
        ("环比（%）", _pct_round(k["mom_pct"]), ""),
        ("去年同月工单量（件）", k["last_year_tickets"], ""),
        ("同比（%）", _pct_round(k["yoy_pct"]), "春节月份错位，同比失真" if k["festival_shift"] else ""),
        ("有效工单（件）", k["valid_tickets"], ""),
        (
            "每百户有效工单（件）",
            None if k["rate_per_100_households"] is None else round(k["rate_per_100_households"], 2),
            "",
        ),
        ("响应率", k["response_rate"], ""),
        ("解决率", k["resolution_rate"], ""),
        ("满意率", k["satisfaction_rate"], ""),
        ("按时办结率", k["on_time_rate"], ""),
        (f"{REPEAT_DAYS}天内重复来电占比", k["repeat_share"], ""),
    ]
    if k.get("janfeb_yoy_pct") is not None:
        rows.append(("1-2月合计同比（%）", _pct_round(k["janfeb_yoy_pct"]), "合并1、2月以消除春节错位"))
    tf = k.get("taskforce")
    if tf:
        rows += [
            ("专班小区数（个）", tf["compounds"], ""),
            ("专班小区本月工单（件）", tf["tickets"], ""),
            ("专班小区同比（%）", _pct_round(tf["yoy_pct"]), "简单同比，含高峰自然回落，见整治成效页"),
        ]
    frame = pd.DataFrame(rows, columns=["指标", "数值", "说明"])
    return frame, k


def _subdistricts(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    counts = trends.monthly_counts(con, "subdistrict", str(month - 12), str(month))
    cols = ["街道", "工单量", "上月", "环比（%）", "去年同月", "同比（%）", "解决率", "满意率"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    moved = trends.yoy_mom(counts)
    now = moved[moved["month"] == month.start_time]
    rates = service_rates(con, str(month), str(month), group_by="subdistrict").set_index("key")
    district = service_rates(con, str(month), str(month))
    district_row = district.iloc[0] if len(district) else pd.Series(dtype=float)
    out = pd.DataFrame(
        {
            "街道": now["key"].to_numpy(),
            "工单量": now["tickets"].astype(int).to_numpy(),
            "上月": now["prev_month"].to_numpy(),
            "环比（%）": now["mom_pct"].round(1).to_numpy(),
            "去年同月": now["prev_year"].to_numpy(),
            "同比（%）": now["yoy_pct"].round(1).to_numpy(),
        }
    )
    out["解决率"] = out["街道"].map(rates.get("resolution_rate", pd.Series(dtype=float)))
    out["满意率"] = out["街道"].map(rates.get("satisfaction_rate", pd.Series(dtype=float)))
    out = out.sort_values(["工单量", "街道"], ascending=[False, True]).reset_index(drop=True)
    total = pd.DataFrame(
        [
            {
                "街道": "合计",
                "工单量": int(out["工单量"].sum()),
                "上月": out["上月"].sum(min_count=1),
                "环比（%）": _pct_round(trends.pct_change(out["工单量"].sum(), out["上月"].sum()))
                if out["上月"].notna().any()
                else None,
                "去年同月": out["去年同月"].sum(min_count=1),
                "同比（%）": _pct_round(trends.pct_change(out["工单量"].sum(), out["去年同月"].sum()))
                if out["去年同月"].notna().any()
                else None,
                "解决率": district_row.get("resolution_rate"),
                "满意率": district_row.get("satisfaction_rate"),
            }
        ]
    )
    return pd.concat([out, total], ignore_index=True)[cols]


def _top_compounds(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    cols = [
        "排名",
        "小区编号",
        "小区",
        "社区",
        "街道",
        "工单量",
        "上月",
        "环比（%）",
        "去年同月",
        "同比（%）",
    ]
    counts = trends.monthly_counts(con, "compound", str(month - 12), str(month))
    if counts.empty:
        return pd.DataFrame(columns=cols)
    # one pivot instead of trends.yoy_mom per compound: a district has ~1,100 of them
    wide = counts.pivot_table(index="key", columns="month", values="tickets", aggfunc="sum", fill_value=0)
    now = wide.get(month.start_time, pd.Series(0, index=wide.index))
    prev = wide.get((month - 1).start_time)
    last = wide.get((month - 12).start_time)
    frame = pd.DataFrame({"tickets": now})
    frame["prev"] = prev if prev is not None else float("nan")
    frame["last"] = last if last is not None else float("nan")
    frame = frame[frame["tickets"] > 0].reset_index()
    frame = frame.sort_values(["tickets", "key"], ascending=[False, True]).head(LIST_N)
    where = db.query_df(con, "SELECT compound_id AS key, name, community, subdistrict FROM compounds")
    frame = frame.merge(where, on="key", how="left")
    return pd.DataFrame(
        {
            "排名": range(1, len(frame) + 1),
            "小区编号": frame["key"].to_numpy(),
            "小区": frame["name"].fillna(frame["key"]).to_numpy(),
            "社区": frame["community"].to_numpy(),
            "街道": frame["subdistrict"].to_numpy(),
            "工单量": frame["tickets"].astype(int).to_numpy(),
            "上月": frame["prev"].to_numpy(),
            "环比（%）": [
                _pct_round(trends.pct_change(a, b))
                for a, b in zip(frame["tickets"], frame["prev"], strict=True)
            ],
            "去年同月": frame["last"].to_numpy(),
            "同比（%）": [
                _pct_round(trends.pct_change(a, b))
                for a, b in zip(frame["tickets"], frame["last"], strict=True)
            ],
        }
    )[cols]


def _movers(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    tb = trends.top_bottom(con, str(month), n=LIST_N)
    return pd.DataFrame(
        {
            "方向": tb["direction"].map({"rise": "上升", "fall": "下降"}).to_numpy(),
            "": tb["arrow"].to_numpy(),
            "小区编号": tb["compound_id"].to_numpy(),
            "小区": tb["name"].to_numpy(),
            "社区": tb["community"].to_numpy(),
            "本月": tb["tickets"].astype(int).to_numpy(),
            "去年同月": tb["last_year"].astype(int).to_numpy(),
            "增减（件）": tb["change"].astype(int).to_numpy(),
            "变化（%）": tb["change_pct"].round(1).to_numpy(),
        }
    )


TF_MONTH_SQL = """
SELECT compound_id,
       count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS this_month,
       count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS last_year
FROM tickets
WHERE compound_id IN (SELECT unnest(?::VARCHAR[])) AND created_at >= ? AND created_at < ?
GROUP BY compound_id
"""


def _taskforces(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    cols = ["小区编号", "小区", "社区", "包保领导", "专班组长", "进驻日期", "进驻前月均", "本月", "去年同月",
            "同比（%）", "状态", "撤出目标（件/月）", "连续达标月数", "满足撤出条件"]  # fmt: skip
    ledger = taskforces.ledger(con)
    if ledger.empty:
        return pd.DataFrame(columns=cols)
    ledger = ledger[pd.to_datetime(ledger["start_date"]) < (month + 1).start_time]
    if ledger.empty:
        return pd.DataFrame(columns=cols)
    lo, hi = month.start_time, (month + 1).start_time
    ly_lo, ly_hi = (month - 12).start_time, (month - 11).start_time
    ids = sorted(ledger["compound_id"].astype(str).unique())
    counts = db.query_df(con, TF_MONTH_SQL, [lo, hi, ly_lo, ly_hi, ids, ly_lo, hi]).set_index("compound_id")
    this = ledger["compound_id"].map(counts["this_month"]).fillna(0).astype(int)
    last = ledger["compound_id"].map(counts["last_year"]).fillna(0).astype(int)
    out = pd.DataFrame(
        {
            "小区编号": ledger["compound_id"].to_numpy(),
            "小区": ledger["compound_name"].to_numpy(),
            "社区": ledger["community"].to_numpy(),
            "包保领导": ledger["leader"].to_numpy(),
            "专班组长": ledger["head"].to_numpy(),
            "进驻日期": pd.to_datetime(ledger["start_date"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "进驻前月均": ledger["tickets_before_monthly"].round(1).to_numpy(),
            "本月": this.to_numpy(),
            "去年同月": last.to_numpy(),
            "同比（%）": [_pct_round(trends.pct_change(a, b)) for a, b in zip(this, last, strict=True)],
            "状态": ledger["status"].to_numpy(),
            "撤出目标（件/月）": ledger["target"].to_numpy(),
            "连续达标月数": ledger["months_below"].to_numpy(),
            "满足撤出条件": ledger["meets_exit_rule"].map({True: "是", False: "否"}).to_numpy(),
        }
    )
    return out.sort_values(["本月", "小区编号"], ascending=[False, True]).reset_index(drop=True)[cols]


COMPOUND_SQL = "SELECT compound_id, community, subdistrict, lat, lon, households FROM compounds"


def compound_month(con: duckdb.DuckDBPyConnection, month: Any) -> pd.DataFrame:
    """Every compound's tickets in `month` with where it sits (for the treemap and the map).

    Columns: compound_id, name, community, subdistrict, lat, lon, households, tickets.
    """
    m = _month(month)
    counts = trends.monthly_counts(con, "compound", str(m), str(m))
    where = db.query_df(con, COMPOUND_SQL)
    out = counts[["key", "name", "tickets"]].rename(columns={"key": "compound_id"})
    out = where.merge(out, on="compound_id", how="left")
    out["tickets"] = out["tickets"].fillna(0).astype(int)
    out["name"] = out["name"].fillna(out["compound_id"])
    return out[["compound_id", "name", "community", "subdistrict", "lat", "lon", "households", "tickets"]]


def briefing_tables(con: duckdb.DuckDBPyConnection, month: Any) -> dict[str, pd.DataFrame]:
    """The briefing's tables for `month` ('YYYY-MM'), keyed by section name (see SECTIONS).

    attrs of the 总体情况 frame carry the raw KPI dict (`kpis`), the month and the title.
    """
    m = _month(month)
    if db.query_one(con, "SELECT count(*) FROM tickets") == 0:
        raise NotFound(
            "库中还没有工单，无法生成通报。请先导入工单。", "No tickets in the store yet; ingest some first."
        )
    summary, kpis = _summary(con, m)
    summary.attrs.update(kpis=kpis, month=str(m), title=briefing_title(con, m))
    return {
        SECTION_SUMMARY: summary,
        SECTION_SUBDISTRICTS: _subdistricts(con, m),
        SECTION_TOP: _top_compounds(con, m),
        SECTION_MOVERS: _movers(con, m),
        SECTION_TASKFORCES: _taskforces(con, m),
    }


def _is_share_row(section: str, row: pd.Series) -> bool:
    return section == SECTION_SUMMARY and ("率" in str(row["指标"]) or "占比" in str(row["指标"]))


def briefing_xlsx(
    con: duckdb.DuckDBPyConnection, month: Any, tables: dict[str, pd.DataFrame] | None = None
) -> bytes:
    """The briefing as an Excel workbook: one sheet per section, a merged title row, bold
    headers with borders, percent formats and column widths. Text is formula-neutralised."""
    tables = tables if tables is not None else briefing_tables(con, month)
    title = briefing_title(con, month)
    buf = io.BytesIO()
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "remove_timezone": True,
        "nan_inf_to_errors": False,
    }
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        book = xl.book
        f_title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        f_head = book.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "border": 1, "align": "center", "text_wrap": True}
        )
        f_cell = book.add_format({"border": 1})
        f_pct = book.add_format({"border": 1, "num_format": '0.0"%"'})
        f_share = book.add_format({"border": 1, "num_format": "0.0%"})
        f_num = book.add_format({"border": 1, "num_format": "#,##0.##"})
        for section, frame in tables.items():
            data = exports.neutralise_frame(frame)
            data.to_excel(xl, sheet_name=section, index=False, startrow=2, header=False)
            sheet = xl.sheets[section]
            ncol = max(len(data.columns), 1)
            if ncol > 1:
                sheet.merge_range(0, 0, 0, ncol - 1, f"{title} · {section}", f_title)
            else:
                sheet.write(0, 0, f"{title} · {section}", f_title)
            sheet.set_row(0, 28)
            for j, col in enumerate(data.columns):
                sheet.write(1, j, col, f_head)
                width = max([len(str(col)) * 2 + 2] + [len(str(v)) * 2 for v in data[col].head(50)] + [8])
                sheet.set_column(j, j, min(width, 40))
            for i, (_, row) in enumerate(data.iterrows()):
                share_row = _is_share_row(section, row)
                for j, col in enumerate(data.columns):
                    value = row[col]
                    if value is None or (not isinstance(value, str) and pd.isna(value)):
                        sheet.write_blank(2 + i, j, None, f_cell)
                        continue
                    if isinstance(value, str):
                        sheet.write_string(2 + i, j, value, f_cell)
                        continue
                    if col in PCT_COLUMNS or (
                        section == SECTION_SUMMARY and col == "数值" and "（%）" in str(row["指标"])
                    ):
                        fmt = f_pct
                    elif col in SHARE_COLUMNS or (col == "数值" and share_row):
                        fmt = f_share
                    else:
                        fmt = f_num
                    sheet.write_number(2 + i, j, float(value), fmt)
            sheet.freeze_panes(2, 0)
            sheet.set_landscape()
            sheet.fit_to_pages(1, 0)
            sheet.repeat_rows(1)
    return buf.getvalue()


def _cell(section: str, col: str, row: pd.Series) -> tuple[str, str]:
    """(text, css class) of one cell for the printable page."""
    value = row[col]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—", "num"
    if isinstance(value, str):
        return html.escape(value), ""
    if isinstance(value, bool):
        return ("是" if value else "否"), ""
    is_pct = col in PCT_COLUMNS or (
        section == SECTION_SUMMARY and col == "数值" and "（%）" in str(row["指标"])
    )
    if is_pct:
        cls = "num up" if value > 0 else "num down" if value < 0 else "num"
        return f"{value:+.1f}%", cls
    if col in SHARE_COLUMNS or (col == "数值" and _is_share_row(section, row)):
        return f"{value:.1%}", "num"
    if float(value).is_integer():
        return f"{int(value):,}", "num"
    return f"{value:,.2f}", "num"


def briefing_html(
    con: duckdb.DuckDBPyConnection, month: Any, tables: dict[str, pd.DataFrame] | None = None
) -> str:
    """The briefing as one self-contained printable HTML page (no scripts, no external files)."""
    tables = tables if tables is not None else briefing_tables(con, month)
    title = briefing_title(con, month)
    kpis = tables[SECTION_SUMMARY].attrs.get("kpis") or trends.district_kpis(con, _month(month))
    yoy = kpis.get("yoy_pct")
    lead = f"{month_label(month)}共受理工单 {kpis['tickets']:,} 件" + (
        f"，同比{'上升' if yoy > 0 else '下降'} {abs(yoy):.1f}%。" if yoy is not None else "。"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{html.escape(lead)}</p>',
    ]
    numerals = "一二三四五六七八九十"
    for k, (section, frame) in enumerate(tables.items()):
        parts.append(f"<h2>{numerals[k]}、{html.escape(section)}</h2>")
        if frame.empty:
            parts.append("<p>本月无数据。</p>")
            continue
        parts.append("<table><thead><tr>")
        parts += [f"<th>{html.escape(str(c))}</th>" for c in frame.columns]
        parts.append("</tr></thead><tbody>")
        for _, row in frame.iterrows():
            cells = [_cell(section, str(c), row) for c in frame.columns]
            parts.append("<tr>" + "".join(f'<td class="{cls}">{text}</td>' for text, cls in cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.append(
        '<p class="sub">注：同比、环比为简单比较；专班小区的降幅包含高峰过后的自然回落，'
        "调整后的成效及其区间见看板“整治成效”页。</p></body></html>"
    )
    return "\n".join(parts)
