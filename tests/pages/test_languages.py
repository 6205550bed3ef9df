"""Every page speaks the reader's language: switched to English, no title, heading, caption,
text, message, button, metric, widget, tab or expander label holds Chinese unless it is data
from the store (a compound's name, a community, a category); in Chinese, none of them is an
English sentence unless it is data."""

from __future__ import annotations

import re

import pytest

from analytics.store import db
from tests.fixtures.apptest import PASSWORD, TICKET_HEADERS, errors_of, ticket_rows
from ui.i18n import LANG_KEY

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# three or more English words in a row
SENTENCE = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*(?:[ ,]+[A-Za-z]+(?:['-][A-Za-z]+)*){2,}")
# names and abbreviations a Chinese label may hold (taken out before looking for English)
ABBREVIATIONS = ("Benjamini-Hochberg", "CSV", "XLSX", "XLS", "Excel", "ZIP", "Parquet", "HTML", "English")
# element types whose value is text the page wrote
TEXT_TYPES = {
    "title", "header", "subheader", "caption", "markdown", "text", "info", "warning", "success", "error", "toast",
}  # fmt: skip
# the store's data a page may show as it is: registry, tickets, task-force people and actions
DATA_COLUMNS = {
    "compounds": ("compound_id", "name", "community", "subdistrict", "type", "property_company"),
    "compound_aliases": ("alias",),
    "compound_ratings": ("period",),
    "property_evaluations": ("company", "quarter", "list"),
    "tickets": ("ticket_id", "title", "content", "category", "category_raw", "address", "satisfaction",
                "status", "handling_unit"),
    "task_forces": ("leader", "head"),
    "taskforce_actions": ("action",),
    "users": ("username",),
    "settings": ("value",),
    "ingest_batches": ("file_name",),
}  # fmt: skip
# an upload as the district's system exports it: its headers and cells are data too
UPLOAD_ROWS = [TICKET_HEADERS, *ticket_rows()[:40]]
UPLOAD = "\n".join(",".join(row) for row in UPLOAD_ROWS).encode("utf-8")


def upload_and_validate(at):
    at.file_uploader(key="up_file").set_value(("tickets.csv", UPLOAD, "text/csv")).run()
    return at.button(key="up_validate").click().run()


# the leader's pages, and the analysts' and administrators' own, with what is done on them
WALK = [
    ("leader1", "pages/overview.py", None),
    ("leader1", "pages/ranking.py", None),
    ("analyst1", "pages/ranking.py", None),  # with snapshots and task-force creation
    ("leader1", "pages/taskforces.py", None),
    ("leader1", "pages/effects.py", None),
    ("leader1", "pages/profile.py", None),
    ("analyst1", "pages/upload.py", None),
    ("analyst1", "pages/upload.py", upload_and_validate),
    ("admin1", "pages/admin.py", None),
]


@pytest.fixture(scope="module")
def data_values(district) -> list[str]:
    """Every text value in the store (names, communities, categories, leaders, ...), longest
    first, so a label can be checked with the data taken out of it."""
    con = db.connect(district.path)
    try:
        found: set[str] = set()
        for table, cols in DATA_COLUMNS.items():
            for column in cols:
                rows = db.query_df(
                    con, f'SELECT DISTINCT "{column}" AS v FROM "{table}" WHERE "{column}" IS NOT NULL'
                )  # noqa: S608
                found |= {str(v) for v in rows["v"] if str(v).strip()}
    finally:
        con.close()
    found |= {cell for row in UPLOAD_ROWS for cell in row if cell.strip()}
    return sorted(found, key=len, reverse=True)


def _shown(at) -> list[str]:
    """Every label and text the last run drew, in the main area and the sidebar."""
    out: list[str] = []

    def walk(node) -> None:
        label = getattr(node, "label", None)
        if not isinstance(label, str) and getattr(node, "proto", None) is not None:
            label = getattr(node.proto, "label", None)
        if isinstance(label, str) and label:
            out.append(label)
        if getattr(node, "type", None) in TEXT_TYPES and isinstance(getattr(node, "value", None), str):
            out.append(node.value)
        tip = getattr(getattr(node, "proto", None), "help", None)
        if isinstance(tip, str) and tip:
            out.append(tip)
        options = getattr(node, "options", None)
        if isinstance(options, list | tuple):
            out.extend(o for o in options if isinstance(o, str))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)  # noqa: SLF001 - every element of the run, wherever it sits
    return out


def _without_data(shown: str, data: list[str]) -> str:
    for value in data:
        if value in shown:
            shown = shown.replace(value, " ")
    return shown


def open_in(app, username: str, script: str, english: bool, then=None):
    app.run()
    app.toggle(key=LANG_KEY).set_value(english).run()
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(PASSWORD)
    app.form_submit_button[0].click().run()
    app.switch_page(script)
    app.run()
    return then(app) if then else app


@pytest.mark.parametrize("username, script, then", WALK)
def test_english_pages_show_no_chinese_but_data(app, data_values, username, script, then):
    at = open_in(app, username, script, english=True, then=then)
    assert errors_of(at) == []
    shown = _shown(at)
    assert len(shown) > 5
    leaks = sorted({s for s in shown if CJK.search(_without_data(s, data_values))})
    assert leaks == [], f"{script} in English shows Chinese"


@pytest.mark.parametrize("username, script, then", WALK)
def test_chinese_pages_show_no_english_sentence_but_data(app, data_values, username, script, then):
    at = open_in(app, username, script, english=False, then=then)
    assert errors_of(at) == []
    shown = _shown(at)
    leaks = sorted({s for s in shown if SENTENCE.search(_without_data(s, [*data_values, *ABBREVIATIONS]))})
    assert leaks == [], f"{script} in Chinese shows English sentences"
