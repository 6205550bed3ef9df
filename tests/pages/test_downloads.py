"""Downloads: only through the pages' own audited buttons, and only while the session is valid.

- The table toolbar's own "Download as CSV" is switched off (config file and dashboard.py).
- A file behind a button is made when the button is clicked, by a server thread, possibly long
  after the page was drawn. It is made (and audited) only if, at that moment, the session that
  drew it is still signed in as the same user and not idle past its limit, and the store still
  gives that user the same role, scope and the export permission; otherwise nothing is made
  and nothing is audited as a download.
"""

from __future__ import annotations

import shutil
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analytics.errors import AccessDenied
from analytics.services import auth
from analytics.store import backup, db
from tests.fixtures.apptest import (
    ROOT,
    build_fixture_store,
    errors_of,
    login,
    new_app,
)
from ui import session

DOWNLOAD_ACTIONS = ("download", "backup")
IDLE = (session.SESSION_MINUTES + 1) * 60  # seconds: just past the idle limit


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory) -> Path:
    return build_fixture_store(tmp_path_factory.mktemp("downloads")).path


@pytest.fixture
def store_path(fixture_store, tmp_path, monkeypatch) -> Path:
    """A private copy (these tests change roles and delete users), with its caller key."""
    path = tmp_path / "store.duckdb"
    shutil.copy(fixture_store, path)
    key = Path(f"{fixture_store}.key")
    if key.exists():
        shutil.copy2(key, f"{path}.key")
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return path


@pytest.fixture
def downloads(monkeypatch) -> dict[str, object]:
    """file name -> the callable a click would run, for every deferred download of the runs.
    Recorded at Streamlit's media manager, so the page code and payload run unchanged."""
    seen: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name or ""] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def with_store(path: Path, fn):
    con = db.connect(path)
    try:
        return fn(con)
    finally:
        con.close()


def download_audits(path: Path) -> list[str]:
    """The file names of every download / backup in the audit log."""
    log = with_store(path, lambda con: backup.audit_log(con))
    return sorted(log.loc[log["action"].isin(DOWNLOAD_ACTIONS), "detail"].astype(str))


def open_page(username: str, page: str) -> AppTest:
    at = login(new_app(), username)
    at.switch_page(page).run()
    assert not errors_of(at), errors_of(at)
    return at


def pick(downloads: dict[str, object], prefix: str, suffix: str):
    """The one recorded download whose file name starts with `prefix` and ends with `suffix`."""
    (name,) = [n for n in downloads if n.startswith(prefix) and n.endswith(suffix)]
    return name, downloads[name]


# --- the table toolbar's own export -----------------------------------------------------------


def test_config_file_turns_the_table_toolbar_export_off() -> None:
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["client"]["disableDataExport"] is True
    # the name is one this Streamlit knows (a misspelt key would be ignored without a word)
    assert st_config.get_option("client.disableDataExport") in (True, False)


def test_dashboard_turns_it_off_even_without_the_config_file(store_path) -> None:
    """A server started from another folder reads no .streamlit/config.toml: the entry script
    sets the option itself."""
    st_config.set_option("client.disableDataExport", False)
    new_app().run()
    assert st_config.get_option("client.disableDataExport") is True


# --- files made after the page was drawn ------------------------------------------------------

# (user, page, file name prefix, suffix): every kind of lazily made file the pages offer
FILES = [
    ("leader1", "pages/overview.py", "上升前十_", ".csv"),  # a table's CSV (render_table)
    ("leader1", "pages/overview.py", "上升前十_", ".xlsx"),  # a table's workbook
    ("leader1", "pages/overview.py", "月度通报_", ".docx"),  # the briefing as a Word document
    ("leader1", "pages/overview.py", "月度通报_", ".xlsx"),  # the briefing workbook
    ("leader1", "pages/overview.py", "月度通报_", ".html"),  # the printable briefing
    ("analyst1", "pages/upload.py", "import_batches", ".csv"),  # upload history
    ("admin1", "pages/admin.py", "hotline-backup", ".zip"),  # the full backup
]


@pytest.mark.parametrize(("username", "page", "prefix", "suffix"), FILES)
def test_file_is_made_and_audited_while_the_session_is_valid(
    store_path, downloads, username, page, prefix, suffix
) -> None:
    open_page(username, page)
    name, make = pick(downloads, prefix, suffix)
    data = make()
    assert len(data) > 0
    (entry,) = download_audits(store_path)
    assert name in entry


