"""Exports: every stored ticket, no caller hashes, and no formula injection in spreadsheets."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.reports import exports
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv

ATTACKS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("＝1+1", "'＝1+1"),  # full-width signs: formulas in Chinese and Japanese locales
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("正常文本", "正常文本"),
        ("a=b", "a=b"),
        (-5, -5),  # numbers stay numbers
        (3.5, 3.5),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def test_csv_bytes_have_bom_and_neutralised_cells():
    df = pd.DataFrame({"文本": ATTACKS, "数": range(len(ATTACKS))})
    data = exports.to_csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert all(v.startswith("'") for v in back["文本"])
    assert back["数"].tolist() == list(range(len(ATTACKS)))


def test_xlsx_bytes_hold_text_not_formulas():
    df = pd.DataFrame({"文本": ATTACKS, "数": [1.5] * len(ATTACKS)})
    data = exports.to_xlsx_bytes({"工单/明细:2023": df, "空": pd.DataFrame()})
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["工单_明细_2023", "空"]
    ws = wb.worksheets[0]
    cells = [ws.cell(row=i + 2, column=1) for i in range(len(ATTACKS))]
    assert all(c.data_type == "s" and str(c.value).startswith("'") for c in cells)
    assert ws.cell(row=2, column=2).value == 1.5


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_tickets_writes_every_ticket_without_caller_hash(store, tmp_path, fmt):
    df = make_tickets(150, make_compounds(40))
    df.loc[0, "诉求内容"] = '=HYPERLINK("http://x","y")'
    ingest.ingest_file(store, write_csv(df, tmp_path / "t.csv"))
    out = tmp_path / f"out.{fmt}"
    assert exports.export_tickets(store, out, fmt=fmt) == 150
    back = (
        pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        if fmt == "csv"
        else pd.read_parquet(out)
    )
    assert len(back) == 150 and "caller_hash" not in back.columns
    assert {"compound_id", "match_score", "category", "category_source"} <= set(back.columns)
    assert set(back["ticket_id"]) == set(db.query_df(store, "SELECT ticket_id FROM tickets")["ticket_id"])
    if fmt == "csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        hyper = back.loc[back["ticket_id"] == df.loc[0, "工单编号"], "content"].iloc[0]
        assert hyper == '\'=HYPERLINK("http://x","y")'


def test_unknown_export_format_is_refused(store, tmp_path):
    from analytics.errors import ValidationError

    with pytest.raises(ValidationError):
        exports.export_tickets(store, tmp_path / "x.json", fmt="json")


# every character the neutraliser knows, as the first of a stored ticket's content
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_streamed_csv_export_and_parquet_treat_each_trigger_like_the_app(store, tmp_path, trigger):
    """The ticket export neutralises in SQL; it must catch what `neutralise` catches, and
    Parquet (data for programs) must keep the text verbatim."""
    df = make_tickets(3, make_compounds(5))
    ingest.ingest_file(store, write_csv(df, tmp_path / "t.csv"))
    stored = trigger + "1+1"  # set in the store itself: ingestion trims leading white space
    with db.transaction(store) as cur:
        cur.execute("UPDATE tickets SET content = ? WHERE ticket_id = ?", [stored, df.loc[0, "工单编号"]])
    exports.export_tickets(store, tmp_path / "out.csv")
    exports.export_tickets(store, tmp_path / "out.parquet", fmt="parquet")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["ticket_id"]: r for r in csv.DictReader(fh)}
    assert rows[df.loc[0, "工单编号"]]["content"] == exports.neutralise(stored) == "'" + stored
    parquet = pd.read_parquet(tmp_path / "out.parquet")
    assert parquet.loc[parquet["ticket_id"] == df.loc[0, "工单编号"], "content"].iloc[0] == stored


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/proc/x.csv", "No such file"),  # a place nobody can create files in
        ("folder", "directory"),  # a directory, not a file
        ("/proc/sub/x.csv", "x.csv"),  # a parent that cannot be made
    ],
)
def test_unwritable_export_path_is_one_clear_error(store, tmp_path, target, reason):
    from analytics.errors import ValidationError

    (tmp_path / "folder").mkdir()
    out = target if target.startswith("/") else tmp_path / target
    with pytest.raises(ValidationError) as err:
        exports.export_tickets(store, out)
    assert reason in err.value.en and "无法写入导出文件" in err.value.zh
    assert list((tmp_path / "folder").iterdir()) == []  # no half-written file left behind


def test_export_replaces_an_existing_file_whole(store, tmp_path):
    df = make_tickets(20, make_compounds(5))
    ingest.ingest_file(store, write_csv(df, tmp_path / "t.csv"))
    out = tmp_path / "out.csv"
    out.write_bytes(b"x" * 100_000)  # an older, longer export
    assert exports.export_tickets(store, out) == 20
    back = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert len(back) == 20 and not any(p.suffix == ".part" for p in tmp_path.iterdir())
