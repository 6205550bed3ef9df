"""管理: users and roles, the audit log, backup and restore — all through the page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.services import auth
from analytics.store import backup, db
from tests.fixtures.apptest import (
    PASSWORD,
    TICKETS_STORED,
    USERS,
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    menu_pages,
    new_app,
)

PAGE = "pages/admin.py"


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("admin"))


@pytest.fixture
def store_path(fixture, tmp_path, monkeypatch):
    path = copy_store(fixture, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return path


def open_admin() -> AppTest:
    at = new_app()
    login(at, "admin1")
    return at.switch_page(PAGE).run()


def frame_with(at: AppTest, *columns: str):
    return next(df.value for df in at.dataframe if set(columns) <= set(df.value.columns))


def with_store(path, fn):
    con = db.connect(path)
    try:
        return fn(con)
    finally:
        con.close()


def test_admin_page_lists_users_and_tables(store_path) -> None:
    at = open_admin()
    assert not errors_of(at), errors_of(at)
    users = frame_with(at, "username", "role")
    assert sorted(users["username"]) == sorted(USERS)
    assert "password_hash" not in users.columns
    counts = frame_with(at, "table", "rows").set_index("table")["rows"]
    assert counts["tickets"] == TICKETS_STORED
    assert at.download_button(key="ad_backup_download").proto.label.startswith("下载备份")


def add_user(at: AppTest, name: str, password: str, role: str, scope: list[str] | None = None) -> AppTest:
    at.text_input(key="ad_new_name").input(name)
    at.text_input(key="ad_new_password").input(password)
    at.selectbox(key="ad_new_role").set_value(role)
    if scope:
        at.multiselect(key="ad_new_scope").set_value(scope)
    submit = next(b for b in at.form_submit_button if b.label == "新增")
    return submit.click().run()


@pytest.mark.parametrize(
    ("name", "password", "role", "scope", "message"),
    [
        ("analyst2", "long-enough-1", "analyst", None, None),
        ("head2", "long-enough-1", "taskforce", ["C003"], None),
        ("head3", "long-enough-1", "taskforce", None, "专班组长必须指定负责的小区编号。"),
        ("short", "abc", "leader", None, "密码至少需要 8 个字符。"),
        ("leader1", "long-enough-1", "leader", None, "用户名“leader1”已存在，请换一个。"),
    ],
)
def test_add_user(store_path, name, password, role, scope, message) -> None:
    at = add_user(open_admin(), name, password, role, scope)
    assert not at.exception
    if message is None:
        assert f"用户“{name}”已创建。" in [s.value for s in at.success]
        user = with_store(store_path, lambda con: auth.get_user(con, name))
        assert (user.role, user.compound_scope) == (role, tuple(scope) if scope else None)
    else:
        assert [e.value for e in at.error] == [message]


def test_reset_password_then_login(store_path) -> None:
    at = open_admin()
    at.selectbox(key="ad_target").set_value("leader1").run()
    at.text_input(key="ad_reset_password").input("brand-new-pass")
    next(b for b in at.form_submit_button if b.label == "重置密码").click().run()
    assert "用户“leader1”的密码已重置。" in [s.value for s in at.success]
    fresh = new_app()
    login(fresh, "leader1", PASSWORD)
    assert menu_pages(fresh) == []
    login(fresh, "leader1", "brand-new-pass")
    assert "pages/overview.py" in menu_pages(fresh)


def test_change_role_gives_new_menu_on_next_click(store_path) -> None:
    leader = new_app()
    login(leader, "leader1")
    assert "pages/upload.py" not in menu_pages(leader)
    at = open_admin()
    at.selectbox(key="ad_target").set_value("leader1").run()
    at.selectbox(key="ad_role_pick").set_value("analyst")
    next(b for b in at.form_submit_button if b.label == "修改角色").click().run()
    assert "用户“leader1”的角色已更新。" in [s.value for s in at.success]
    leader.run()  # the signed-in user's next click re-reads the role
    assert "pages/upload.py" in menu_pages(leader)


def test_delete_needs_confirmation(store_path) -> None:
    at = open_admin()
    at.selectbox(key="ad_target").set_value("analyst1").run()
    delete = next(b for b in at.form_submit_button if b.label == "删除用户")
    delete.click().run()
    assert with_store(store_path, lambda con: auth.get_user(con, "analyst1")) is not None
    at.checkbox(key="ad_delete_confirm").check()
    next(b for b in at.form_submit_button if b.label == "删除用户").click().run()
    assert "用户“analyst1”已删除。" in [s.value for s in at.success]
    assert with_store(store_path, lambda con: auth.get_user(con, "analyst1")) is None


def test_audit_log_filter(store_path) -> None:
    at = open_admin()
    at.selectbox(key="ad_audit_action").set_value("login").run()
    log = frame_with(at, "logged_at", "action", "detail")
    assert set(log["action"]) == {"login"}
    assert "admin1" in set(log["user"])
    at.selectbox(key="ad_audit_user").set_value("fixture").run()
    at.selectbox(key="ad_audit_action").set_value("（全部）").run()
    assert frame_with(at, "logged_at", "action")["user"].unique().tolist() == ["fixture"]


@pytest.mark.parametrize(
    ("overwrite", "refused"),
    [
        (False, True),  # a store with data needs the explicit confirmation
        (True, False),
    ],
)
def test_restore_from_backup(store_path, fixture, overwrite: bool, refused: bool) -> None:
    data = with_store(fixture.path, backup.backup_zip_bytes)
    with_store(store_path, lambda con: auth.add_user(con, "extra", "long-enough-1", "leader"))
    at = open_admin()
    at.file_uploader(key="ad_restore_file").set_value(("hotline-backup.zip", data, "application/zip")).run()
    if overwrite:
        at.checkbox(key="ad_restore_overwrite").check().run()
    at.button(key="ad_restore").click().run()
    assert not at.exception
    extra = with_store(store_path, lambda con: auth.get_user(con, "extra"))
    if refused:
        assert "已有数据" in at.error[0].value
        assert extra is not None
    else:
        assert extra is None  # replaced by the backup's users
        assert menu_pages(at) == []  # signed out after a restore
        assert "已从备份恢复" in at.warning[0].value
        counts = with_store(store_path, db.table_counts)
        assert counts["tickets"] == TICKETS_STORED
