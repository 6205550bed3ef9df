"""专班跟踪 page: the ledger by role and scope, exit reviews and their reminders, this month's
surge alerts, click-through to the 小区档案, one compound's series, logging an action."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.media_file_manager import MediaFileManager

from analytics.services import effects
from analytics.services.taskforces import records
from analytics.store import db, results
from tests.fixtures.apptest import (
    errors_of,
    new_app,
    open_as,
    table_with,
)
from tests.fixtures.district import ACTION_COST, HEADS, LEADERS, TOP


def open_page(app, username: str):
    return open_as(app, username, "pages/taskforces.py")


def ledger_rows(at) -> int:
    return len(table_with(at, "专班编号"))


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def copy_district(district, folder: Path) -> Path:
    path = folder / "store.duckdb"
    shutil.copy(district.path, path)
    return path


def compound_names(path: Path) -> dict[str, str]:
    con = db.connect(path)
    try:
        return dict(db.query_df(con, "SELECT compound_id, name FROM compounds").itertuples(index=False))
    finally:
        con.close()


def pick_row(at, header: str, row: int):
    """Pick a row of the table headed `header` as a reader's click does, and run the page
    (AppTest offers no call for a table's selection, so the click's widget state is sent)."""
    table = next(df for df in at.dataframe if header in df.value.columns)
    states = at._tree.get_widget_states()  # noqa: SLF001 - the states the next run sends
    click = {"selection": {"rows": [row], "columns": [], "cells": []}}
    states.widgets.append(WidgetState(id=table.proto.id, string_value=json.dumps(click)))
    return at._run(states)  # noqa: SLF001


def profile_links(at) -> dict[str, str]:
    """label -> query string of every link to the 小区档案 on the page (the menu's own excluded)."""
    return {
        link.proto.label: link.proto.query_string
        for link in at.main.get("page_link")
        if link.proto.page == "profile" and link.proto.query_string
    }


@pytest.mark.parametrize(
    "username, rows",
    [
        ("leader1", TOP),
        ("analyst1", TOP),
        ("admin1", TOP),
        ("tf1", HEADS.count("tf1")),
    ],
)
def test_ledger_rows_by_role(app, username, rows):
    at = open_page(app, username)
    assert errors_of(at) == []
    assert ledger_rows(at) == rows
    assert metric(at, "专班数") == str(rows)


def test_a_head_sees_only_their_compounds(app, district):
    at = open_page(app, "tf1")
    shown = set(table_with(at, "专班编号")["小区编号"])
    assert shown == set(district.head_scope)
    # the compound picker offers nothing else either, and there is no leader filter
    assert len(at.selectbox(key="tf_pick").options) == len(district.head_scope)
    with pytest.raises(KeyError):
        at.selectbox(key="tf_leader")


def test_leader_filter(app):
    at = open_page(app, "leader1")
    at.selectbox(key="tf_leader").select("王区长").run()
    assert errors_of(at) == []
    assert ledger_rows(at) == LEADERS.count("王区长")


def test_series_has_start_marker_and_counterfactual_band(app):
    at = open_page(app, "leader1")
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in fig["data"]] == ["反事实 95% 区间", "反事实（无专班）", "实际"]
    assert [s["x0"] for s in fig["layout"]["shapes"] if s.get("name") == "start"] == ["2023-03-01T00:00:00"]


def test_action_form_only_for_those_who_may_log(app):
    at = open_page(app, "leader1")
    assert not at.get("form")
    at = open_page(new_app(), "tf1")
    assert at.text_area(key="tf_log_text") is not None


