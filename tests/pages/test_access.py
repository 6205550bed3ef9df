"""Access control end to end: what each role can reach, and what never leaves the store.

Table-driven over (role, page, interaction, expectation), on the page-test fixture plus a
second task force on C003 (outside the task-force head tf1's scope C001/C002) with an action
whose text would betray a leak. For every page a role may open, the whole rendered tree
(text, widgets and their options, chart specs, dataframes) and every file its download
buttons would hand out are scanned for:
- another compound's id or name (task-force head only);
- an argon2 password hash;
- a stored caller hash.
The ticket export and the briefing workbook are scanned for caller hashes as well.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pandas as pd
import pytest
from google.protobuf import text_format
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from analytics.reports import briefing, exports
from analytics.services import auth, ranking
from analytics.services.taskforces import file_import, records
from analytics.store import db
from tests.fixtures.apptest import (
    COMPOUNDS,
    PASSWORD,
    ROOT,
    TIMEOUT_S,
    USERS,
    build_fixture_store,
    errors_of,
    login,
    menu_pages,
    new_app,
)

OTHER_TF_COMPOUND = "C003"  # has a task force, but is not tf1's
OTHER_ACTION = "越权可见的整改记录"  # logged on C003's task force: tf1 must never see it
SCOPE = {"C001", "C002"}
OUTSIDE = {cid: name for cid, name, _, _ in COMPOUNDS if cid not in SCOPE}
ARGON2 = "$argon2"
HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
DENIED = "您的角色无权打开此页面。如需访问，请联系管理员。"
SKIP_DOWNLOADS = ("hotline-backup.zip",)  # the admin's full backup must carry every table whole

PAGES = {
    "overview": "pages/overview.py",
    "ranking": "pages/ranking.py",
    "taskforces": "pages/taskforces.py",
    "effects": "pages/effects.py",
    "profile": "pages/profile.py",
    "upload": "pages/upload.py",
    "admin": "pages/admin.py",
    "glossary": "pages/glossary.py",
    "account": "pages/account.py",
}


@dataclass(frozen=True)
class Store:
    path: Path
    caller_hashes: frozenset[str]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """The page fixture plus a task force on C003 with an action, and its secrets listed."""
    folder = tmp_path_factory.mktemp("access")
    fixture = build_fixture_store(folder)
    con = db.connect(fixture.path)
    try:
        tf_csv = folder / "tf_other.csv"
        with tf_csv.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["小区编号", "包保领导", "专班组长", "进驻日期", "选定窗口"])
            w.writerow([OTHER_TF_COMPOUND, "李区长", "tf2", "2024-07-01", "2024-01:2024-06"])
        file_import.import_taskforces(con, tf_csv, user="fixture")
        other = records.ledger(con, compound_scope=[OTHER_TF_COMPOUND])
        records.log_action(
            con, int(other["taskforce_id"].iloc[0]), "2024-08-01", OTHER_ACTION, 5000, user="fixture"
        )
        hashes = db.query_df(
            con,
            "SELECT caller_hash FROM tickets WHERE caller_hash IS NOT NULL "
            "UNION SELECT caller_hash FROM ticket_history WHERE caller_hash IS NOT NULL",
        )["caller_hash"]
        stored = db.query_df(con, "SELECT password_hash FROM users")["password_hash"]
    finally:
        con.close()
    assert len(hashes) >= 1 and all(HEX64.fullmatch(h) for h in hashes)  # the scan has a target
    assert all(h.startswith(ARGON2) for h in stored)
    return Store(fixture.path, frozenset(hashes))


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, object]]:
    """Every deferred download a run registers: (file name, the callable that makes the file).
    Recorded at Streamlit's media manager, so the real page code and payload run unchanged."""
    seen: list[tuple[str, object]] = []
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen.append((file_name or "", data_callable))
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


# ------------------------------------------------------------------ what a run showed


def _nodes(node) -> Iterator:
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for child in children.values():
        yield from _nodes(child)


