"""A fresh server process in a real browser: what a person sees before any session of the process
has called st.navigation.

Until then Streamlit takes the pages/ folder beside dashboard.py for an old-style multipage app:
its own sidebar navigation would list the raw script names, and a page address would run that
page's script alone. Each test starts its own server and watches the page from its first byte
(a MutationObserver records every state the DOM passes through, however briefly shown):
- the first request of a fresh server goes straight to /upload;
- a browser left open at /upload after the server restarted: it reconnects by itself, and the
  next click runs /upload in the new process;
- the first request arrives while the demo district is built into an empty store.
Uses the system Chromium only; never downloads a browser.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.store import db
from tests.fixtures.apptest import PASSWORD, Fixture, build_fixture_store
from tests.fixtures.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MENU_LINK,
    PAGE_TIMEOUT_MS,
    SIDEBAR,
    free_port,
    running_server,
    wait_for_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP_TITLE = "兰山区12345热线小区治理看板"
UPLOAD_TITLE = "数据上传"
# the names Streamlit would give the scripts in its own navigation (dashboard.py and pages/*.py)
SCRIPT_NAMES = [
    "dashboard",
    *sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "pages").glob("*.py")),
]
DEMO_SCALE = "0.02"  # a demo district of a few thousand tickets: built in seconds
DEMO_TIMEOUT_MS = 180_000
RECONNECT_TRIES = 12
RECONNECT_WAIT_MS = 5_000
# Records, from before the first byte, whether Streamlit's own navigation or a link named like a
# script ever appeared in the sidebar, and whether a progress bar (the demo build) was shown.
WATCH_JS = """(() => {
  const names = %s;
  window.__scriptNames = [];
  window.__progressShown = false;
  window.__progressTexts = [];
  const check = () => {
    if (document.querySelector('[data-testid="stSidebarNav"]')) window.__scriptNames.push('stSidebarNav');
    for (const a of document.querySelectorAll('[data-testid="stSidebar"] a')) {
      const label = a.innerText.trim().split('\\n').pop().trim();
      if (names.includes(label)) window.__scriptNames.push(label);
    }
    const bar = document.querySelector('[data-testid="stProgress"]');
    if (bar) {
      window.__progressShown = true;
      window.__progressTexts.push(bar.innerText.trim());
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
})();""" % json.dumps(SCRIPT_NAMES)  # noqa: UP031 - braces of the script stay literal

if CHROMIUM is None:
    pytest.skip("no chromium on PATH (install the distribution's chromium package)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")
sync_playwright = playwright_api.sync_playwright
PlaywrightTimeout = playwright_api.TimeoutError


@pytest.fixture(scope="module")
def fixture(tmp_path_factory) -> Fixture:
    return build_fixture_store(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.add_init_script(WATCH_JS)
    try:
        yield context.new_page()
    finally:
        context.close()


def script_names_seen(page) -> list[str]:
    return sorted(set(page.evaluate("window.__scriptNames")))


def headings(page) -> list[str]:
    return [h.inner_text().strip() for h in page.locator("h1").all()]


def wait_for_login_form(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    page.get_by_label("用户名").wait_for(timeout=timeout_ms)
    wait_for_run(page)


def sign_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector(MENU_LINK, timeout=PAGE_TIMEOUT_MS)
    wait_for_run(page)


def test_first_request_to_a_page_address_asks_for_the_login(fixture, page, tmp_path) -> None:
    with running_server(fixture.path, tmp_path / "server.log") as base:
        page.goto(f"{base}/upload")
        wait_for_login_form(page)
        page.screenshot(path=str(tmp_path / "first_visit_upload.png"), full_page=True)
        assert headings(page) == [APP_TITLE]  # the login form, nothing of the upload page
        assert not page.query_selector('[data-testid="stException"]')
        sign_in(page, "analyst1")  # the address survives the login
        assert headings(page) == [UPLOAD_TITLE]
        assert page.url.rstrip("/").endswith("/upload")
        assert script_names_seen(page) == []


def test_browser_reconnecting_after_a_restart_is_still_signed_in(fixture, page, tmp_path) -> None:
    """The remembered session (a signed cookie) outlives the server process: the reconnected
    page runs /upload again inside the shell, signed in, never as a bare script."""
    port = free_port()
    with running_server(fixture.path, tmp_path / "before.log", port=port) as base:
        page.goto(f"{base}/upload")
        wait_for_login_form(page)
        sign_in(page, "analyst1")
        assert headings(page) == [UPLOAD_TITLE]
        page.wait_for_function("document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
    with running_server(fixture.path, tmp_path / "after.log", port=port):
        # the page still shows the old session; a click on its menu runs /upload again, once the
        # page has reconnected (a click before that is lost, so it is repeated)
        for _ in range(RECONNECT_TRIES):
            page.locator(SIDEBAR).get_by_role("link", name=UPLOAD_TITLE).click()
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_selector(
                    '[data-testid="stApp"][data-test-script-state="running"]', timeout=RECONNECT_WAIT_MS
                )
                break
        wait_for_run(page)
        page.screenshot(path=str(tmp_path / "reconnected_upload.png"), full_page=True)
        assert headings(page) == [UPLOAD_TITLE]
        assert page.locator(MENU_LINK).count() > 0 and page.get_by_label("用户名").count() == 0
        assert script_names_seen(page) == []
    con = db.connect(fixture.path)  # the new process signed the browser in again (not a stale page)
    try:
        resumed = db.query_df(con, "SELECT \"user\" FROM audit_log WHERE action = 'session_resumed'")
    finally:
        con.close()
    assert "analyst1" in set(resumed["user"])


def test_first_start_builds_the_demo_without_script_names(page, tmp_path) -> None:
    store = tmp_path / "empty.duckdb"  # no file yet: the first run builds the demo district into it
    with running_server(store, tmp_path / "server.log", extra_env={"HOTLINE_DEMO_SCALE": DEMO_SCALE}) as base:
        page.goto(f"{base}/ranking")
        wait_for_login_form(page, DEMO_TIMEOUT_MS)
        page.screenshot(path=str(tmp_path / "demo_built.png"), full_page=True)
        assert page.evaluate("window.__progressShown")  # watched while the demo was being built
        shown = {text for text in page.evaluate("window.__progressTexts") if text}
        # in the reader's language only: Chinese steps, no "生成工单 / tickets"
        assert shown and all(
            text.startswith("首次启动") and not re.search("[A-Za-z]", text) for text in shown
        ), shown
        assert headings(page) == [APP_TITLE]
        assert script_names_seen(page) == []