def test_head_logs_an_action(district, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), "tf1")
    # the first task force already has the fixture's one logged action
    assert len(table_with(at, "工作内容")) == 1
    at.text_area(key="tf_log_text").input("约谈物业公司，整改垃圾清运")
    at.number_input(key="tf_log_cost").set_value(500.0)
    at.get("form_submit_button")[0].click()
    at.run()
    assert errors_of(at) == []
    assert "工作记录已保存。" in [s.value for s in at.success]
    assert len(table_with(at, "工作内容")) == 2
    con = db.connect(path)
    try:
        row = con.execute(
            'SELECT action, cost, "user" FROM taskforce_actions ORDER BY action_id DESC LIMIT 1'
        ).fetchone()
        # the write rebuilt the stored effects both pages read, so the next viewer reads them
        stored = results.stored_rows(con, effects.STORED_NAME)
        version = results.row_version(con, effects.STORED_CODE)
        cost = effects.stored_effects(con).cost["total_cost"]
        unchanged = results.stored_rows(con, effects.STORED_NAME) == stored
    finally:
        con.close()
    assert row == ("约谈物业公司，整改垃圾清运", 500.0, "tf1")
    assert sorted(r["args"] for r in stored) == sorted(
        effects.stored_args(**kwargs) for kwargs in effects.DASHBOARD_VARIANTS
    )
    assert {r["version"] for r in stored} == {version}
    assert cost == ACTION_COST + 500.0 and unchanged


# a caller's numbers as an operator typed them into the ticket, in several spellings
RAW_NUMBERS = ("138 1234 5678", "一三八一二三四五六七八", "0539-8123456", "370302199001011234")
RAW_TEXT = (
    "电梯困人，请回电 138 1234 5678 或 一三八一二三四五六七八，座机0539-8123456，身份证370302199001011234"
)


def store_with_raw_numbers(district, folder) -> str:
    """A copy of the district whose every task-force compound has, as its newest tickets, one
    hot issue whose text carries raw numbers: written straight into the store, as an old
    upload or another program would have left it (no ingest, no migration ran over it)."""
    path = folder / "store.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        newest = pd.Timestamp(db.query_one(con, "SELECT max(created_at) FROM tickets"))
        with db.transaction(con) as cur:
            for c, compound_id in enumerate(district.treated):
                for k in range(4):
                    cur.execute(
                        "INSERT INTO tickets (ticket_id, created_at, title, content, address, category, "
                        "compound_id, batch_id) VALUES (?, ?, ?, ?, ?, '电梯故障', ?, 1)",
                        [f"RAW{c}{k}", newest + pd.Timedelta(hours=k + 1), RAW_TEXT, RAW_TEXT,
                         f"3号楼 {RAW_NUMBERS[0]}", compound_id],
                    )  # fmt: skip
    finally:
        con.close()
    return str(path)


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, object]]:
    """Every download a run offers: (file name, the callable Streamlit calls on the click)."""
    seen: list[tuple[str, object]] = []
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen.append((file_name or "", data_callable))
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def payload_text(name: str, make) -> str:
    data = make()
    data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if name.endswith(".xlsx"):
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="calamine")
        return "\n".join(df.astype(str).to_csv() for df in sheets.values())
    return data.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("username", "offers_files"),
    [
        ("tf1", False),  # a task-force head reads, and may not export
        ("leader1", True),
    ],
)
def test_hot_issue_text_never_shows_raw_numbers(
    district, tmp_path, monkeypatch, downloads, username, offers_files
):
    monkeypatch.setenv("HOTLINE_DB", store_with_raw_numbers(district, tmp_path))
    at = open_page(new_app(), username)
    assert errors_of(at) == []
    hot = table_with(at, "最近一条内容")  # the page renames sample_text before it draws the table
    assert hot["最近一条内容"].str.startswith("电梯困人，请回电 ********").any()
    cells = "\n".join(df.value.astype(str).to_csv() for df in at.dataframe)
    assert [n for n in RAW_NUMBERS if n in cells] == []
    assert "13812345678" not in cells and "电梯困人" in cells
    hot_files = {name: make for name, make in downloads if name.startswith("热点问题_")}
    assert sorted(n.rsplit(".", 1)[1] for n in hot_files) == (["csv", "xlsx"] if offers_files else [])
    for name, make in hot_files.items():
        text = payload_text(name, make)
        assert "电梯困人" in text, name
        assert [n for n in RAW_NUMBERS if n in text] == [], name


# --- the ledger reads like a report and leads to each compound's profile ------------------------