def rendered(at: AppTest) -> str:
    """All text of the last run: element protos (labels, options, markdown, chart specs) in
    UTF-8, and every dataframe's cells."""
    parts: list[str] = []
    for node in _nodes(at._tree):  # noqa: SLF001 - the whole tree, not one element type
        proto = getattr(node, "proto", None)
        if getattr(node, "type", None) == "arrow_data_frame":
            parts.append(node.value.astype(str).to_csv())
        elif getattr(proto, "spec", ""):  # a plotly chart: its JSON escapes Chinese, so decode it
            parts.append(json.dumps(json.loads(proto.spec), ensure_ascii=False))
        elif proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def files_text(downloads: list[tuple[str, object]]) -> dict[str, str]:
    """Make every recorded download (as a click would) and read it back as text."""
    out: dict[str, str] = {}
    for name, make in downloads:
        if name in SKIP_DOWNLOADS:
            continue
        data = make()
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if name.endswith(".xlsx"):
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="calamine")
            out[name] = "\n".join(df.astype(str).to_csv() for df in sheets.values())
        elif name.endswith(".docx"):
            doc = docx.Document(io.BytesIO(data))
            cells = [c.text for table in doc.tables for row in table.rows for c in row.cells]
            out[name] = "\n".join([p.text for p in doc.paragraphs] + cells)
        else:
            out[name] = data.decode("utf-8-sig")
    return out


def leaks(text: str, store: Store, username: str) -> list[str]:
    found = [ARGON2] if ARGON2 in text else []
    found += sorted(set(HEX64.findall(text)) & store.caller_hashes)
    if USERS[username][1] is not None:  # a scoped user: nothing of compounds outside the scope
        found += [f"{cid}/{name}" for cid, name in OUTSIDE.items() if cid in text or name in text]
        found += [OTHER_ACTION] if OTHER_ACTION in text else []
    return found


# ------------------------------------------------------------------ running pages


def open_page(store: Store, monkeypatch, username: str, page: str, query: dict[str, str]) -> AppTest:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = new_app()
    login(at, username)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(PAGES[page]).run()


def run_directly(store: Store, monkeypatch, page: str, username: str | None) -> AppTest:
    """The page script alone (no shell, no menu), as a crafted request could reach it."""
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = AppTest.from_file(str(ROOT / PAGES[page]), default_timeout=TIMEOUT_S)
    if username is not None:
        con = db.connect(store.path)
        try:
            at.session_state["auth_user"] = auth.get_user(con, username)
        finally:
            con.close()
        at.session_state["auth_last_seen"] = time.time()
    return at.run()


def assert_no_data(at: AppTest) -> None:
    assert not at.exception
    assert not at.dataframe and not at.metric and not at.get("plotly_chart") and not at.title


# Every page each role may open, with the interactions that could reach other compounds.
# (user, page, query params, widget steps: (kind, key, value))
ALLOWED: list[tuple[str, str, dict[str, str], tuple[tuple[str, str, object], ...]]] = [
    # task-force head: every way into another compound's data
    ("tf1", "profile", {}, ()),
    ("tf1", "profile", {}, (("text_input", "prof_query", "C00"),)),
    ("tf1", "profile", {}, (("text_input", "prof_query", "翠湖"),)),
    ("tf1", "profile", {}, (("text_input", "prof_query", "花园"),)),
    ("tf1", "profile", {}, (("selectbox", "prof_pick", "C002"),)),
    ("tf1", "taskforces", {}, ()),
    ("tf1", "taskforces", {"compound": "C003"}, ()),
    ("tf1", "effects", {}, ()),
    ("tf1", "effects", {"compound": "C003"}, ()),
    ("tf1", "account", {}, ()),
    ("tf1", "glossary", {}, ()),
    # the other roles, every page they may open: no hash of any kind on screen or in a file
    ("leader1", "overview", {}, ()),
    ("leader1", "ranking", {}, ()),
    ("leader1", "taskforces", {}, ()),
    ("leader1", "effects", {}, ()),
    ("leader1", "profile", {"compound": "C001"}, ()),
    ("analyst1", "overview", {}, ()),
    ("analyst1", "ranking", {}, ()),
    ("analyst1", "taskforces", {}, ()),
    ("analyst1", "effects", {}, ()),
    ("analyst1", "profile", {"compound": "C003"}, ()),
    ("analyst1", "upload", {}, ()),
    ("admin1", "admin", {}, ()),
    ("admin1", "upload", {}, ()),
    ("admin1", "profile", {"compound": "C001"}, ()),
]


