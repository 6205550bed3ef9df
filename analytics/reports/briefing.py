"""The leaders' monthly briefing (月度通报): the document district offices forward, in Chinese (the
default) or English, as Word, Excel or a printable page. Every word comes from the catalogue
(`analytics.reports.text`, keys `br_*`). The sections are built in
analytics.reports.briefing_sections; the layout and the writers are in
analytics.reports.briefing_layout (Excel, printable page) and analytics.reports.briefing_docx.

The document (`build_briefing`): the issuing unit and the date of issue (a note when the store
holds demo data), the title with the month, then

- 一、总体情况 (summary): tickets, 环比, 同比, 三率 (response, resolution, satisfaction) and the
  on-time rate, repeat calls. When the Spring Festival falls in this month in one year and not
  in the other, the single-month 同比 says little: the briefing then leads with January and
  February together against the same two months a year before, and gives the single-month
  figure second, with the reason;
- 二、街道情况 (subdistricts): each subdistrict's month with 环比, 同比 and rates, and the total;
- 三、小区排名 (ranking): the compounds with the most tickets, each with its move against last
  month's ranking (↑3, ↓2, 新进 when it was not in last month's list, 持平);
- 四、专班进展 (taskforces): each task force's compound, leader, head, dates, tickets before and
  after it moved in, the planned exit review, status and how far it is from the exit rule;
- 五、整治成效 (effects): the stored effects result (analytics.services.effects): the simple
  comparison beside the placebo, the adjusted effect with its 95% interval (and the net effect
  when the result carries one), and the same reading and caveat the 整治成效 page shows; one
  sentence when there is no result to show.

Numbers are the ones the overview and the effects page show (same functions), so the briefing
and the dashboard never disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import NotFound
from analytics.metrics import trends
from analytics.reports import briefing_layout
from analytics.reports.briefing_docx import to_docx
from analytics.reports.briefing_layout import Briefing
from analytics.reports.briefing_sections import (
    SECTION_EFFECTS,
    SECTION_RANKING,
    SECTION_SUBDISTRICTS,
    SECTION_SUMMARY,
    SECTION_TASKFORCES,
    SECTIONS,
    date_text,
    effects_section,
    festival_comparison,
    month_label,
    movement,
    ranking_frame,
    ranking_section,
    subdistricts_section,
    summary_section,
    taskforces_section,
)
from analytics.reports.text import text
from analytics.safe_text import safe_file_stem
from analytics.store import db

__all__ = [
    "SECTIONS",
    "SECTION_EFFECTS",
    "SECTION_RANKING",
    "SECTION_SUBDISTRICTS",
    "SECTION_SUMMARY",
    "SECTION_TASKFORCES",
    "date_text",
    "festival_comparison",
    "month_label",
    "movement",
    "ranking_frame",
]

ISSUER_SETTING = "briefing_issuer"  # the issuing unit, when an office sets its own
DISTRICT_SETTING = "district_name"  # put before the title, when set
FORMATS = ("docx", "xlsx", "html")  # in the order the overview offers them
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}


def issuer(con: duckdb.DuckDBPyConnection, lang: str = "zh") -> str:
    """The issuing unit: the store's setting, else the default office; marked on demo data."""
    unit = db.get_setting(con, ISSUER_SETTING) or text("br_issuer_default", lang)
    return text("br_issuer_demo", lang, issuer=unit) if db.is_demo(con) else unit


def briefing_title(con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh") -> str:
    """'兰山区12345热线小区工单月度通报（2024年6月）' (district name from the setting, if any)."""
    district = db.get_setting(con, DISTRICT_SETTING) or ""
    if district and lang == "en":
        district += " "
    return text("br_heading", lang, district=district, month=month_label(month, lang))


def section_title(section: str, lang: str = "zh") -> str:
    """A section's title: '总体情况' for 'summary'."""
    return text(f"br_section_{section}", lang)


# --------------------------------------------------------------------------- the document


def build_briefing(
    con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh", issued: dt.date | None = None
) -> Briefing:
    """The briefing for `month` ('YYYY-MM') in `lang`, issued on `issued` (default today)."""
    m = calendar.parse_month(month)
    newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
    if newest is None:
        raise NotFound(
            "库中还没有工单，无法生成通报。请先导入工单。", "No tickets in the store yet; ingest some first."
        )
    k = trends.district_kpis(con, m)
    fest = festival_comparison(con, m, newest)
    sections = [
        summary_section(k, fest, newest, lang),
        subdistricts_section(con, m, k, fest, lang),
        ranking_section(con, m, k, lang),
        taskforces_section(con, m, k, newest, lang),
        effects_section(con, lang),
    ]
    for number, section in enumerate(sections, start=1):
        section.heading = text(f"br_numbered_{number}", lang, title=section_title(section.key, lang))
    return Briefing(
        lang=lang,
        month=str(m),
        issuer=issuer(con, lang),
        issued=date_text(issued or dt.date.today(), lang),
        title=briefing_title(con, m, lang),
        demo=text("br_demo", lang) if db.is_demo(con) else "",
        sections=sections,
        closing=[text(f"br_closing_{i}", lang, date=date_text(newest, lang)) for i in (1, 2, 3)],
    )


def briefing_tables(con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """Each section's main table for `month` in `lang` (values unformatted), keyed by section;
    a section with nothing to tabulate (no task forces yet, no effects result) is left out."""
    return build_briefing(con, month, lang).tables()


def briefing_docx(
    con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh", issued: dt.date | None = None
) -> bytes:
    """The briefing as a Word document."""
    return to_docx(build_briefing(con, month, lang, issued))


def briefing_xlsx(
    con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh", issued: dt.date | None = None
) -> bytes:
    """The briefing as an Excel workbook: one printable sheet, numbers kept as numbers."""
    return briefing_layout.to_xlsx(build_briefing(con, month, lang, issued))


def briefing_html(
    con: duckdb.DuckDBPyConnection, month: Any, lang: str = "zh", issued: dt.date | None = None
) -> str:
    """The briefing as one self-contained printable HTML page."""
    return briefing_layout.to_html(build_briefing(con, month, lang, issued))


def make(con: duckdb.DuckDBPyConnection, month: Any, fmt: str, lang: str = "zh") -> bytes | str:
    """The briefing for `month` in one of FORMATS."""
    writers = {"docx": briefing_docx, "xlsx": briefing_xlsx, "html": briefing_html}
    return writers[fmt](con, month, lang=lang)


def file_name(month: Any, fmt: str, lang: str = "zh") -> str:
    """The download's name: 月度通报_2024年6月.docx (only characters safe in a file name)."""
    return f"{safe_file_stem(text('br_file_stem', lang, month=month_label(month, lang)))}.{fmt}"


COMPOUND_SQL = "SELECT compound_id, community, subdistrict, lat, lon, households FROM compounds"


def compound_month(con: duckdb.DuckDBPyConnection, month: Any) -> pd.DataFrame:
    """Every compound's tickets in `month` with where it sits (for the treemap and the map).

    Columns: compound_id, name, community, subdistrict, lat, lon, households, tickets.
    """
    m = calendar.parse_month(month)
    counts = trends.monthly_counts(con, "compound", str(m), str(m))
    where = db.query_df(con, COMPOUND_SQL)
    out = counts[["key", "name", "tickets"]].rename(columns={"key": "compound_id"})
    out = where.merge(out, on="compound_id", how="left")
    out["tickets"] = out["tickets"].fillna(0).astype(int)
    out["name"] = out["name"].fillna(out["compound_id"])
    return out[["compound_id", "name", "community", "subdistrict", "lat", "lon", "households", "tickets"]]
