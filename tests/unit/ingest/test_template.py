"""The upload template offers exactly what the parser recognises: uploaded unchanged it maps
every column and its example row is accepted; its guide explains every field in the reader's
language."""

from __future__ import annotations

import openpyxl
import pytest

from analytics.ingest import columns, template
from analytics.ingest import pipeline as ingest
from analytics.reports import exports
from analytics.store import db


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_template_parses_back_with_nothing_rejected(store, tmp_path, lang):
    path = tmp_path / "template.xlsx"
    path.write_bytes(exports.ticket_template_xlsx(lang))
    preview = ingest.preview_file(path)
    assert preview.missing_required == [] and preview.unmapped_headers == []
    assert set(preview.mapping) == {f.name for f in template.TEMPLATE_FIELDS}
    result = ingest.ingest_file(store, path, user="ana")
    assert (result.rows_read, result.inserted, result.rejected) == (1, 1, 0)
    stored = db.query_df(store, "SELECT ticket_id, created_at, closed_at, satisfied, is_valid FROM tickets")
    assert stored.iloc[0]["ticket_id"] == columns.TICKET_EXAMPLES["ticket_id"]
    assert str(stored.iloc[0]["created_at"]) == columns.TICKET_EXAMPLES["created_at"]
    assert bool(stored.iloc[0]["satisfied"]) and bool(stored.iloc[0]["is_valid"])


def test_required_columns_are_marked_and_the_guide_sheet_lists_every_field(tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(exports.ticket_template_xlsx("zh"))
    book = openpyxl.load_workbook(path)
    sheet = book[template.TEMPLATE_SHEET]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["工单编号*", "受理时间*"]
    marked = {h.rstrip("*") for h in headers if h.endswith("*")}
    assert marked == {f.label for f in columns.TICKET_FIELDS if f.required}
    assert sheet["A1"].comment is not None and sheet["A1"].font.color.rgb.endswith("C0392B")
    guide = book[book.sheetnames[1]]
    assert book.sheetnames[1] == "填写说明"
    labels = [c.value for c in guide["B"][1:]]
    assert labels == [f.label for f in columns.TICKET_FIELDS]
    # every spelling the parser accepts is named in the guide
    spellings = {r[2].value for r in guide.iter_rows(min_row=2)}
    assert all("、".join(f.synonyms) in spellings for f in columns.TICKET_FIELDS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_field_guide_speaks_the_readers_language(lang):
    guide = exports.field_guide_frame(lang)
    assert len(guide) == len(columns.TICKET_FIELDS)
    required = guide.iloc[:, 3].tolist()
    assert required.count("必填" if lang == "zh" else "required") == 2
    if lang == "en":
        assert guide.columns.tolist()[0] == "Field" and guide.iloc[0, 0] == "Ticket number"
    else:
        assert guide.iloc[0, 0] == "工单编号" and "2024-01-15 08:30:00" in guide.iloc[1, 4]