def _idle(at: AppTest, path: Path, username: str) -> None:
    at.session_state[session.LAST_SEEN_KEY] = time.time() - IDLE


def _logged_out(at: AppTest, path: Path, username: str) -> None:
    at.sidebar.button(key="logout_button").click().run()


def _other_user(at: AppTest, path: Path, username: str) -> None:
    # same browser, signed out and back in as someone else
    at.sidebar.button(key="logout_button").click().run()
    login(at, "leader1" if username != "leader1" else "analyst1")


def _role_changed(at: AppTest, path: Path, username: str) -> None:
    with_store(path, lambda con: auth.set_role(con, username, "taskforce", ["C001"]))


def _deleted(at: AppTest, path: Path, username: str) -> None:
    with_store(path, lambda con: auth.delete_user(con, username))


@pytest.mark.parametrize(
    ("username", "page", "prefix", "suffix", "change"),
    [
        ("leader1", "pages/overview.py", "上升前十_", ".csv", _idle),
        ("leader1", "pages/overview.py", "上升前十_", ".xlsx", _idle),
        ("leader1", "pages/overview.py", "月度通报_", ".xlsx", _idle),
        ("leader1", "pages/overview.py", "月度通报_", ".html", _idle),
        ("analyst1", "pages/upload.py", "import_batches", ".csv", _idle),
        ("admin1", "pages/admin.py", "hotline-backup", ".zip", _idle),
        ("leader1", "pages/overview.py", "上升前十_", ".csv", _logged_out),
        ("admin1", "pages/admin.py", "hotline-backup", ".zip", _logged_out),
        ("leader1", "pages/overview.py", "月度通报_", ".xlsx", _other_user),
        ("leader1", "pages/overview.py", "上升前十_", ".csv", _role_changed),
        ("leader1", "pages/overview.py", "月度通报_", ".html", _role_changed),
        ("analyst1", "pages/upload.py", "import_batches", ".csv", _deleted),
    ],
)
def test_file_asked_for_after_the_session_changed_is_refused_and_not_audited(
    store_path, downloads, username, page, prefix, suffix, change
) -> None:
    at = open_page(username, page)
    _, make = pick(downloads, prefix, suffix)
    change(at, store_path, username)
    with pytest.raises(AccessDenied) as refused:
        make()
    assert "文件未生成" in refused.value.zh and "no file was made" in refused.value.en
    assert download_audits(store_path) == []


def test_a_session_kept_active_keeps_its_downloads(store_path, downloads) -> None:
    """Idle time counts from the last interaction: a click just before the limit renews it."""
    at = open_page("leader1", "pages/overview.py")
    at.session_state[session.LAST_SEEN_KEY] = time.time() - IDLE + 120
    at.run()  # an interaction: the session is active again
    _, make = pick(downloads, "上升前十_", ".csv")
    assert make()
    assert len(download_audits(store_path)) == 1


@pytest.mark.parametrize(
    ("last_seen_ago", "expired"),
    [
        (0, False),
        (session.SESSION_MINUTES * 60 - 1, False),
        (session.SESSION_MINUTES * 60 + 1, True),
        (None, True),  # never active
    ],
)
def test_idle_expiry_rule(last_seen_ago, expired) -> None:
    now = 1_000_000.0
    last = None if last_seen_ago is None else now - last_seen_ago
    assert session.idle_expired(last, now) is expired


def test_table_download_is_audited_and_formula_safe(store_path, downloads) -> None:
    """The CSV a table hands out is the masked frame with formulas neutralised, and its download
    is in the audit log under the user who clicked."""
    from ui.widgets import download_payload

    at = open_page("leader1", "pages/overview.py")
    grant = session.DownloadGrant(
        "leader1",
        "leader",
        None,
        ("export",),
        at._session_state,  # noqa: SLF001 - the session's own state
    )
    frame = pd.DataFrame({"content": ['=HYPERLINK("http://x")', "漏水"], "caller_hash": ["h1", "h2"]})
    data = with_store(store_path, lambda con: download_payload(con, grant, frame, "csv", "tickets_C001"))
    assert not data.decode("utf-8-sig").splitlines()[1].startswith("=")  # no live formula
    log = with_store(store_path, lambda con: backup.audit_log(con, action="download"))
    assert log["user"].tolist() == ["leader1"]
    assert "tickets_C001.csv" in log["detail"].iloc[0]
