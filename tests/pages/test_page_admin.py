"""管理: users and roles, the audit log, backup and restore — all through the page."""

from __future__ import annotations

import json

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
    users = frame_with(at, "用户名", "角色", "负责小区", "连续失败次数", "锁定至", "创建时间")
    assert sorted(users["用户名"]) == sorted(USERS)
    shown = users.set_index("用户名")
    assert shown.loc["tf1", "角色"] == "专班组长"
    assert shown.loc["tf1", "负责小区"] == "锦绣花园、阳光家园（2 个）"
    assert shown.loc["leader1", "负责小区"] == "全部小区"
    assert set(shown["锁定至"]) == {"未锁定"}
    assert all(len(v) == len("2025-01-03 10:21") for v in shown["创建时间"])  # a time, not a timestamp dump
    assert not users.astype(str).apply(lambda col: col.str.contains("argon2|None|nan|NaT")).any().any()
    counts = frame_with(at, "数据表", "行数").set_index("数据表")["行数"]
    assert counts["工单"] == TICKETS_STORED
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


def role_pick(at: AppTest):
    """The role form's widgets are keyed by the account they were loaded from."""
    return next(box for box in at.selectbox if box.key.startswith("ad_role_pick_"))


def scope_pick(at: AppTest):
    return next(box for box in at.multiselect if box.key.startswith("ad_role_scope_"))


def submit_role(at: AppTest) -> AppTest:
    return next(b for b in at.form_submit_button if b.label == "修改角色").click().run()


def pick_user(at: AppTest, username: str) -> AppTest:
    return at.selectbox(key="ad_target").set_value(username).run()


def access(path, username: str) -> tuple[str, tuple[str, ...] | None]:
    user = with_store(path, lambda con: auth.get_user(con, username))
    return user.role, user.compound_scope


def role_changes(path) -> list[dict]:
    rows = with_store(path, lambda con: backup.audit_log(con, action="set_role"))
    return [json.loads(d) for d in rows["detail"]]


@pytest.mark.parametrize(
    ("username", "role", "scope"),
    [("tf1", "taskforce", ["C001", "C002"]), ("leader1", "leader", []), ("admin1", "admin", [])],
)
def test_role_form_loads_the_chosen_users_role_and_scope(store_path, username, role, scope) -> None:
    at = pick_user(open_admin(), "analyst1")  # another user first: switching must reload the form
    assert (role_pick(at).value, scope_pick(at).value) == ("analyst", [])
    pick_user(at, username)
    assert (role_pick(at).value, scope_pick(at).value) == (role, scope)


@pytest.mark.parametrize("username", list(USERS))
def test_role_form_submitted_unchanged_changes_nothing(store_path, username) -> None:
    before = with_store(store_path, db.table_counts)
    at = submit_role(pick_user(open_admin(), username))
    assert not errors_of(at), errors_of(at)
    assert [i.value for i in at.info] == ["未作修改：角色和负责小区与当前相同。"]
    assert not at.success and not at.warning
    assert access(store_path, username) == (USERS[username][0], tuple(USERS[username][1] or ()) or None)
    assert role_changes(store_path) == []
    after = with_store(store_path, db.table_counts)
    assert after["audit_log"] == before["audit_log"] + 1  # only the admin's own login


# (user, new role, new scope, widens?, the access written)
CHANGES = [
    ("tf1", "taskforce", ["C001"], False, ("taskforce", ("C001",))),  # fewer compounds
    ("analyst1", "leader", [], False, ("leader", None)),  # fewer permissions
    ("tf1", "taskforce", ["C001", "C002", "C003"], True, ("taskforce", ("C001", "C002", "C003"))),
    ("tf1", "leader", [], True, ("leader", None)),  # scope dropped: the whole district
    ("leader1", "analyst", [], True, ("analyst", None)),  # uploads
    ("leader1", "admin", [], True, ("admin", None)),
]


@pytest.mark.parametrize(("username", "role", "scope", "widens", "written"), CHANGES)
def test_role_change_that_widens_waits_for_confirmation(
    store_path, username, role, scope, widens, written
) -> None:
    old = access(store_path, username)
    at = pick_user(open_admin(), username)
    role_pick(at).set_value(role)
    scope_pick(at).set_value(scope)
    submit_role(at)
    assert not errors_of(at), errors_of(at)
    if widens:
        assert access(store_path, username) == old and role_changes(store_path) == []  # not yet
        assert "会扩大" in at.warning[0].value
        at.button(key="ad_widen_confirm").click().run()
    assert not errors_of(at), errors_of(at)
    assert f"用户“{username}”的角色已更新。" in [s.value for s in at.success]
    assert access(store_path, username) == written
    change = role_changes(store_path)
    assert len(change) == 1
    assert (change[0]["old_role"], change[0]["role"]) == (old[0], role)
    assert (role_pick(at).value, scope_pick(at).value) == (role, list(written[1] or ()))  # reloaded


def test_widening_change_can_be_cancelled(store_path) -> None:
    at = pick_user(open_admin(), "tf1")
    role_pick(at).set_value("leader")
    submit_role(at)
    at.button(key="ad_widen_cancel").click().run()
    assert [s.value for s in at.success] == ["已取消，未作修改。"]
    assert access(store_path, "tf1") == ("taskforce", ("C001", "C002"))
    assert role_changes(store_path) == []
    assert not at.get("button") or "ad_widen_confirm" not in [b.key for b in at.button]


def test_change_role_gives_new_menu_on_next_click(store_path) -> None:
    leader = new_app()
    login(leader, "leader1")
    assert "pages/upload.py" not in menu_pages(leader)
    at = pick_user(open_admin(), "leader1")
    role_pick(at).set_value("analyst")
    submit_role(at)
    at.button(key="ad_widen_confirm").click().run()
    assert "用户“leader1”的角色已更新。" in [s.value for s in at.success]
    leader.run()  # the signed-in user's next click re-reads the role
    assert "pages/upload.py" in menu_pages(leader)


def test_audit_log_reads_as_words(store_path) -> None:
    at = pick_user(open_admin(), "tf1")
    role_pick(at).set_value("leader")
    submit_role(at)
    at.button(key="ad_widen_confirm").click().run()
    at.selectbox(key="ad_audit_action").set_value("set_role").run()
    log = frame_with(at, "时间", "操作人", "操作", "详情")
    assert log.iloc[0].tolist()[1:] == [
        "admin1",
        "修改角色",
        "tf1：专班组长（2 个小区：锦绣花园、阳光家园） → 区领导（全部小区）",
    ]
    assert at.selectbox(key="ad_audit_action").format_func("set_role") == "修改角色"
    at.selectbox(key="ad_audit_action").set_value("").run()
    everything = frame_with(at, "时间", "操作人", "操作", "详情")
    assert not everything["操作"].str.contains(r"[a-z_]{3,}").any()  # no action code left as it is
    assert not everything["详情"].str.contains('[{}"]').any()  # no JSON
    assert not everything["详情"].str.contains(r"\b[a-z]+_[a-z_]+\b").any()  # no field left as its code


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
    log = frame_with(at, "时间", "操作人", "操作", "详情")
    assert set(log["操作"]) == {"登录"}
    assert "admin1" in set(log["操作人"])
    at.selectbox(key="ad_audit_user").set_value("fixture").run()
    at.selectbox(key="ad_audit_action").set_value("").run()  # every action
    assert frame_with(at, "时间", "操作").loc[:, "操作人"].unique().tolist() == ["fixture"]


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