@pytest.mark.parametrize(("username", "page", "query", "steps"), ALLOWED)
def test_allowed_page_shows_nothing_it_must_not(
    store, monkeypatch, downloads, username, page, query, steps
) -> None:
    at = open_page(store, monkeypatch, username, page, query)
    for kind, key, value in steps:
        widget = getattr(at, kind)(key=key)
        (widget.input(value) if kind == "text_input" else widget.set_value(value)).run()
    assert not at.exception, at.exception
    text = rendered(at)
    assert at.title and PAGES[page] in menu_pages(at)  # the page really drew
    assert leaks(text, store, username) == []
    made = files_text(downloads)
    assert {name: leaks(body, store, username) for name, body in made.items()} == dict.fromkeys(made, [])


# (user, page, what the page shows when it is opened directly)
DIRECT: list[tuple[str, str, str]] = [
    ("leader1", "upload", DENIED),  # leaders cannot upload
    ("leader1", "admin", DENIED),
    ("analyst1", "admin", DENIED),  # analysts cannot manage users
    ("tf1", "overview", DENIED),
    ("tf1", "ranking", DENIED),
    ("tf1", "upload", DENIED),
    ("tf1", "admin", DENIED),
]


@pytest.mark.parametrize(("username", "page", "message"), DIRECT)
def test_page_run_directly_is_refused_without_data(store, monkeypatch, username, page, message) -> None:
    at = run_directly(store, monkeypatch, page, username)
    assert [e.value for e in at.error] == [message]
    assert_no_data(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_run_directly_logged_out_shows_only_the_login(store, monkeypatch, page) -> None:
    """Logged out, a page started on its own draws nothing of itself: the shell asks for the login."""
    at = run_directly(store, monkeypatch, page, None)
    assert not errors_of(at)
    assert [ti.key for ti in at.text_input] == ["login_username", "login_password"]
    assert menu_pages(at) == []
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert leaks(rendered(at), store, "tf1") == []


@pytest.mark.parametrize(
    ("username", "page"),
    [
        ("leader1", "upload"),
        ("leader1", "admin"),
        ("analyst1", "admin"),
        ("tf1", "overview"),
        ("tf1", "ranking"),
        ("tf1", "upload"),
        ("tf1", "admin"),
    ],
)
def test_forbidden_page_is_not_in_the_menu(store, monkeypatch, username, page) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = login(new_app(), username)
    assert PAGES[page] not in menu_pages(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES[page])


ONLY_ADMIN = "您无权打开“管理”页面：该页面仅对管理员开放。如需访问，请联系管理员。"
ONLY_UPLOADERS = "您无权打开“数据上传”页面：该页面仅对分析员、管理员开放。如需访问，请联系管理员。"
# (user, page address, what that address answers once the user is signed in)
FORBIDDEN_ADDRESSES: list[tuple[str, str, str]] = [
    ("leader1", "upload", ONLY_UPLOADERS),
    ("leader1", "admin", ONLY_ADMIN),
    ("analyst1", "admin", ONLY_ADMIN),
    (
        "tf1",
        "overview",
        "您无权打开“总览”页面：该页面仅对区领导、分析员、管理员开放。如需访问，请联系管理员。",
    ),
    (
        "tf1",
        "ranking",
        "您无权打开“重点小区排名”页面：该页面仅对区领导、分析员、管理员开放。如需访问，请联系管理员。",
    ),
    ("tf1", "upload", ONLY_UPLOADERS),
    ("tf1", "admin", ONLY_ADMIN),
]


@pytest.mark.parametrize(("username", "page", "message"), FORBIDDEN_ADDRESSES)
def test_forbidden_address_says_who_may_open_it(
    store, monkeypatch, downloads, username, page, message
) -> None:
    """A bookmark or typed address of a page the role may not open: the login form answers there,
    and after the login the same address says which roles may open it, with nothing of the page."""
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = new_app().switch_page(PAGES[page])  # the address the browser asked for
    login(at, username)
    assert [e.value for e in at.error] == [message]
    assert not at.exception
    assert not at.dataframe and not at.metric and not at.get("plotly_chart") and not at.get("download_button")
    assert downloads == []
    assert menu_pages(at) and PAGES[page] not in menu_pages(at)
    assert leaks(rendered(at), store, username) == []


def unknown_address(at: AppTest, path: str) -> AppTest:
    """Point the session at a page address of its own (AppTest switches pages by file only)."""
    at.context["url"] = f"http://localhost:8501/{path}"
    at._page_hash = calc_hash(path)  # noqa: SLF001 - the hash Streamlit gives an address
    return at


@pytest.mark.parametrize("username", [None, "leader1", "tf1"])
def test_unknown_address_says_there_is_no_such_page(store, monkeypatch, username) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = unknown_address(new_app(), "nonexistent")
    if username is None:
        at.run()
        assert [ti.key for ti in at.text_input] == ["login_username", "login_password"]
    else:
        login(at, username)
        assert menu_pages(at)
        assert not at.dataframe and not at.metric
    # Markdown: the address is shown literally (escaped), as typed
    assert [e.value for e in at.error] == ["没有这个页面：\\/nonexistent。请从左侧菜单选择页面。"]
    assert not at.exception


@pytest.mark.parametrize("username", ["tf1", "leader1"])
def test_data_line_says_how_current_the_data_are(store, monkeypatch, username) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = login(new_app(), username)
    con = db.connect(store.path)
    try:
        newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
        batch, loaded = (
            con.cursor()
            .execute(
                "SELECT batch_id, loaded_at FROM ingest_batches WHERE kind = 'tickets' ORDER BY loaded_at DESC"
            )
            .fetchone()
        )
    finally:
        con.close()
    line = f"数据截至 {newest:%Y-%m-%d} · 最近导入 {loaded:%Y-%m-%d %H:%M}（批次 {batch}）"
    assert line in [c.value for c in at.sidebar.caption]


def test_logged_out_entry_shows_only_the_login(store, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = new_app().run()
    assert menu_pages(at) == []
    assert [ti.key for ti in at.text_input] == ["login_username", "login_password"]
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert leaks(rendered(at), store, "tf1") == []


# (role, action, allowed?) as PERMISSIONS grants them
ACTIONS = [
    ("leader", "upload", False),
    ("leader", "manage_users", False),
    ("leader", "export", True),
    ("analyst", "upload", True),
    ("analyst", "manage_users", False),
    ("taskforce", "upload", False),
    ("taskforce", "manage_users", False),
    ("taskforce", "export", False),
    ("taskforce", "log_action", True),
    ("admin", "manage_users", True),
]


@pytest.mark.parametrize(("role", "action", "allowed"), ACTIONS)
def test_role_actions(role, action, allowed) -> None:
    scope = ("C001",) if role == "taskforce" else None
    assert auth.can(auth.User("someone", role, scope), action) is allowed


REFUSED = "用户名或密码错误，或尝试次数过多已被暂时锁定，请稍后再试。"  # one answer for every refusal


def private_store(store: Store, tmp_path: Path, monkeypatch) -> Path:
    """A copy for a test that locks accounts or slows addresses (both are stored per store)."""
    private = tmp_path / "store.duckdb"
    shutil.copy(store.path, private)
    key = Path(f"{store.path}.key")  # a store moves with its caller key
    if key.exists():
        shutil.copy2(key, f"{private}.key")
    monkeypatch.setenv("HOTLINE_DB", str(private))
    return private


def login_failures(path: Path) -> list[dict]:
    con = db.connect(path)
    try:
        details = db.query_df(
            con, "SELECT detail FROM audit_log WHERE action = 'login_failed' ORDER BY rowid"
        )
    finally:
        con.close()
    return [json.loads(d) for d in details["detail"]]


def test_lockout_through_the_login_form(store, tmp_path, monkeypatch) -> None:
    private = private_store(store, tmp_path, monkeypatch)
    at = new_app()
    for _ in range(auth.LOCKOUT_AFTER):
        login(at, "analyst1", "wrong-password")
        assert [e.value for e in at.error] == [REFUSED]  # the same before and after the lock
    fresh = new_app()  # another browser: the lock lives in the store, not in the session
    login(fresh, "analyst1")
    assert [e.value for e in fresh.error] == [REFUSED] and menu_pages(fresh) == []
    other = login(new_app(), "leader1")  # one locked account locks nobody else
    assert not errors_of(other) and menu_pages(other)
    con = db.connect(private)
    try:
        assert auth.authenticate(con, "analyst1", PASSWORD) is None
        actions = db.query_df(con, "SELECT action FROM audit_log WHERE \"user\" = 'analyst1'")["action"]
    finally:
        con.close()
    assert (actions == "account_locked").sum() == 1
    assert [d["reason"] for d in login_failures(private)][-2:] == ["locked", "locked"]


@pytest.mark.parametrize(
    ("case", "username", "password"),
    [
        ("unknown name", "nobody", PASSWORD),
        ("wrong password", "leader1", "wrong-password"),
        ("locked account", "analyst1", PASSWORD),
        ("10 KB name", "x" * 10_240, PASSWORD),
        ("password typed as name", PASSWORD, PASSWORD),
    ],
)
def test_every_refusal_looks_the_same_on_the_login_page(
    store, tmp_path, monkeypatch, case, username, password
):
    private = private_store(store, tmp_path, monkeypatch)
    con = db.connect(private)
    try:
        for _ in range(auth.LOCKOUT_AFTER):  # analyst1 is locked in every case
            auth.authenticate(con, "analyst1", "wrong-password")
    finally:
        con.close()
    at = login(new_app(), username, password)
    assert [e.value for e in at.error] == [REFUSED], case
    assert menu_pages(at) == [] and not at.exception
    last = login_failures(private)[-1]
    assert set(last) <= {"reason", "name_len", "name_digest", "failed_attempts"}  # nothing typed
    assert len(json.dumps(last)) < 120


def test_an_address_that_keeps_failing_is_refused_even_the_right_password(
    store, tmp_path, monkeypatch
) -> None:
    """A local connection has no address: all of them count as one. Past the free attempts the
    address must wait; a wait longer than the form sleeps through is refused unchecked."""
    from ui import session

    private = private_store(store, tmp_path, monkeypatch)
    throttle = session.login_throttle(str(private.resolve()))
    for _ in range(auth.LOCKOUT_AFTER + 3):  # the next try must wait 8 s: more than is slept through
        throttle.refused(None)
    assert throttle.wait(None) > session.LOGIN_SLEEP_MAX_S
    at = login(new_app(), "leader1")
    assert [e.value for e in at.error] == [REFUSED] and menu_pages(at) == []
    assert login_failures(private)[-1]["reason"] == "throttled"
    elsewhere = login(new_app(), "leader1")
    assert [e.value for e in elsewhere.error] == [REFUSED]  # still waiting: nothing got checked
    assert menu_pages(elsewhere) == []
    other_store = session.login_throttle(str(store.path.resolve()))
    assert other_store.wait(None) == 0.0  # another store's throttle is its own


# (user, page) -> whether the page offers any download button: only roles with "export" get them
# (the same compound's tables: a task-force head sees them, a leader can also take them away)
DOWNLOAD_BUTTONS: list[tuple[str, str, bool]] = [
    ("tf1", "taskforces", False),  # task-force heads may not export
    ("tf1", "profile", False),
    ("leader1", "taskforces", True),
    ("leader1", "profile", True),
    ("leader1", "overview", True),
    ("analyst1", "upload", True),
    ("admin1", "admin", True),
]


@pytest.mark.parametrize(("username", "page", "buttons"), DOWNLOAD_BUTTONS)
def test_download_buttons_only_for_roles_that_may_export(
    store, monkeypatch, downloads, username, page, buttons
) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    at = login(new_app(), username)
    downloads.clear()  # only what this page leaves behind, not the landing page's
    at.query_params["compound"] = "C001"
    at.switch_page(PAGES[page]).run()
    assert not errors_of(at), errors_of(at)
    assert at.dataframe  # the page drew its tables
    assert bool(at.get("download_button")) is buttons
    assert bool(downloads) is buttons  # nor a file maker left behind on the server
    con = db.connect(store.path)
    try:
        assert auth.can(auth.get_user(con, username), "export") is buttons
    finally:
        con.close()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_head_gets_no_file_on_any_page(store, monkeypatch, downloads, page) -> None:
    """Every page address, whether the head may open it or not: no download button, and no file
    maker left behind on the server (a head may not export; the briefing's district totals and
    every table stay on the screen of the head's own compounds)."""
    monkeypatch.setenv("HOTLINE_DB", str(store.path))
    head = auth.User("tf1", "taskforce", ("C001", "C002"))
    if auth.can(head, page):
        at = login(new_app(), "tf1")
        downloads.clear()
        at.switch_page(PAGES[page]).run()
    else:
        at = login(new_app().switch_page(PAGES[page]), "tf1")  # typed address
        assert [e.value for e in at.error] and "您无权打开" in at.error[0].value
    assert not at.exception
    assert not at.get("download_button") and downloads == []
    assert leaks(rendered(at), store, "tf1") == []


def test_ticket_export_and_briefing_carry_no_caller_hash(store, tmp_path) -> None:
    con = db.connect(store.path)
    try:
        out = tmp_path / "export.csv"
        n = exports.export_tickets(con, out, fmt="csv")
        month = str(ranking.latest_complete_month(con))
        workbook = briefing.briefing_xlsx(con, month)
        html = briefing.briefing_html(con, month)
    finally:
        con.close()
    exported = out.read_text(encoding="utf-8-sig")
    assert n > 0 and len(exported.splitlines()) == n + 1
    sheets = pd.read_excel(io.BytesIO(workbook), sheet_name=None, header=None, engine="calamine")
    book = "\n".join(df.astype(str).to_csv() for df in sheets.values())
    for name, text in {"export": exported, "briefing.xlsx": book, "briefing.html": html}.items():
        assert "caller_hash" not in text, name
        assert leaks(text, store, "admin1") == [], name


def test_the_scan_would_catch_a_leak(store, monkeypatch, downloads) -> None:
    """What an analyst may see of C003 is exactly what the scan flags for tf1: on the page, in
    its charts and in its download files."""
    at = open_page(store, monkeypatch, "analyst1", "profile", {"compound": OTHER_TF_COMPOUND})
    flagged = f"{OTHER_TF_COMPOUND}/{OUTSIDE[OTHER_TF_COMPOUND]}"
    assert flagged in leaks(rendered(at), store, "tf1")
    made = files_text(downloads)
    assert any(flagged in leaks(body, store, "tf1") for name, body in made.items() if "C003" in name)
    hashed = f"来电 {next(iter(store.caller_hashes))} 已记录"
    assert leaks(hashed, store, "admin1") == [next(iter(store.caller_hashes))]


# --- the demo district: 65 task forces with per-compound effects ------------------------------

DEMO_SCALE = 0.1  # a tenth of a district's tickets: enough for the effects model, built in seconds
COMPOUND_ID = re.compile(r"(?<![A-Za-z0-9])LS\d{4}(?!\d)")  # not inside a ticket number


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> tuple[Path, tuple[str, ...], dict[str, str], list[str], list[int]]:
    """(path, the demo head's scope, the other task-force compounds' id -> name, the names of
    the head's own task-force compounds, the ids of the head's task forces)."""
    from analytics.synthetic import demo

    path = tmp_path_factory.mktemp("access_demo") / "demo.duckdb"
    con = db.connect(path)
    try:
        demo.build_demo(con, scale=DEMO_SCALE)
        head = auth.get_user(con, demo.DEMO_ACCOUNTS["taskforce"][0])
        ledger = records.ledger(con)
    finally:
        con.close()
    scope = head.compound_scope
    names = dict(zip(ledger["compound_id"], ledger["compound_name"], strict=True))
    mine = [names[c] for c in scope if c in names]
    # names that are part of an in-scope name (阳光花园 in 阳光花园二期) cannot be told apart
    others = {c: n for c, n in names.items() if c not in scope and not any(n in m for m in mine)}
    assert len(scope) >= 1 and len(others) > 50
    own = [int(i) for i in ledger.loc[ledger["compound_id"].isin(scope), "taskforce_id"]]
    return path, scope, others, mine, own


@pytest.mark.parametrize(
    ("page", "steps"),
    [
        ("taskforces", ()),
        ("taskforces", ("tf_pick",)),
        ("effects", ()),  # a head's effects show every own compound at once, with no picker
        ("profile", ()),
    ],
)
def test_demo_head_sees_only_own_task_forces(demo_store, monkeypatch, downloads, page, steps) -> None:
    from analytics.synthetic import demo

    path, scope, others, mine, own = demo_store
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = new_app()
    login(at, demo.DEMO_ACCOUNTS["taskforce"][0], demo.DEMO_PASSWORD)
    at.switch_page(PAGES[page]).run()
    for key in steps:
        at.selectbox(key=key).set_value(own[-1]).run()  # the last of the head's task forces
    assert not errors_of(at), errors_of(at)
    texts = {"page": rendered(at), **files_text(downloads)}
    shown = {where: set(COMPOUND_ID.findall(text)) for where, text in texts.items()}
    # the head's own compounds are there (by id, or by name where the page shows no ids: a
    # head may not export, so no file named after a compound is offered)
    assert set().union(*shown.values()) & set(scope) or any(n in texts["page"] for n in mine)
    assert {w: ids - set(scope) for w, ids in shown.items()} == dict.fromkeys(texts, set())
    named = {w: [n for n in others.values() if n in text] for w, text in texts.items()}
    assert named == dict.fromkeys(texts, [])
