"""The shell: login gate, role-aware menu, refused pages, shared sidebar, idle expiry."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.reports.text import text
from analytics.store import backup, db
from tests.fixtures.apptest import (
    ROOT,
    TIMEOUT_S,
    USERS,
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    menu_pages,
    new_app,
)
from tests.fixtures.cookies import cookie_written, signed_in_by

REFUSED = text("login_failed")  # one answer for unknown, wrong and locked
ALL_PAGES = [
    "pages/account.py",
    "pages/admin.py",
    "pages/effects.py",
    "pages/glossary.py",
    "pages/overview.py",
    "pages/profile.py",
    "pages/ranking.py",
    "pages/taskforces.py",
    "pages/upload.py",
]
EVERYONE = ["pages/account.py", "pages/glossary.py"]  # every role: own password, the glossary
MENUS = {
    "leader1": sorted(
        [
            *EVERYONE,
            "pages/effects.py",
            "pages/overview.py",
            "pages/profile.py",
            "pages/ranking.py",
            "pages/taskforces.py",
        ]
    ),
    "analyst1": sorted(
        [
            *EVERYONE,
            "pages/effects.py",
            "pages/overview.py",
            "pages/profile.py",
            "pages/ranking.py",
            "pages/taskforces.py",
            "pages/upload.py",
        ]
    ),
    "tf1": sorted([*EVERYONE, "pages/effects.py", "pages/profile.py", "pages/taskforces.py"]),
    "admin1": ALL_PAGES,
}


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("shell"), with_tickets=False)


@pytest.fixture
def app(fixture, monkeypatch) -> AppTest:
    monkeypatch.setenv("HOTLINE_DB", str(fixture.path))
    return new_app()


def test_login_page_first(app: AppTest) -> None:
    app.run()
    assert not errors_of(app)
    assert [ti.value for ti in app.text_input] == ["", ""]
    assert app.title[0].value == "兰山区12345热线小区治理看板"
    assert menu_pages(app) == []  # nothing but the login form before signing in


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("analyst1", "wrong-password", REFUSED),
        ("nobody", "fixture-pass-1", REFUSED),
    ],
)
def test_wrong_credentials_are_refused(app: AppTest, username: str, password: str, message: str) -> None:
    login(app, username, password)
    assert [e.value for e in app.error] == [message]
    assert menu_pages(app) == []


def test_lockout_message_after_five_failures(fixture, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(copy_store(fixture, tmp_path)))  # the lock is stored
    app = new_app()
    for _ in range(5):
        login(app, "leader1", "wrong-password")
    assert [e.value for e in app.error] == [REFUSED]  # the same answer as any refusal
    store = db.connect(os.environ["HOTLINE_DB"])
    try:
        locked = db.query_one(store, "SELECT locked_until FROM users WHERE username = 'leader1'")
    finally:
        store.close()
    assert locked is not None
    login(app, "leader1")  # even the right password waits for the lock
    assert [e.value for e in app.error] == [REFUSED]
    assert menu_pages(app) == []


@pytest.mark.parametrize("username", list(USERS))
def test_each_role_sees_only_its_pages(app: AppTest, username: str) -> None:
    login(app, username)
    assert not errors_of(app), errors_of(app)
    assert menu_pages(app) == MENUS[username]
    sidebar = [m.value for m in app.sidebar.markdown]
    assert f"当前用户：{username}" in sidebar


@pytest.mark.parametrize(
    ("username", "page"),
    [(u, p) for u in USERS for p in ALL_PAGES if p not in MENUS[u]],
)
def test_forbidden_pages_cannot_be_switched_to(app: AppTest, username: str, page: str) -> None:
    login(app, username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(page)


@pytest.mark.parametrize(
    ("username", "page"),
    [
        ("leader1", "pages/upload.py"),
        ("leader1", "pages/admin.py"),
        ("analyst1", "pages/admin.py"),
        ("tf1", "pages/overview.py"),
        ("tf1", "pages/ranking.py"),
        ("tf1", "pages/upload.py"),
    ],
)
def test_page_refuses_a_role_when_run_directly(fixture, monkeypatch, username: str, page: str) -> None:
    """Even a page script run without the menu checks the role itself."""
    from analytics.services import auth

    monkeypatch.setenv("HOTLINE_DB", str(fixture.path))
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT_S)
    con = db.connect(fixture.path)
    try:
        at.session_state["auth_user"] = auth.get_user(con, username)
    finally:
        con.close()
    at.session_state["auth_last_seen"] = time.time()
    at.run()
    assert [e.value for e in at.error] == ["您的角色无权打开此页面。如需访问，请联系管理员。"]
    assert not at.exception
    assert not at.title  # stopped before drawing anything


def test_page_run_directly_without_login_shows_the_login(fixture, monkeypatch) -> None:
    """A page script started on its own draws nothing of the page: the shell takes over and asks
    for the login."""
    monkeypatch.setenv("HOTLINE_DB", str(fixture.path))
    at = AppTest.from_file(str(ROOT / "pages/upload.py"), default_timeout=TIMEOUT_S).run()
    assert not errors_of(at)
    assert [ti.key for ti in at.text_input] == ["login_username", "login_password"]
    assert [t.value for t in at.title] == ["兰山区12345热线小区治理看板"]
    assert menu_pages(at) == []


# A page address asked of a server process in which no session has called st.navigation yet
# (e.g. a browser reconnecting after a restart): Streamlit then runs the page script from pages/
# itself, as for an old-style multipage app. AppTest starts every run in that state.
@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_address_before_any_navigation_asks_for_the_login(app: AppTest, page: str) -> None:
    app.switch_page(page).run()
    assert not errors_of(app)
    assert [ti.key for ti in app.text_input] == ["login_username", "login_password"]
    assert [t.value for t in app.title] == ["兰山区12345热线小区治理看板"]
    assert menu_pages(app) == []


def test_page_address_before_any_navigation_opens_inside_the_shell(app: AppTest, fixture) -> None:
    """A session still signed in (e.g. through OpenID Connect) gets the page with menu and sidebar."""
    from analytics.services import auth

    con = db.connect(fixture.path)
    try:
        app.session_state["auth_user"] = auth.get_user(con, "analyst1")
    finally:
        con.close()
    app.session_state["auth_last_seen"] = time.time()
    app.switch_page("pages/upload.py").run()
    assert not errors_of(app)
    assert [t.value for t in app.title] == ["数据上传"]
    assert menu_pages(app) == MENUS["analyst1"]
    assert "当前用户：analyst1" in [m.value for m in app.sidebar.markdown]


def test_idle_session_expires(app: AppTest) -> None:
    login(app, "leader1")
    assert menu_pages(app)
    app.session_state["auth_last_seen"] = time.time() - 61 * 60
    app.run()
    assert menu_pages(app) == []
    assert "已自动退出" in app.warning[0].value


def test_logout_returns_to_login_and_is_audited(app: AppTest, fixture) -> None:
    login(app, "leader1")
    assert "login_password" not in app.session_state
    app.sidebar.button(key="logout_button").click()
    app.run()
    assert menu_pages(app) == []
    assert app.text_input(key="login_password").value == ""  # the password is not kept
    con = db.connect(fixture.path)
    try:
        log = backup.audit_log(con, user="leader1")
    finally:
        con.close()
    assert {"login", "logout"} <= set(log["action"])


def test_english_switch(app: AppTest) -> None:
    login(app, "leader1")
    app.sidebar.toggle(key="ui_lang_en").set_value(True)
    app.run()
    assert not errors_of(app)
    assert "Signed in: leader1" in [m.value for m in app.sidebar.markdown]
    assert app.title[0].value == "Overview"


def test_store_without_users_says_how_to_create_one(tmp_path: Path, monkeypatch) -> None:
    from analytics.ingest.registry import compounds
    from tests.fixtures.apptest import write_registry_csv

    path = tmp_path / "real.duckdb"
    con = db.connect(path)
    compounds.import_compounds(con, write_registry_csv(tmp_path / "r.csv"))
    con.close()
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = new_app().run()
    assert not errors_of(at)
    assert "python -m analytics users add" in at.info[0].value
    assert not any("演示数据" in w.value for w in at.sidebar.warning)  # not a demo store


def test_first_start_builds_the_demo_and_says_so(tmp_path: Path, monkeypatch) -> None:
    from analytics.synthetic import demo

    monkeypatch.setenv("HOTLINE_DB", str(tmp_path / "empty.duckdb"))
    monkeypatch.setenv("HOTLINE_DEMO_SCALE", "0.01")
    at = new_app().run()
    assert not errors_of(at), errors_of(at)
    assert any("演示数据" in w.value for w in at.sidebar.warning)
    accounts = at.dataframe[0].value
    assert sorted(accounts["用户名"]) == sorted(name for name, _ in demo.DEMO_ACCOUNTS.values())
    name, password = demo.DEMO_ACCOUNTS["analyst"]
    login(at, name, password)
    assert not errors_of(at), errors_of(at)
    assert "pages/upload.py" in menu_pages(at)
    con = db.connect(tmp_path / "empty.duckdb")
    try:
        assert db.is_demo(con)
        assert db.table_counts(con)["compounds"] == 1105
    finally:
        con.close()
    assert any("演示数据" in w.value for w in at.sidebar.warning)  # on every page
    line = [c.value for c in at.sidebar.caption if c.value.startswith("数据截至")]
    assert len(line) == 1 and line[0].endswith(" · 演示数据（虚构）"), line


OIDC_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-secret",
        "client_id": "dashboard",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
}


@pytest.mark.parametrize(
    ("email", "menu", "notice"),
    [
        ("leader1", MENUS["leader1"], None),  # the provider's e-mail names a local user: their role
        # the notice is Markdown: the e-mail is escaped so it shows literally, never as a link
        ("stranger@example.org", [], "单位账号 stranger\\@example\\.org 尚未在本系统开通"),
    ],
)
def test_openid_connect_maps_email_to_local_user(app: AppTest, email: str, menu: list[str], notice) -> None:
    app.secrets.update(OIDC_SECRETS)
    app.user = {"is_logged_in": True, "email": email}
    app.run()
    assert not app.exception
    assert menu_pages(app) == menu
    if notice:
        assert notice in app.warning[0].value
        assert not app.text_input  # no local password form when the organisation's login is set up


def test_openid_connect_login_button_when_signed_out(app: AppTest) -> None:
    app.secrets.update(OIDC_SECRETS)
    app.user = {"is_logged_in": False}
    app.run()
    assert [b.label for b in app.button] == ["使用单位账号登录"]
    assert not app.text_input


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("请回电13812345678", "请回电********"),  # masked whole: no digit kept
        ("电话 138-1234-5678 谢谢", "电话 ******** 谢谢"),
        ("座机0539-8123456", "座机********"),
        ("3号楼2单元501室", "3号楼2单元501室"),  # house numbers are not phone numbers
        ("2024年12月31日", "2024年12月31日"),
        (None, None),
    ],
)
def test_phone_numbers_are_masked(text, shown) -> None:
    from ui.widgets import mask_phones

    assert mask_phones(text) == shown


# ------------------------------------------------------------ remembered sessions, data line


def test_login_writes_a_signed_expiring_cookie(fixture, tmp_path, monkeypatch) -> None:
    path = copy_store(fixture, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    app = login(new_app(), "tf1")
    value, max_age = cookie_written(app)
    assert max_age == 60 * 60  # the idle limit: the browser drops it then too
    assert signed_in_by(path, value) == "tf1"
    app.run()  # within the minute: the same cookie, not a new one on every click
    assert cookie_written(app) == (value, max_age)


def test_logout_removes_the_cookie_and_kills_every_copy(fixture, tmp_path, monkeypatch) -> None:
    path = copy_store(fixture, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    app = login(new_app(), "leader1")
    copied, _ = cookie_written(app)
    other_tab = login(new_app(), "leader1")
    app.sidebar.button(key="logout_button").click().run()
    assert menu_pages(app) == []
    assert cookie_written(app) == ("", 0)  # removed from this browser
    assert signed_in_by(path, copied) is None  # and a copy taken before the logout is dead
    other_tab.run()  # the same account's other open session ends with it
    assert menu_pages(other_tab) == []
    assert "已在别处退出登录" in other_tab.warning[0].value
    app.run()
    assert cookie_written(app) is None  # removed once, not on every run of the login page


def test_no_cookie_for_a_signed_out_session(app: AppTest) -> None:
    app.run()
    assert cookie_written(app) is None


@pytest.mark.parametrize(
    ("lang", "line"), [("zh", "尚无工单数据 · 尚无导入记录"), ("en", "No tickets yet · no import yet")]
)
def test_data_line_without_tickets(app: AppTest, lang: str, line: str) -> None:
    app.run()
    app.sidebar.toggle(key="ui_lang_en").set_value(lang == "en").run()
    login(app, "leader1")
    assert line in [c.value for c in app.sidebar.caption]
