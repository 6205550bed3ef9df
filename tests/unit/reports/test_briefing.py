"""The monthly briefing: what it says agrees with the store, it tells the truth about the task
forces (adjusted effect, interval, caveat) and the Spring Festival, ranks with movement, and
reads like a report in every format (Word read back with python-docx, Excel with openpyxl)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from analytics import config
from analytics.errors import NotFound
from analytics.ingest import pipeline as ingest
from analytics.ingest.registry import compounds
from analytics.metrics import trends
from analytics.reports import briefing
from analytics.reports.text import text
from analytics.services import effects
from analytics.store import db
from tests.fixtures.apptest import build_fixture_store
from tests.fixtures.district import TOP, build_district
from tests.fixtures.page_text import (
    ABBREVIATIONS,
    CJK,
    EMPTY_WORDS,
    LONG_DECIMAL,
    MIDNIGHT,
    SENTENCE,
    store_values,
    without,
)

MONTH = "2024-06"
FESTIVAL_MONTHS = ("2023-01", "2023-02", "2024-01", "2024-02")  # the festival moved month each year
ISSUED = dt.date(2024, 7, 5)
SNAKE_IN_TEXT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("briefing"))


@pytest.fixture
def con(district):
    con = db.connect(district.path)
    yield con
    con.close()


def count(con, sql: str, month: str = MONTH) -> int:
    m = pd.Period(month, "M")
    return int(db.query_one(con, sql, [m.start_time, (m + 1).start_time]))


def month_total(con, month: str = MONTH) -> int:
    return count(con, "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?", month)


def section(doc, key: str):
    return next(s for s in doc.sections if s.key == key)


def paragraphs(doc, key: str) -> list[str]:
    return [b for b in section(doc, key).blocks if isinstance(b, str)]


def docx_lines(data: bytes) -> list[str]:
    """Every paragraph, then every table cell, of a Word file as python-docx reads it."""
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    lines += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return lines


def docx_rows(data: bytes) -> list[list[str]]:
    document = docx.Document(io.BytesIO(data))
    return [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]


def xlsx_rows(data: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [[c for c in row if c is not None] for sheet in book for row in sheet.iter_rows(values_only=True)]


def row_with(rows: list[list[object]], label: str) -> list[object]:
    return next(r for r in rows if r and r[0] == label)


# --------------------------------------------------------------------------- the numbers


def test_totals_agree_with_the_store(con):
    doc = briefing.build_briefing(con, MONTH, issued=ISSUED)
    total = month_total(con)
    summary = doc.tables()[briefing.SECTION_SUMMARY]
    assert summary.loc[summary["指标"] == "受理工单总量（件）", "数值"].iloc[0] == total
    assert f"共受理工单{total:,}件" in paragraphs(doc, briefing.SECTION_SUMMARY)[0]
    subs = doc.tables()[briefing.SECTION_SUBDISTRICTS]
    assert subs["街道"].iloc[-1] == "合计"
    # every simulated ticket is matched to a compound, so the subdistricts add up to the total
    assert subs["本月工单"].iloc[-1] == total == subs["本月工单"].iloc[:-1].sum()


def test_the_ranking_is_the_busiest_compounds(con):
    top = briefing.briefing_tables(con, MONTH)[briefing.SECTION_RANKING]
    busiest = count(
        con,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ? "
        "AND compound_id IS NOT NULL GROUP BY compound_id)",
    )
    assert len(top) == config.LIST_N
    assert top["本月工单"].iloc[0] == busiest
    assert top["本月工单"].is_monotonic_decreasing
    assert list(top["排名"]) == list(range(1, config.LIST_N + 1))


def test_task_force_progress_lists_every_task_force_with_its_head_and_start(con, district):
    progress = briefing.briefing_tables(con, MONTH)[briefing.SECTION_TASKFORCES]
    assert len(progress) == TOP
    assert set(progress["进驻日期"]) == {"2023年3月1日"}
    assert set(progress["专班组长"].dropna()) == {"tf1", "tf2"}
    assert all(v.startswith(("已满足", "连续")) for v in progress["撤出条件"])
    # no review date was set: the exit rule's reviews come every three months from the start
    # (2023-03-01); the next one after the briefing's month (June 2024) is 2024-09-01
    assert set(progress["撤出评估日期"]) == {"2024年9月1日"}


def test_a_review_date_set_by_an_analyst_is_shown(district, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        with db.transaction(con) as cur:
            cur.execute("UPDATE task_forces SET review_date = ?", [dt.date(2024, 9, 30)])
        progress = briefing.briefing_tables(con, MONTH)[briefing.SECTION_TASKFORCES]
    finally:
        con.close()
    assert set(progress["撤出评估日期"]) == {"2024年9月30日"}


def test_task_forces_that_start_later_are_not_in_an_earlier_briefing(con):
    before = briefing.build_briefing(con, "2023-02")
    assert section(before, briefing.SECTION_TASKFORCES).tables() == []
    assert paragraphs(before, briefing.SECTION_TASKFORCES) == ["本月尚无专班进驻。"]
    assert len(briefing.briefing_tables(con, "2023-03")[briefing.SECTION_TASKFORCES]) == TOP


# --------------------------------------------------------------------------- the effects


def caveat_keys(res) -> set[str]:
    """The caveats the summary may close with: when the net effect (with the neighbours) reads
    differently from the in-place one, the summary speaks of the net one."""
    if res.crosses_zero:
        return {"ef_sum_crosses", "ef_sum_net_crosses"}
    return {"ef_sum_below" if res.ci_high_pct < 0 else "ef_sum_above", "ef_sum_net_crosses"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_word_file_carries_the_adjusted_effect_interval_and_caveat(con, lang):
    res = effects.stored_effects(con, by_category=False)
    assert res.adjusted_effect_pct is not None  # the fixture has a baseline and months after
    data = briefing.briefing_docx(con, MONTH, lang=lang, issued=ISSUED)
    rows = docx_rows(data)
    adjusted = row_with(rows, text("br_fx_adjusted", lang))
    assert adjusted[1] == f"{res.adjusted_effect_pct:+.1f}%"
    assert adjusted[2] == text(
        "br_fx_interval", lang, lo=f"{res.ci_low_pct:+.1f}%", hi=f"{res.ci_high_pct:+.1f}%"
    )
    # the naive figure stays, labelled as the simple comparison it is
    assert row_with(rows, text("br_fx_naive", lang))[1] == f"{res.naive_change_pct:+.1f}%"
    lines = docx_lines(data)
    assert any(text(key, lang) in line for line in lines for key in caveat_keys(res))
    if lang == "zh":
        assert res.crosses_zero  # the fixture's interval crosses zero, and the document says so
        assert any("区间跨零：不能确认专班" in line for line in lines)


def test_excel_file_carries_the_adjusted_effect_interval_and_caveat(con):
    res = effects.stored_effects(con, by_category=False)
    rows = xlsx_rows(briefing.briefing_xlsx(con, MONTH, issued=ISSUED))
    adjusted = row_with(rows, "调整后效应")
    assert adjusted[1] == round(res.adjusted_effect_pct, 1)
    assert adjusted[2] == f"（{res.ci_low_pct:+.1f}% 至 {res.ci_high_pct:+.1f}%）"
    assert row_with(rows, "简单同比（官方口径）")[1] == round(res.naive_change_pct, 1)
    assert any(isinstance(r[0], str) and "不能确认专班带来了下降" in r[0] for r in rows if r)


def test_no_effects_result_is_said_in_one_sentence(tmp_path):
    # one task force that starts after the data's baseline: no adjusted estimate is possible
    path = build_fixture_store(tmp_path / "small").path
    con = db.connect(path)
    try:
        doc = briefing.build_briefing(con, "2024-08")
    finally:
        con.close()
    fx = section(doc, briefing.SECTION_EFFECTS)
    assert fx.blocks == [text("br_fx_none")]
    assert "调整后的整治成效估计" in fx.blocks[0]


# --------------------------------------------------------------------------- the Spring Festival


def janfeb(con, year: int) -> int:
    return int(
        db.query_one(
            con,
            "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
            [dt.datetime(year, 1, 1), dt.datetime(year, 3, 1)],
        )
    )


def change_words(pct: float) -> str:
    return f"{'上升' if pct > 0 else '下降'} {abs(pct):.1f}%"


@pytest.mark.parametrize("month", FESTIVAL_MONTHS)
def test_a_spring_festival_month_leads_with_january_and_february_together(con, month):
    year = int(month[:4])
    now, before = janfeb(con, year), janfeb(con, year - 1)
    pct = (now - before) * 100.0 / before
    doc = briefing.build_briefing(con, month, issued=ISSUED)
    lead = paragraphs(doc, briefing.SECTION_SUMMARY)[0]
    corrected = f"今年1-2月共受理工单{now:,}件，同比{change_words(pct)}"
    assert corrected in lead
    # the raw single month comes second, with the reason
    assert lead.index(corrected) < lead.index("单月比较仅供参考")
    assert "春节今年在" in lead and "单月同比失真" in lead
    summary = doc.tables()[briefing.SECTION_SUMMARY]
    labels = list(summary["指标"])
    assert labels.index("1-2月合计同比") < labels.index("同比")
    assert summary.loc[summary["指标"] == "1-2月合计同比", "数值"].iloc[0] == round(pct, 1)
    assert "失真" in summary.loc[summary["指标"] == "同比", "说明"].iloc[0]
    assert "1-2月合计同比" in doc.tables()[briefing.SECTION_SUBDISTRICTS].columns


def test_the_corrected_figure_is_the_one_the_overview_computes(con):
    kpis = trends.district_kpis(con, "2024-02")
    summary = briefing.briefing_tables(con, "2024-02")[briefing.SECTION_SUMMARY]
    assert summary.loc[summary["指标"] == "1-2月合计同比", "数值"].iloc[0] == round(kpis["janfeb_yoy_pct"], 1)


@pytest.mark.parametrize("month", ["2023-06", "2024-03", MONTH])
def test_other_months_lead_with_the_plain_year_on_year(con, month):
    m = pd.Period(month, "M")
    now, last = month_total(con, month), month_total(con, str(m - 12))
    doc = briefing.build_briefing(con, month)
    lead = paragraphs(doc, briefing.SECTION_SUMMARY)[0]
    assert f"同比{change_words((now - last) * 100.0 / last)}" in lead
    assert "1-2月" not in lead and "春节" not in lead
    assert "1-2月合计同比" not in list(doc.tables()[briefing.SECTION_SUMMARY]["指标"])


@pytest.mark.parametrize(
    "month, newest, expected",
    [
        ("2022-02", "2024-06-30", None),  # the data start in 2022: no year before to compare with
        ("2023-03", "2024-06-30", None),  # not January or February
        ("2024-01", "2024-01-31 20:00", "pending"),  # February not in the data yet
        ("2024-01", "2024-06-30", "corrected"),
        ("2023-02", "2024-06-30", "corrected"),
    ],
)
def test_when_the_festival_correction_applies(con, month, newest, expected):
    fest = briefing.festival_comparison(con, month, pd.Timestamp(newest))
    state = None if fest is None else "pending" if fest["yoy_pct"] is None else "corrected"
    assert state == expected


def test_january_before_february_is_complete_says_the_comparison_will_follow(district, tmp_path):
    path = tmp_path / "to_january.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        with db.transaction(con) as cur:
            cur.execute("DELETE FROM tickets WHERE created_at >= ?", [dt.datetime(2024, 2, 1)])
        doc = briefing.build_briefing(con, "2024-01")
    finally:
        con.close()
    lead = paragraphs(doc, briefing.SECTION_SUMMARY)[0]
    assert "1-2月合计比较待2月数据齐全后给出" in lead
    assert lead.index("单月同比失真") < lead.index("单月比较仅供参考")
    labels = list(doc.tables()[briefing.SECTION_SUMMARY]["指标"])
    assert "1-2月合计同比" not in labels and "同比" in labels


# --------------------------------------------------------------------------- movement in the ranking

# (compound, tickets in May, tickets in June, movement expected in June's top ten)
MOVES = [
    ("C03", 10, 20, "↑2"),
    ("C01", 12, 15, "↓1"),
    ("C12", 0, 14, "新进"),  # no tickets in May
    ("C11", 2, 13, "新进"),  # 11th in May: not in last month's list
    ("C04", 9, 12, "↓1"),
    ("C05", 8, 11, "↓1"),
    ("C06", 7, 10, "↓1"),
    ("C07", 6, 9, "↓1"),
    ("C02", 11, 8, "↓7"),
    ("C09", 3, 7, "持平"),  # 10th in both months
    ("C08", 5, 6, None),  # 11th in June: not listed
    ("C10", 4, 1, None),
]


@pytest.fixture(scope="module")
def ranked_store(tmp_path_factory) -> Path:
    """Twelve compounds with May and June 2024 tickets as MOVES says, through the real imports."""
    folder = tmp_path_factory.mktemp("moves")
    registry, tickets = folder / "registry.csv", folder / "tickets.csv"
    with registry.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["小区编号", "小区名称", "所属社区", "所属街道", "户数"])
        w.writerows([cid, f"{cid}花园", "银河社区", "兰山街道", 500] for cid, *_ in MOVES)
    with tickets.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工单编号", "受理时间", "诉求内容", "诉求类型", "小区"])
        n = 0
        for cid, may, june, _ in MOVES:
            for month, k in (("2024-05", may), ("2024-06", june)):
                for i in range(k):
                    w.writerow(
                        [f"M{n:05d}", f"{month}-{1 + i % 28:02d} 10:00", "噪音扰民", "噪音", f"{cid}花园"]
                    )
                    n += 1
    path = folder / "moves.duckdb"
    con = db.connect(path)
    try:
        compounds.import_compounds(con, registry, user="fixture")
        result = ingest.ingest_file(con, tickets, user="fixture")
        assert result.inserted == sum(may + june for _, may, june, _ in MOVES)
    finally:
        con.close()
    return path


@pytest.mark.parametrize("lang, new, same", [("zh", "新进", "持平"), ("en", "New", "Same")])
def test_the_ranking_shows_each_compounds_move_since_last_month(ranked_store, lang, new, same):
    con = db.connect(ranked_store)
    try:
        rows = docx_rows(briefing.briefing_docx(con, "2024-06", lang=lang, issued=ISSUED))
    finally:
        con.close()
    header = next(r for r in rows if r[0] == text("br_col_rank", lang))
    at = {name: header.index(text(f"br_col_{name}", lang)) for name in ("move", "name", "tickets")}
    ranking = [r for r in rows[rows.index(header) + 1 :] if r[0].isdigit()][: config.LIST_N]
    wording = {"新进": new, "持平": same}
    expected = [(f"{cid}花园", wording.get(move, move), f"{june:,}") for cid, _, june, move in MOVES if move]
    assert [(r[at["name"]], r[at["move"]], r[at["tickets"]]) for r in ranking] == expected


@pytest.mark.parametrize(
    "rank, last_rank, expected",
    [(1, 3, "↑2"), (2, 1, "↓1"), (5, 5, "持平"), (3, None, "新进"), (4, 11, "新进"), (10, 10, "持平")],
)
def test_movement_words(rank, last_rank, expected):
    assert briefing.movement(rank, last_rank, config.LIST_N) == expected


# --------------------------------------------------------------------------- the layout


def test_word_layout_has_issuer_date_title_and_numbered_sections(con):
    data = briefing.briefing_docx(con, MONTH, issued=ISSUED)
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs if p.text]
    assert lines[:2] == ["兰山区12345热线办公室", "2024年7月5日"]
    assert lines[2] == "12345热线小区工单月度通报（2024年6月）"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、总体情况", "二、街道情况", "三、小区排名", "四、专班进展", "五、整治成效"]
    assert lines[-2:] == ["兰山区12345热线办公室", "2024年7月5日"]
    assert len(document.tables) == 5
    assert all(t.style.name == "Table Grid" for t in document.tables)  # bordered
    # Chinese characters take the East Asian font slot: set on the body and the headings
    east_asia = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    assert document.styles["Normal"].element.rPr.rFonts.get(east_asia) == "仿宋"
    assert document.styles["Heading 1"].element.rPr.rFonts.get(east_asia) == "黑体"
    first_cell_run = document.tables[0].rows[0].cells[0].paragraphs[0].runs[0]
    assert first_cell_run._element.rPr.rFonts.get(east_asia) == "宋体"


def test_issuer_is_configurable_and_demo_data_is_marked(district, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        with db.transaction(con) as cur:
            db.set_setting(cur, briefing.ISSUER_SETTING, "罗庄区12345热线办公室")
            db.set_setting(cur, "demo", "1")
        lines = docx_lines(briefing.briefing_docx(con, MONTH, issued=ISSUED))
        rows = xlsx_rows(briefing.briefing_xlsx(con, MONTH, issued=ISSUED))
    finally:
        con.close()
    assert lines[0] == "罗庄区12345热线办公室（演示数据）"
    assert "本通报由演示数据生成，数字不反映真实情况。" in lines
    assert rows[0] == ["罗庄区12345热线办公室（演示数据）"]


def test_excel_is_one_printable_sheet_in_the_document_order(con):
    book = openpyxl.load_workbook(io.BytesIO(briefing.briefing_xlsx(con, MONTH, issued=ISSUED)))
    assert book.sheetnames == ["月度通报"]
    rows = xlsx_rows(briefing.briefing_xlsx(con, MONTH, issued=ISSUED))
    firsts = [r[0] for r in rows if r]
    assert firsts[:3] == ["兰山区12345热线办公室", "2024年7月5日", "12345热线小区工单月度通报（2024年6月）"]
    headings = [
        f
        for f in firsts
        if f in ("一、总体情况", "二、街道情况", "三、小区排名", "四、专班进展", "五、整治成效")
    ]
    assert headings == sorted(headings, key=firsts.index) and len(headings) == 5
    assert row_with(rows, "受理工单总量（件）")[1] == month_total(con)
    assert row_with(rows, "合计")[1] == month_total(con)


def test_printable_page_has_the_month_total_and_no_scripts(con):
    page = briefing.briefing_html(con, MONTH, issued=ISSUED)
    assert page.startswith("<!DOCTYPE html>")
    assert "2024年6月" in page and f"共受理工单{month_total(con):,}件" in page
    assert "<script" not in page.lower()
    for key in briefing.SECTIONS:
        assert briefing.section_title(key) in page


# --------------------------------------------------------------------------- reads like a report


def defects(lines: list[str], lang: str, data: list[str]) -> list[str]:
    found = []
    for line in lines:
        rest = without(line, data)
        if line.strip().lower() in EMPTY_WORDS or re.search(r"\b(None|nan|NaN|NaT|empty)\b", rest):
            found.append(f"empty word: {line!r}")
        if SNAKE_IN_TEXT.search(rest):
            found.append(f"raw identifier: {line!r}")
        if LONG_DECIMAL.search(rest) or MIDNIGHT.search(line):
            found.append(f"unrounded number or a time: {line!r}")
        if lang == "zh" and SENTENCE.search(without(rest, ABBREVIATIONS)):
            found.append(f"English in Chinese: {line!r}")
        if lang == "en" and CJK.search(rest):
            found.append(f"Chinese in English: {line!r}")
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("month", ["2024-02", MONTH])
def test_every_paragraph_and_cell_reads_like_a_report(con, district, lang, month):
    data = store_values(district.path)
    word = docx_lines(briefing.briefing_docx(con, month, lang=lang, issued=ISSUED))
    excel = xlsx_rows(briefing.briefing_xlsx(con, month, lang=lang, issued=ISSUED))
    page = re.sub(
        r"<[^>]+>", "\n", briefing.briefing_html(con, month, lang=lang, issued=ISSUED).split("</style>")[1]
    )
    assert defects([w for w in word if w], lang, data) == []
    assert defects([str(v) for row in excel for v in row if isinstance(v, str)], lang, data) == []
    assert defects([line for line in page.splitlines() if line.strip()], lang, data) == []
    numbers = [v for row in excel for v in row if isinstance(v, float | int)]
    assert numbers and all(round(v, 2) == v for v in numbers)


def test_formula_like_names_are_neutralised(district, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        top = briefing.ranking_frame(con, MONTH)
        with db.transaction(con) as cur:
            cur.execute(
                "UPDATE compounds SET name = ? WHERE compound_id = ?",
                ['=HYPERLINK("x")', top["compound_id"].iloc[0]],
            )
        rows = xlsx_rows(briefing.briefing_xlsx(con, MONTH))
        page = briefing.briefing_html(con, MONTH)
    finally:
        con.close()
    assert any('\'=HYPERLINK("x")' in r for r in rows)
    assert "=HYPERLINK(&quot;x&quot;)" in page


def test_empty_store_says_what_to_do(store):
    with pytest.raises(NotFound, match="请先导入工单"):
        briefing.build_briefing(store, MONTH)


def test_file_names_are_chinese_and_safe():
    assert briefing.file_name("2024-06", "docx") == "月度通报_2024年6月.docx"
    assert briefing.file_name("2024-06", "xlsx", "en") == "monthly_briefing_2024-06.xlsx"


def test_compound_month_covers_every_compound(con):
    frame = briefing.compound_month(con, MONTH)
    assert len(frame) == db.query_one(con, "SELECT count(*) FROM compounds")
    matched = count(
        con,
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ? AND compound_id IS NOT NULL",
    )
    assert frame["tickets"].sum() == matched
