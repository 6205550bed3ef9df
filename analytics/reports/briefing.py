"""The leaders' monthly briefing (月度通报), in the layout local 12345 offices publish, in Chinese
(the default) or English; every word comes from the catalogue (`analytics.reports.text`, keys `br_*`).

Sections, each one table (the keys of `briefing_tables`; their titles are the sheet names):

- summary (总体情况): headline numbers of the month: tickets, 环比, 同比, rates, repeat share,
  task forces;
- subdistricts (街道情况): per subdistrict: tickets, last month, 环比, same month last year, 同比,
  resolution and satisfaction rates;
- top (小区前十): the ten compounds with the most tickets this month, with 环比 and 同比;
- movers (同比升降): the compounds with the largest rise and fall vs the same month last year (arrows);
- taskforces (专班进展): every task force: leader, head, start, monthly tickets before, this month,
  the same month last year, status and the exit rule.

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
from analytics.reports.text import text, value_text
from analytics.services.taskforces import records
from analytics.store import db

SECTION_SUMMARY = "summary"
SECTION_SUBDISTRICTS = "subdistricts"
SECTION_TOP = "top"
SECTION_MOVERS = "movers"
SECTION_TASKFORCES = "taskforces"
SECTIONS = (SECTION_SUMMARY, SECTION_SUBDISTRICTS, SECTION_TOP, SECTION_MOVERS, SECTION_TASKFORCES)
# column -> number format kind; anything else is text or a plain number
PCT_COLUMNS = {"mom_pct", "yoy_pct", "change_pct"}
SHARE_COLUMNS = {"resolution_rate", "satisfaction_rate"}
# summary rows shown as a percent change or as a share (the others are counts)
PCT_ROWS = {"mom_pct", "yoy_pct", "janfeb_yoy", "tf_yoy"}
SHARE_ROWS = {"response", "resolution", "satisfaction", "on_time", "repeat"}
TOTAL = "__total__"  # the subdistricts' total row, worded with the table
HTML_LANG = {"zh": "zh-CN", "en": "en"}
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


def month_label(month: Any, lang: str = "zh") -> str:
    m = _month(month)
    return text("br_month", lang, year=m.year, month=m.month)


def briefing_title(con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh") -> str:
    """'兰山区12345热线小区工单月度通报（2024年6月）' (district name from the setting, if any)."""
    district = db.get_setting(con, "district_name") or ""
    if district and lang == "en":
        district += " "
    return text("br_heading", lang, district=district, month=month_label(month, lang))


def section_title(section: str, lang: str = "zh") -> str:
    """A section's title (also its sheet name): '总体情况' for 'summary'."""
    return text(f"br_section_{section}", lang)


def _pct_round(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)


def _summary(con: duckdb.DuckDBPyConnection, month: pd.Period) -> tuple[pd.DataFrame, dict[str, Any]]:
    k = trends.district_kpis(con, month)
    rows: list[tuple[str, Any, str]] = [
        ("tickets", k["tickets"], ""),
        ("prev_month", k["prev_month_tickets"], ""),
        ("mom_pct", _pct_round(k["mom_pct"]), ""),
        ("last_year", k["last_year_tickets"], ""),
        ("yoy_pct", _pct_round(k["yoy_pct"]), "festival" if k["festival_shift"] else ""),
        ("valid", k["valid_tickets"], ""),
        (
            "rate",
            None if k["rate_per_100_households"] is None else round(k["rate_per_100_households"], 2),
            "",
        ),
        ("response", k["response_rate"], ""),
        ("resolution", k["resolution_rate"], ""),
        ("satisfaction", k["satisfaction_rate"], ""),
        ("on_time", k["on_time_rate"], ""),
        ("repeat", k["repeat_share"], ""),
    ]
    if k.get("janfeb_yoy_pct") is not None:
        rows.append(("janfeb_yoy", _pct_round(k["janfeb_yoy_pct"]), "janfeb"))
    tf = k.get("taskforce")
    if tf:
        rows += [
            ("tf_compounds", tf["compounds"], ""),
            ("tf_tickets", tf["tickets"], ""),
            ("tf_yoy", _pct_round(tf["yoy_pct"]), "tf"),
        ]
    frame = pd.DataFrame(rows, columns=["measure", "value", "note"])
    return frame, k


