"""专班跟踪 page: the ledger by role and scope, one compound's series, logging an action."""

from __future__ import annotations

import io
import json
import shutil

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from analytics.services import effects
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
        [effects.stored_args(), effects.stored_args(by_category=False)]
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
