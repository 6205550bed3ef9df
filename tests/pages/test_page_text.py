"""Every page, for every role, in both languages, reads like a report: no raw identifiers, no
None/nan, no unrounded numbers, no dates with a midnight time, no text outside the catalogue and
no sentence in the other language (tests/fixtures/page_text.py says what each check means).

The walk opens every page in the signed-in user's menu, so a page added later is walked too, and
repeats the upload page after a file is checked (its preview and rejected rows are tables too)."""

from __future__ import annotations

import pytest

from tests.fixtures.apptest import PASSWORD, TICKET_HEADERS, errors_of, menu_pages, ticket_rows
from tests.fixtures.page_text import problems, store_values
from ui.i18n import LANG_KEY

ROLES = ("leader1", "analyst1", "tf1", "admin1")
# an upload as the district's system exports it: its headers and cells are data too
UPLOAD_ROWS = [TICKET_HEADERS, *ticket_rows()[:40]]
UPLOAD = "\n".join(",".join(row) for row in UPLOAD_ROWS).encode("utf-8")


@pytest.fixture(scope="module")
def data_values(district) -> list[str]:
    found = set(store_values(district.path))
    found |= {cell for row in UPLOAD_ROWS for cell in row if cell.strip()}
    return sorted(found, key=len, reverse=True)


def signed_in(app, username: str, lang: str):
    app.run()
    app.toggle(key=LANG_KEY).set_value(lang == "en").run()
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(PASSWORD)
    return app.form_submit_button[0].click().run()


def seen(app, lang: str, data: list[str], step) -> list[str]:
    """The problems of the page `step` leads to; a run that breaks is a problem, not the end of
    the walk (a widget whose labels depend on the language can break a rerun)."""
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - reported as the page's problem
        return [f"the run failed: {exc!r}"[:300]]
    return [f"error: {e}" for e in errors_of(app)] + problems(app, lang, data)


def walk(app, data: list[str], lang: str) -> dict[str, list[str]]:
    """The problems of every page in the menu, by page."""
    found: dict[str, list[str]] = {}
    pages = menu_pages(app)
    assert pages, "the user has no page in the menu"
    for script in pages:
        found[script] = seen(app, lang, data, lambda script=script: app.switch_page(script).run())
        if script == "pages/upload.py":
            app.file_uploader(key="up_file").set_value(("tickets.csv", UPLOAD, "text/csv")).run()
            found["pages/upload.py (checked file)"] = seen(
                app, lang, data, lambda: app.button(key="up_validate").click().run()
            )
    return {page: issues for page, issues in found.items() if issues}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username", ROLES)
def test_every_page_reads_like_a_report(app, data_values, username, lang):
    signed_in(app, username, lang)
    assert walk(app, data_values, lang) == {}