def _subdistricts(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    counts = trends.monthly_counts(con, "subdistrict", str(month - 12), str(month))
    cols = ["subdistrict", "tickets", "prev_month", "mom_pct", "last_year", "yoy_pct", "resolution_rate",
            "satisfaction_rate"]  # fmt: skip
    if counts.empty:
        return pd.DataFrame(columns=cols)
    moved = trends.yoy_mom(counts)
    now = moved[moved["month"] == month.start_time]
    rates = service_rates(con, str(month), str(month), group_by="subdistrict").set_index("key")
    district = service_rates(con, str(month), str(month))
    district_row = district.iloc[0] if len(district) else pd.Series(dtype=float)
    out = pd.DataFrame(
        {
            "subdistrict": now["key"].to_numpy(),
            "tickets": now["tickets"].astype(int).to_numpy(),
            "prev_month": now["prev_month"].to_numpy(),
            "mom_pct": now["mom_pct"].round(1).to_numpy(),
            "last_year": now["prev_year"].to_numpy(),
            "yoy_pct": now["yoy_pct"].round(1).to_numpy(),
        }
    )
    out["resolution_rate"] = out["subdistrict"].map(rates.get("resolution_rate", pd.Series(dtype=float)))
    out["satisfaction_rate"] = out["subdistrict"].map(rates.get("satisfaction_rate", pd.Series(dtype=float)))
    out = out.sort_values(["tickets", "subdistrict"], ascending=[False, True]).reset_index(drop=True)
    total = pd.DataFrame(
        [
            {
                "subdistrict": TOTAL,
                "tickets": int(out["tickets"].sum()),
                "prev_month": out["prev_month"].sum(min_count=1),
                "mom_pct": _pct_round(trends.pct_change(out["tickets"].sum(), out["prev_month"].sum()))
                if out["prev_month"].notna().any()
                else None,
                "last_year": out["last_year"].sum(min_count=1),
                "yoy_pct": _pct_round(trends.pct_change(out["tickets"].sum(), out["last_year"].sum()))
                if out["last_year"].notna().any()
                else None,
                "resolution_rate": district_row.get("resolution_rate"),
                "satisfaction_rate": district_row.get("satisfaction_rate"),
            }
        ]
    )
    return pd.concat([out, total], ignore_index=True)[cols]


def _top_compounds(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    cols = ["rank", "compound_id", "name", "community", "subdistrict", "tickets", "prev_month", "mom_pct",
            "last_year", "yoy_pct"]  # fmt: skip
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
            "rank": range(1, len(frame) + 1),
            "compound_id": frame["key"].to_numpy(),
            "name": frame["name"].fillna(frame["key"]).to_numpy(),
            "community": frame["community"].to_numpy(),
            "subdistrict": frame["subdistrict"].to_numpy(),
            "tickets": frame["tickets"].astype(int).to_numpy(),
            "prev_month": frame["prev"].to_numpy(),
            "mom_pct": [
                _pct_round(trends.pct_change(a, b))
                for a, b in zip(frame["tickets"], frame["prev"], strict=True)
            ],
            "last_year": frame["last"].to_numpy(),
            "yoy_pct": [
                _pct_round(trends.pct_change(a, b))
                for a, b in zip(frame["tickets"], frame["last"], strict=True)
            ],
        }
    )[cols]