def test_ledger_reads_like_a_report(app):
    at = open_page(app, "leader1")
    ledger = table_with(at, "专班编号")
    assert set(ledger["满足撤出条件"]) <= {"是", "否"}
    assert set(ledger["状态"]) <= {"进驻", "整改中", "已转化", "撤出"}
    assert (ledger["进驻前月均"].round(1) == ledger["进驻前月均"]).all()
    assert set(ledger["撤出日期"]) == {"—"}  # still in place: no date, and no "NaT"
    assert ledger["距评估"].str.fullmatch(r"已逾期 \d+ 天|还有 \d+ 天|今天到期|已撤出").all()
    assert "None" not in ledger.astype(str).to_numpy()


@pytest.mark.parametrize(("username", "row"), [("leader1", 2), ("leader1", 0), ("tf1", 1)])
def test_a_picked_ledger_row_opens_its_profile(app, username, row):
    at = open_page(app, username)
    wanted = table_with(at, "专班编号")["小区编号"].iloc[row]
    at = pick_row(at, "专班编号", row)
    assert errors_of(at) == []
    assert at.title[0].value == "小区档案"
    assert at.query_params["compound"] == wanted
    assert wanted in at.header[0].value


def test_the_chosen_compound_links_to_its_profile(app, district):
    at = open_page(app, "tf1")
    second = table_with(at, "专班编号").iloc[1]
    at.selectbox(key="tf_pick").select(int(second["专班编号"])).run()
    assert profile_links(at) == {"打开小区档案": f"compound={second['小区编号']}"}
    assert second["小区编号"] == district.head_scope[1]


# --- surge alerts: this month's, among the compounds on the page, each linking to its profile ---


@pytest.fixture(scope="module")
def surging(district, tmp_path_factory) -> Path:
    """The district with a burst of complaints in the last month in one of tf1's compounds and
    one of tf2's."""
    path = copy_district(district, tmp_path_factory.mktemp("surging"))
    con = db.connect(path)
    try:
        newest = pd.Timestamp(db.query_one(con, "SELECT max(created_at) FROM tickets"))
        day = newest.to_period("M").start_time + pd.Timedelta(days=10)
        with db.transaction(con) as cur:
            for compound_id in (district.head_scope[0], district.treated[2]):
                for k in range(200):
                    cur.execute(
                        "INSERT INTO tickets (ticket_id, created_at, content, category, compound_id, is_valid, "
                        "batch_id) VALUES (?, ?, '楼道污水外溢', '环境卫生', ?, TRUE, 1)",
                        [f"SURGE-{compound_id}-{k}", day + pd.Timedelta(minutes=60 * k), compound_id],
                    )
    finally:
        con.close()
    return path


@pytest.mark.parametrize(
    ("username", "surging_rows"),
    [
        ("tf1", [0]),  # their own compound, not tf2's
        ("leader1", [0, 2]),  # every task force on the page
    ],
)
def test_surges_are_listed_with_reasons_and_links(surging, district, monkeypatch, username, surging_rows):
    monkeypatch.setenv("HOTLINE_DB", str(surging))
    at = open_page(new_app(), username)
    assert errors_of(at) == []
    names = compound_names(surging)
    treated = [district.head_scope[0], district.treated[1], district.treated[2]]
    links = {q: label for label, q in profile_links(at).items() if "本月" in label}
    assert sorted(links) == sorted(f"compound={treated[r]}" for r in surging_rows)
    for query, label in links.items():
        compound_id = query.removeprefix("compound=")
        assert label.startswith(names[compound_id]) and "主要类别：环境卫生" in label
    help_line = next(h.proto.help for h in at.subheader if h.value == "本月异常上升")
    assert "q 值" in help_line and "Benjamini-Hochberg" in help_line


def test_no_surge_says_so(app):
    at = open_page(app, "tf1")
    assert any(c.value.endswith("这些小区没有异常上升。") for c in at.caption)
    assert [label for label in profile_links(at) if "本月" in label] == []


# --- exit reviews: planned dates, days left, reminders, editing -------------------------------


