"""The briefing on the 总览 page: three downloads that say their format, files named in the
reader's language, made on click; never offered to a task-force head (it holds district totals)."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from tests.fixtures.apptest import errors_of, login, menu_pages
from tests.fixtures.district import build_district
from ui.i18n import LANG_KEY

LABELS = {
    "zh": ["下载通报（Word）", "下载通报（Excel）", "下载通报（网页，可打印）"],
    "en": [
        "Download briefing (Word)",
        "Download briefing (Excel)",
        "Download briefing (web page, printable)",
    ],
}
FILES = {
    "zh": ["月度通报_2024年6月.docx", "月度通报_2024年6月.xlsx", "月度通报_2024年6月.html"],
    "en": ["monthly_briefing_2024-06.docx", "monthly_briefing_2024-06.xlsx", "monthly_briefing_2024-06.html"],
}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("briefing_page"))


@pytest.fixture
def downloads(monkeypatch) -> dict[str, object]:
    """file name -> what a click would run, recorded at Streamlit's media manager."""
    seen: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name or ""] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def briefing_buttons(at) -> list[str]:
    labels = [b.proto.label for b in at.get("download_button")]
    return [label for label in labels if label in LABELS["zh"] + LABELS["en"]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_leader_gets_three_formats_named_in_their_language(app, downloads, lang):
    at = login(app, "leader1")
    at.toggle(key=LANG_KEY).set_value(lang == "en").run()
    at.switch_page("pages/overview.py").run()
    assert errors_of(at) == []
    assert briefing_buttons(at) == LABELS[lang]
    assert set(FILES[lang]) <= set(downloads)
    word = docx.Document(io.BytesIO(downloads[FILES[lang][0]]()))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == 5
    book = openpyxl.load_workbook(io.BytesIO(downloads[FILES[lang][1]]()))
    assert len(book.sheetnames) == 1
    assert downloads[FILES[lang][2]]().startswith(b"<!DOCTYPE html>")


def test_a_task_force_head_is_offered_no_briefing_on_any_page(app, downloads):
    at = login(app, "tf1")
    pages = menu_pages(at)
    assert pages and "pages/overview.py" not in pages
    for page in pages:
        at.switch_page(page).run()
        assert errors_of(at) == [], page
        assert briefing_buttons(at) == [], page
    assert not any(n.startswith(("月度通报", "monthly_briefing")) for n in downloads)
