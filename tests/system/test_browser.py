"""Smoke test in a real browser: a real `streamlit run` server and headless Chromium.

Logs in as each role, opens every page the role may use through the menu, and checks that no
page shows an exception or an error box, that every plotly chart is drawn, that Chinese text
renders and that a forbidden page cannot be reached by its address. Screenshots land in the
test's temporary folder. Uses the system Chromium only; never downloads a browser.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from analytics.services import auth
from tests.fixtures.apptest import PASSWORD, USERS, build_fixture_store
from tests.fixtures.hostile import PAYLOADS, add_hostile_compounds
from tests.fixtures.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ERROR_SELECTOR,
    MENU_LINK,
    PAGE_TIMEOUT_MS,
    SIDEBAR,
    running_server,
    wait_for_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# url path -> Chinese menu title, as dashboard.PAGES and ui.i18n define them
PAGE_TITLES = {
    "overview": "总览",
    "ranking": "重点小区排名",
    "taskforces": "专班跟踪",
    "effects": "整治成效",
    "profile": "小区档案",
    "upload": "数据上传",
    "admin": "管理",
    "glossary": "名词解释",
    "account": "账户",
}
# every link and image target in the page, plotly's SVG links (xlink:href) included
LINKS_JS = """() => Array.from(document.querySelectorAll('a, img, image')).map(e => e.getAttribute('href')
    || e.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || e.getAttribute('src') || '')"""

if CHROMIUM is None:
    pytest.skip("no chromium on PATH (install the distribution's chromium package)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")
sync_playwright = playwright_api.sync_playwright
PlaywrightTimeout = playwright_api.TimeoutError


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser")
    fixture = build_fixture_store(folder)
    add_hostile_compounds(fixture.path, folder, "2024-11")  # pages also draw names that are attacks
    with running_server(fixture.path, folder / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server) -> Iterator:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(page, base: str, username: str, path: str = "") -> None:
    page.goto(f"{base}/{path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector(MENU_LINK, timeout=PAGE_TIMEOUT_MS)
    wait_for_run(page)


def errors_on(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all(ERROR_SELECTOR)]


def test_first_request_to_a_page_address_still_asks_for_login(server, browser, tmp_path) -> None:
    """The very first visit of a fresh server goes straight to /admin: no admin content, only
    the login form (the page hands control back to the shell)."""
    page = browser.new_page()
    page.goto(f"{server}/admin")
    page.get_by_label("用户名").wait_for(timeout=PAGE_TIMEOUT_MS)
    wait_for_run(page)
    page.screenshot(path=str(tmp_path / "first_visit_admin.png"), full_page=True)
    assert not page.query_selector('[data-testid="stException"]')
    assert "用户与角色" not in page.inner_text("body")
    page.close()


@pytest.mark.parametrize("username", list(USERS))
def test_every_allowed_page_renders(server, browser, tmp_path, username: str) -> None:
    role, scope = USERS[username]
    user = auth.User(username, role, tuple(scope) if scope else None)
    allowed = [path for path in PAGE_TITLES if auth.can(user, path)]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, username)
        nav = page.locator(SIDEBAR)
        offered = sorted(a.inner_text().strip() for a in page.locator(MENU_LINK).all())
        assert offered == sorted(PAGE_TITLES[p] for p in allowed)
        for path in allowed:
            nav.get_by_role("link", name=PAGE_TITLES[path]).click()
            wait_for_run(page)
            page.screenshot(path=str(tmp_path / f"{username}_{path}.png"), full_page=True)
            assert not errors_on(page), (path, errors_on(page))
            charts = page.locator('[data-testid="stPlotlyChart"]')
            if charts.count():
                page.wait_for_function(
                    "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                    arg=charts.count(),
                    timeout=PAGE_TIMEOUT_MS,
                )
            assert page.locator(".js-plotly-plot").count() == charts.count(), path
            heading = page.locator("h1").first.inner_text()
            assert any("\u4e00" <= ch <= "\u9fff" for ch in heading), heading  # Chinese title drawn
            # the glyphs have width: a missing CJK font would collapse or box them
            assert page.locator("h1").first.bounding_box()["width"] > 40
            # what a reader, a screen reader or a copy of the page gets: no identifier anywhere,
            # not even an icon font's ligature name
            assert SNAKE.findall(page.inner_text("body")) == [], path
    finally:
        context.close()


def test_bookmark_survives_login(server, browser, tmp_path) -> None:
    page = browser.new_page()
    try:
        log_in(page, server, "analyst1", "profile?compound=C002")
        page.screenshot(path=str(tmp_path / "bookmark_profile.png"), full_page=True)
        assert "阳光家园（C002）" in page.locator("h2").first.inner_text()
        assert not errors_on(page)
    finally:
        page.close()


@pytest.mark.parametrize(
    ("username", "path"), [("leader1", "upload"), ("tf1", "admin"), ("analyst1", "admin")]
)
def test_forbidden_page_address_is_refused(server, browser, tmp_path, username: str, path: str) -> None:
    page = browser.new_page()
    try:
        log_in(page, server, username, path)  # arrives at /path, logs in there
        page.screenshot(path=str(tmp_path / f"{username}_direct_{path}.png"), full_page=True)
        body = page.inner_text("body")
        assert not page.url.rstrip("/").endswith(f"/{path}") or "无权" in body
        offered = [a.inner_text() for a in page.locator(MENU_LINK).all()]
        assert offered and not [text for text in offered if PAGE_TITLES[path] in text]
        assert not page.query_selector('[data-testid="stException"]')
    finally:
        page.close()


def session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == "hotline_session"]


def wait_signed_in(page) -> None:
    page.wait_for_selector(MENU_LINK, timeout=PAGE_TIMEOUT_MS)
    wait_for_run(page)


def wait_login_form(page) -> None:
    page.get_by_label("用户名").wait_for(timeout=PAGE_TIMEOUT_MS)
    wait_for_run(page)


def test_session_survives_reload_and_pasted_link_until_logout(server, browser, tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, "analyst1")
        page.wait_for_function("document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
        (cookie,) = session_cookies(context)
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert 55 * 60 < cookie["expires"] - time.time() <= 60 * 60  # the idle limit
        page.reload()  # F5
        wait_signed_in(page)
        assert page.get_by_label("用户名").count() == 0
        pasted = context.new_page()  # a link pasted into another tab
        pasted.goto(f"{server}/profile?compound=C002")
        wait_signed_in(pasted)
        assert "阳光家园（C002）" in pasted.locator("h2").first.inner_text()
        page.screenshot(path=str(tmp_path / "reloaded.png"), full_page=True)
        page.locator(SIDEBAR).get_by_role("button", name="退出登录").click()
        wait_login_form(page)
        page.wait_for_function("!document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
        assert session_cookies(context) == []
        page.reload()
        wait_login_form(page)
        assert page.locator(MENU_LINK).count() == 0
    finally:
        context.close()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value[:-1] + ("0" if value[-1] != "0" else "1"),  # another signature
        lambda value: "dGYx" + value[value.index("|") :],  # another user's name: tf1
    ],
)
def test_tampered_cookie_does_not_sign_in(server, browser, tamper) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, "leader1")
        page.wait_for_function("document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
        (cookie,) = session_cookies(context)
        context.clear_cookies()
        context.add_cookies([{**cookie, "value": tamper(cookie["value"])}])
        page.reload()
        wait_login_form(page)
        assert page.locator(MENU_LINK).count() == 0
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nonexistent", "没有这个页面：/nonexistent"),
        ("admin", "您无权打开“管理”页面：该页面仅对管理员开放。"),
        ("upload", "您无权打开“数据上传”页面：该页面仅对分析员、管理员开放。"),
    ],
)
def test_typed_address_says_why_there_is_no_page(server, browser, tmp_path, path: str, message: str) -> None:
    """A signed-in leader types an address: the answer stands on that address, in Chinese, and
    Streamlit's own "Page not found" notice (in English) never shows."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, "leader1")
        page.wait_for_function("document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
        page.goto(f"{server}/{path}")
        wait_signed_in(page)
        page.screenshot(path=str(tmp_path / f"typed_{path}.png"), full_page=True)
        body = page.inner_text("body")
        assert message in body
        assert "Page not found" not in body and "not found" not in body.lower()
        assert page.url.rstrip("/").endswith(f"/{path}")
        assert not page.query_selector('[data-testid="stException"]')
    finally:
        context.close()


@pytest.mark.parametrize(("path", "title"), [("overview", "总览"), ("ranking", "重点小区排名"), ("", "总览")])
def test_every_page_answers_at_its_own_address(server, browser, path: str, title: str) -> None:
    """The landing page too: a bookmark of /overview opens the overview, not a "Page not found"."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, "leader1")
        page.wait_for_function("document.cookie.includes('hotline_session=')", timeout=PAGE_TIMEOUT_MS)
        page.goto(f"{server}/{path}")
        wait_signed_in(page)
        assert page.locator("h1").first.inner_text() == title
        assert "Page not found" not in page.inner_text("body")
        assert page.url.rstrip("/") == f"{server}/{path}".rstrip("/")
    finally:
        context.close()


def test_the_chosen_language_survives_a_reload(server, browser) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(server)
        wait_login_form(page)
        page.locator(SIDEBAR).get_by_text("English").click()
        page.get_by_label("User name").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_label("User name").fill("leader1")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        wait_signed_in(page)
        assert page.locator("h1").first.inner_text() == "Overview"
        page.goto(f"{server}/ranking")
        wait_signed_in(page)
        assert page.locator("h1").first.inner_text() == "Compound ranking"
        # the menu, drawn before the sidebar's toggle, speaks it too on the reloaded page
        menu = page.locator(MENU_LINK).all_inner_texts()
        assert "Overview" in menu and "总览" not in menu, menu
    finally:
        context.close()


def test_hostile_names_stay_text_in_the_browser(server, browser) -> None:
    """Compounds whose names are Markdown links, external images, LaTeX and HTML: the overview
    and the ranking show them as text; the browser never asks the attacker's host for anything."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        log_in(page, server, "leader1")  # lands on the overview
        chart_text: list[str] = []
        for path in ("overview", "ranking"):
            if path != "overview":
                page.locator(SIDEBAR).get_by_role("link", name=PAGE_TITLES[path]).click()
                wait_for_run(page)
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                arg=page.locator('[data-testid="stPlotlyChart"]').count(),
                timeout=PAGE_TIMEOUT_MS,
            )
            assert not errors_on(page), (path, errors_on(page))
            assert [url for url in page.evaluate(LINKS_JS) if "evil.example" in url] == [], path
            assert page.locator(".katex").count() == 0, path  # no LaTeX either
            chart_text += page.locator(".js-plotly-plot text").all_text_contents()
        shown = "\n".join(chart_text)
        # plotly decodes the escaped entities: the names read exactly as they were typed
        assert f"{PAYLOADS[6]}6" in shown and f"{PAYLOADS[0]}0" in shown
        assert not [url for url in requested if "evil.example" in url]
    finally:
        context.close()