def _movers(con: duckdb.DuckDBPyConnection, month: pd.Period) -> pd.DataFrame:
    tb = trends.top_bottom(con, str(month), n=LIST_N)
    return pd.DataFrame(
        {
            "direction": tb["direction"].to_numpy(),
            "arrow": tb["arrow"].to_numpy(),
            "compound_id": tb["compound_id"].to_numpy(),
            "name": tb["name"].to_numpy(),
            "community": tb["community"].to_numpy(),
            "this_month": tb["tickets"].astype(int).to_numpy(),
            "last_year": tb["last_year"].astype(int).to_numpy(),
            "change": tb["change"].astype(int).to_numpy(),
            "change_pct": tb["change_pct"].round(1).to_numpy(),
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
    cols = ["compound_id", "name", "community", "leader", "head", "start", "before_monthly", "this_month",
            "last_year", "yoy_pct", "status", "target", "months_below", "meets_exit_rule"]  # fmt: skip
    ledger = records.ledger(con)
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
            "compound_id": ledger["compound_id"].to_numpy(),
            "name": ledger["compound_name"].to_numpy(),
            "community": ledger["community"].to_numpy(),
            "leader": ledger["leader"].to_numpy(),
            "head": ledger["head"].to_numpy(),
            "start": pd.to_datetime(ledger["start_date"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "before_monthly": ledger["tickets_before_monthly"].round(1).to_numpy(),
            "this_month": this.to_numpy(),
            "last_year": last.to_numpy(),
            "yoy_pct": [_pct_round(trends.pct_change(a, b)) for a, b in zip(this, last, strict=True)],
            "status": ledger["status"].to_numpy(),
            "target": ledger["target"].to_numpy(),
            "months_below": ledger["months_below"].to_numpy(),
            "meets_exit_rule": ledger["meets_exit_rule"].to_numpy(),
        }
    )
    return out.sort_values(["this_month", "compound_id"], ascending=[False, True]).reset_index(drop=True)[
        cols
    ]


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


def _worded(section: str, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A section's frame as the reader sees it: headers, row names, notes and coded values in
    `lang`. attrs keep what the writers format by: `column_kinds` (pct / share / '' per column)
    and, for the summary, `row_kinds` (of its value column)."""
    out = frame.copy()
    if section == SECTION_SUMMARY:
        out.attrs["row_kinds"] = [
            "pct" if m in PCT_ROWS else "share" if m in SHARE_ROWS else "" for m in out["measure"]
        ]
        out["measure"] = [text(f"br_row_{m}", lang, days=REPEAT_DAYS) for m in out["measure"]]
        out["note"] = [text(f"br_note_{n}", lang) if n else "" for n in out["note"]]
    if "subdistrict" in out and section == SECTION_SUBDISTRICTS:
        out["subdistrict"] = [text("br_total", lang) if v == TOTAL else v for v in out["subdistrict"]]
    if "direction" in out:
        out["direction"] = [text(f"br_{d}", lang) for d in out["direction"]]
    if "status" in out:
        out["status"] = [value_text(v, lang) for v in out["status"]]
    if "meets_exit_rule" in out:
        out["meets_exit_rule"] = [text("yes" if bool(v) else "no", lang) for v in out["meets_exit_rule"]]
    out.attrs["column_kinds"] = [
        "pct" if c in PCT_COLUMNS else "share" if c in SHARE_COLUMNS else "" for c in out.columns
    ]
    out.columns = [text(f"br_col_{c}", lang) for c in out.columns]
    return out


def briefing_tables(con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The briefing's tables for `month` ('YYYY-MM') in `lang`, keyed by section (see SECTIONS).

    attrs of the summary frame carry the raw KPI dict (`kpis`), the month and the title.
    """
    m = _month(month)
    if db.query_one(con, "SELECT count(*) FROM tickets") == 0:
        raise NotFound(
            "库中还没有工单，无法生成通报。请先导入工单。", "No tickets in the store yet; ingest some first."
        )
    summary, kpis = _summary(con, m)
    frames = {
        SECTION_SUMMARY: summary,
        SECTION_SUBDISTRICTS: _subdistricts(con, m),
        SECTION_TOP: _top_compounds(con, m),
        SECTION_MOVERS: _movers(con, m),
        SECTION_TASKFORCES: _taskforces(con, m),
    }
    tables = {section: _worded(section, frame, lang) for section, frame in frames.items()}
    tables[SECTION_SUMMARY].attrs.update(kpis=kpis, month=str(m), title=briefing_title(con, m, lang))
    return tables


def _kind(frame: pd.DataFrame, i: int, j: int) -> str:
    """How the cell at row i, column j is shown: 'pct' (a change in percent), 'share' or ''."""
    kind = (frame.attrs.get("column_kinds") or [""] * len(frame.columns))[j]
    rows = frame.attrs.get("row_kinds")
    if rows is not None and j == 1:  # the summary's value column
        kind = rows[i]
    return kind


def briefing_xlsx(
    con: duckdb.DuckDBPyConnection,
    month: Any,
    tables: dict[str, pd.DataFrame] | None = None,
    lang: str = "zh",
) -> bytes:
    """The briefing as an Excel workbook: one sheet per section, a merged title row, bold
    headers with borders, percent formats and column widths. Text is formula-neutralised."""
    tables = tables if tables is not None else briefing_tables(con, month, lang)
    title = briefing_title(con, month, lang)
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
        formats = {
            "pct": book.add_format({"border": 1, "num_format": '0.0"%"'}),
            "share": book.add_format({"border": 1, "num_format": "0.0%"}),
            "": book.add_format({"border": 1, "num_format": "#,##0.##"}),
        }
        for section, frame in tables.items():
            name = section_title(section, lang)
            data = exports.neutralise_frame(frame)
            data.to_excel(xl, sheet_name=name, index=False, startrow=2, header=False)
            sheet = xl.sheets[name]
            ncol = max(len(data.columns), 1)
            if ncol > 1:
                sheet.merge_range(0, 0, 0, ncol - 1, f"{title} · {name}", f_title)
            else:
                sheet.write(0, 0, f"{title} · {name}", f_title)
            sheet.set_row(0, 28)
            for j, col in enumerate(data.columns):
                sheet.write(1, j, col, f_head)
                width = max([len(str(col)) * 2 + 2] + [len(str(v)) * 2 for v in data[col].head(50)] + [8])
                sheet.set_column(j, j, min(width, 40))
            for i, (_, row) in enumerate(data.iterrows()):
                for j in range(len(data.columns)):
                    value = row.iloc[j]
                    if value is None or (not isinstance(value, str) and pd.isna(value)):
                        sheet.write_blank(2 + i, j, None, f_cell)
                        continue
                    if isinstance(value, str):
                        sheet.write_string(2 + i, j, value, f_cell)
                        continue
                    sheet.write_number(2 + i, j, float(value), formats[_kind(frame, i, j)])
            sheet.freeze_panes(2, 0)
            sheet.set_landscape()
            sheet.fit_to_pages(1, 0)
            sheet.repeat_rows(1)
    return buf.getvalue()


def _cell(value: Any, kind: str, lang: str) -> tuple[str, str]:
    """(text, css class) of one cell for the printable page."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—", "num"
    if isinstance(value, str):
        return html.escape(value), ""
    if isinstance(value, bool):
        return text("yes" if value else "no", lang), ""
    if kind == "pct":
        cls = "num up" if value > 0 else "num down" if value < 0 else "num"
        return f"{value:+.1f}%", cls
    if kind == "share":
        return f"{value:.1%}", "num"
    if float(value).is_integer():
        return f"{int(value):,}", "num"
    return f"{value:,.2f}", "num"


def briefing_html(
    con: duckdb.DuckDBPyConnection,
    month: Any,
    tables: dict[str, pd.DataFrame] | None = None,
    lang: str = "zh",
) -> str:
    """The briefing as one self-contained printable HTML page (no scripts, no external files)."""
    tables = tables if tables is not None else briefing_tables(con, month, lang)
    title = briefing_title(con, month, lang)
    kpis = tables[SECTION_SUMMARY].attrs.get("kpis") or trends.district_kpis(con, _month(month))
    yoy = kpis.get("yoy_pct")
    lead = text("br_lead", lang, month=month_label(month, lang), tickets=kpis["tickets"])
    if yoy is None:
        lead += text("br_lead_end", lang)
    else:
        lead += text("br_lead_yoy_up" if yoy > 0 else "br_lead_yoy_down", lang, pct=abs(yoy))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{HTML_LANG.get(lang, "zh-CN")}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{html.escape(lead)}</p>',
    ]
    for k, (section, frame) in enumerate(tables.items(), start=1):
        parts.append(
            f"<h2>{html.escape(text(f'br_numbered_{k}', lang, title=section_title(section, lang)))}</h2>"
        )
        if frame.empty:
            parts.append(f"<p>{html.escape(text('br_no_data', lang))}</p>")
            continue
        parts.append("<table><thead><tr>")
        parts += [f"<th>{html.escape(str(c))}</th>" for c in frame.columns]
        parts.append("</tr></thead><tbody>")
        for i, row in enumerate(frame.itertuples(index=False)):
            cells = [_cell(v, _kind(frame, i, j), lang) for j, v in enumerate(row)]
            parts.append("<tr>" + "".join(f'<td class="{cls}">{cell}</td>' for cell, cls in cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.append(f'<p class="sub">{html.escape(text("br_footer", lang))}</p></body></html>')
    return "\n".join(parts)