@pytest.mark.parametrize(
    ("username", "days", "named", "not_named", "headline"),
    [
        # days from today to the planned review of tf1's two task forces
        ("tf1", (5, 60), [0], [1], "0 个专班的评估已逾期，1 个将在 14 天内到期"),
        ("tf1", (-3, 14), [0, 1], [], "1 个专班的评估已逾期，1 个将在 14 天内到期"),
        ("tf1", (15, 90), None, [0, 1], None),  # nothing due: no reminder at all
        # leaders see every task force's reviews; the other four follow the rule's cycle (every
        # exit-rule months from the start), none of them overdue
        ("leader1", (5, 60), [0], [1], "0 个专班的评估已逾期，"),
    ],
)
def test_reminders_name_the_reviews_due(
    district, tmp_path, monkeypatch, username, days, named, not_named, headline
):
    path = copy_district(district, tmp_path)
    today = dt.date.today()
    con = db.connect(path)
    try:
        ledger = records.ledger(con, compound_scope=district.head_scope)
        for compound_id, offset in zip(district.head_scope, days, strict=True):
            tf_id = int(ledger.loc[ledger["compound_id"] == compound_id, "taskforce_id"].iloc[0])
            records.set_review_date(con, tf_id, today + dt.timedelta(days=offset), user="analyst1")
    finally:
        con.close()
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), username)
    assert errors_of(at) == []
    names = compound_names(path)
    reminders = [w.value for w in at.warning if "撤出评估提醒" in w.value]
    if named is None:
        assert reminders == []
    else:
        (reminder,) = reminders
        assert headline in reminder
        for i in named:
            when = f"已逾期 {-days[i]} 天" if days[i] < 0 else f"还有 {days[i]} 天"
            due = today + dt.timedelta(days=days[i])
            assert (
                f"{names[district.head_scope[i]]}（{district.head_scope[i]}）：{when}（{due:%Y-%m-%d}）"
                in reminder
            )
    for i in not_named:
        assert all(names[district.head_scope[i]] not in r for r in reminders)
    ledger = table_with(at, "专班编号").set_index("小区编号")
    assert ledger.loc[district.head_scope[0], "撤出评估日期"] == today + dt.timedelta(days=days[0])


@pytest.mark.parametrize(
    ("username", "may_edit"), [("analyst1", True), ("admin1", True), ("leader1", False), ("tf1", False)]
)
def test_who_may_plan_a_review(app, username, may_edit):
    at = open_page(app, username)
    assert bool([d for d in at.date_input if d.key.startswith("tf_review_date_")]) is may_edit


def test_analyst_moves_a_review_and_it_is_audited(district, tmp_path, monkeypatch):
    path = copy_district(district, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), "analyst1")
    planned = dt.date.today() + dt.timedelta(days=9)
    at.date_input(key="tf_review_date_1").set_value(planned)  # the first task force, shown first
    at.button(key="tf_review_save").click().run()
    assert errors_of(at) == []
    assert f"撤出评估日期已改为 {planned:%Y-%m-%d}。" in [s.value for s in at.success]
    assert any("还有 9 天" in w.value for w in at.warning)  # the reminder follows at once
    con = db.connect(path)
    try:
        stored = db.query_one(con, "SELECT review_date FROM task_forces WHERE taskforce_id = 1")
        audit = db.query_df(
            con, "SELECT \"user\", detail FROM audit_log WHERE action = 'taskforces.set_review_date'"
        )
    finally:
        con.close()
    assert stored == planned
    assert list(audit["user"]) == ["analyst1"]
    assert json.loads(audit["detail"].iloc[0]) == {
        "taskforce_id": 1,
        "from": None,
        "to": f"{planned:%Y-%m-%d}",
    }


@pytest.mark.parametrize("username", ["leader1", "tf1"])
def test_glossary_is_one_click_away(app, username):
    at = open_page(app, username)
    assert [link.proto.label for link in at.main.get("page_link") if link.proto.page == "glossary"] == [
        "名词解释"
    ]
