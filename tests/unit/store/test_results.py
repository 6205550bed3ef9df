"""Stored derived results: exact JSON round trip, read while fresh, recomputed after every kind of
change, never stored (but still correct) when the writer lock is busy, skipped by backups.

The store is the small simulated district of the analysis-page tests (40 compounds, six task
forces); every test that changes it works on its own copy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.ingest.categories.tickets import set_ticket_category
from analytics.models.effects.result import EffectsResult
from analytics.services import effects
from analytics.services.taskforces import exit_rule, records
from analytics.store import backup, db, results
from tests.fixtures.apptest import copy_store_file
from tests.fixtures.district import ACTION_COST, START, build_district

pytestmark = pytest.mark.backends

LEAN = {"by_category": False}  # the task-force page's arguments: the cheapest full run


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("results"))


@pytest.fixture
def con(district, tmp_path):
    """A writable copy of the district."""
    path = copy_store_file(district.path, tmp_path / "store.duckdb")
    connection = db.connect(path)
    yield connection
    connection.close()


def assert_same_result(got: EffectsResult, want: EffectsResult) -> None:
    """Every field equal, every frame with the same dtypes, index, columns and value types."""
    for f in dataclasses.fields(EffectsResult):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(
                a, b, check_exact=True, check_index_type=True, check_column_type=True
            )
            assert [type(v) for v in a.to_numpy().ravel()] == [type(v) for v in b.to_numpy().ravel()], f.name
        else:
            assert a == b and type(a) is type(b), f.name


def counting(compute: Callable[[], EffectsResult], calls: list[int]) -> Callable[[], EffectsResult]:
    def run() -> EffectsResult:
        calls.append(1)
        return compute()

    return run


def lean_via_store(
    con: duckdb.DuckDBPyConnection, calls: list[int], code: str = effects.STORED_CODE
) -> EffectsResult:
    """stored_effects(by_category=False) through get_or_compute, counting real computations;
    `code` stands for the version of the code that computes it."""
    return results.get_or_compute(
        con,
        effects.STORED_NAME,
        effects.stored_args(**LEAN),
        counting(lambda: effects.estimate_effects(con, **LEAN), calls),
        effects.encode_result,
        effects.decode_result,
        code=code,
    )


def stored_row(con: duckdb.DuckDBPyConnection, args: str) -> dict | None:
    rows = [r for r in results.stored_rows(con, effects.STORED_NAME) if r["args"] == args]
    return rows[0] if rows else None


# ---------------------------------------------------------------- JSON round trip


@pytest.mark.parametrize("kwargs", [{}, LEAN, {"details": False}, {"controls": "all", "seed": 1}])
def test_a_real_result_round_trips_exactly(con, kwargs):
    res = effects.estimate_effects(con, **kwargs)
    back = effects.decode_result(effects.encode_result(res))
    assert_same_result(back, res)
    assert back.crosses_zero == res.crosses_zero


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(),  # no columns at all (an EffectsResult default)
        pd.DataFrame(columns=["category", "tickets", "effect_pct"]),  # empty with columns
        pd.DataFrame({"n": np.array([1, -2], dtype="int64"), "x": [0.1, np.nan], "ok": [True, False]}),
        pd.DataFrame({"x": [np.inf, -np.inf, 1e-300, 0.30000000000000004]}),  # floats bit for bit
        pd.DataFrame({"s": ["甲", None], "mixed": [True, np.nan], "o": [1, "a"]}),  # None vs NaN kept
        pd.DataFrame({"d": [dt.date(2024, 3, 1), None], "t": [dt.datetime(2024, 3, 1, 8, 30, 1, 5), None]}),
        pd.DataFrame({"ts": pd.to_datetime(["2024-03-01 08:00", None]), "td": pd.to_timedelta(["1D", None])}),
        pd.DataFrame({"i": pd.array([1, None], dtype="Int64"), "b": pd.array([True, None], dtype="boolean")}),
        pd.DataFrame({"s": pd.array(["a", None], dtype="string")}),
        pd.DataFrame({"ts": pd.to_datetime(["2024-03-01"]).tz_localize("Asia/Shanghai")}),
        pd.DataFrame({"v": [1.5, 2.5]}, index=pd.Index(["C1", "C2"], name="compound_id")),
        pd.DataFrame({"v": [3, 4]}, index=[10, 5]),  # not a range index
    ],
)
def test_frames_round_trip_with_their_dtypes(frame):
    back = results.loads(results.dumps({"frame": frame}))["frame"]
    pd.testing.assert_frame_equal(
        back, frame, check_exact=True, check_index_type=True, check_column_type=True
    )
    assert list(back.dtypes) == list(frame.dtypes)
    assert [type(v) for v in back.to_numpy().ravel()] == [type(v) for v in frame.to_numpy().ravel()]


@pytest.mark.parametrize("value", [object(), {1: "not a string key"}, np.datetime64("2024-01-01")])
def test_values_json_cannot_hold_are_refused_not_pickled(value):
    with pytest.raises(TypeError):
        results.dumps(value)


# ---------------------------------------------------------------- read while fresh


def test_a_fresh_stored_result_is_read_not_recomputed(con):
    first = effects.stored_effects(con)  # computes and stores
    assert_same_result(first, effects.estimate_effects(con))
    args = effects.stored_args()
    row = stored_row(con, args)
    assert row is not None and row["version"] == results.row_version(con, effects.STORED_CODE)
    calls: list[int] = []
    again = results.get_or_compute(
        con,
        effects.STORED_NAME,
        args,
        counting(lambda: effects.estimate_effects(con), calls),
        effects.encode_result,
        effects.decode_result,
        code=effects.STORED_CODE,
    )
    assert calls == []
    assert stored_row(con, args) == row  # same built_at and seconds: nothing was rewritten
    assert_same_result(again, first)


def test_a_result_stored_by_other_code_is_recomputed(con):
    effects.stored_effects(con, **LEAN)
    calls: list[int] = []
    lean_via_store(con, calls, code="a changed method")
    assert calls == [1]
    lean_via_store(con, calls)  # stored back by this code's version
    assert calls == [1, 1]


def test_each_argument_set_has_its_own_row(con):
    full, lean = effects.stored_effects(con), effects.stored_effects(con, **LEAN)
    assert not full.by_category.empty and lean.by_category.empty
    assert {r["args"] for r in results.stored_rows(con)} == {
        effects.stored_args(),
        effects.stored_args(**LEAN),
    }


# ---------------------------------------------------------------- recomputed after every kind of change


def _ingest_more(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """One more upload: 30 tickets for the first treated compound in 2024-06."""
    cid = db.query_one(con, "SELECT min(compound_id) FROM task_forces")
    rows = ["工单编号,受理时间,诉求内容,诉求类型,小区"]
    rows += [f"NEW-{i},2024-06-{i % 28 + 1:02d} 10:00:00,楼道堆物,环境卫生,{cid}" for i in range(30)]
    path = folder / "more.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    return int(ingest.ingest_file(con, path, user="analyst1").batch_id)


def _new_tickets(con, folder):
    _ingest_more(con, folder)


def _move_ticket(con, folder):
    with db.transaction(con) as cur:  # as an address confirmation moves a ticket
        cur.execute(
            "UPDATE tickets SET compound_id = 'C00002' WHERE ticket_id = (SELECT min(ticket_id) FROM tickets "
            "WHERE compound_id = (SELECT min(compound_id) FROM task_forces))"
        )


def _recategorise(con, folder):
    ticket = db.query_one(con, "SELECT min(ticket_id) FROM tickets WHERE category <> '噪音扰民'")
    set_ticket_category(con, ticket, "噪音扰民", user="analyst1")


def _add_taskforce(con, folder):
    snapshot = db.query_one(con, "SELECT max(snapshot_id) FROM ranking_snapshots")
    other = db.query_one(
        con,
        "SELECT min(compound_id) FROM compounds WHERE compound_id NOT IN (SELECT compound_id FROM task_forces)",
    )
    records.create_from_snapshot(
        con, snapshot, pd.DataFrame({"compound_id": [other], "leader": ["赵区长"]}), START
    )


def _edit_taskforce(con, folder):
    records.set_target(con, int(db.query_one(con, "SELECT min(taskforce_id) FROM task_forces")), 3.0)


def _exit_taskforce(con, folder):
    state = exit_rule.exit_status(con)
    ready = int(state.loc[state["meets_exit_rule"].astype(bool), "taskforce_id"].iloc[0])
    records.set_status(con, ready, records.STATUS_CLOSED, user="leader1")


def _log_cost(con, folder):
    records.log_action(
        con, int(db.query_one(con, "SELECT min(taskforce_id) FROM task_forces")), "2024-05-01", "维修", 800.0
    )


def _rename_compound(con, folder):
    with db.transaction(con) as cur:  # as the registry edit does, without an upload batch
        cur.execute(
            "UPDATE compounds SET name = name || '（新）' WHERE compound_id = (SELECT min(compound_id) FROM task_forces)"
        )


def _move_community(con, folder):
    with db.transaction(con) as cur:
        cur.execute("UPDATE compounds SET community = '第999社区' WHERE compound_id = 'C00002'")


CHANGES: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], None]] = {
    "new tickets": _new_tickets,
    "ticket moved to another compound": _move_ticket,
    "ticket recategorised": _recategorise,
    "task force added": _add_taskforce,
    "task force target edited": _edit_taskforce,
    "task force exited": _exit_taskforce,
    "action with a cost logged": _log_cost,
    "compound renamed": _rename_compound,
    "compound moved to another community": _move_community,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_makes_the_stored_result_stale(con, tmp_path, change):
    calls: list[int] = []
    lean_via_store(con, calls)
    lean_via_store(con, calls)
    assert calls == [1]  # stored, then read
    before = results.store_version(con)
    CHANGES[change](con, tmp_path)
    assert results.store_version(con) != before
    got = lean_via_store(con, calls)
    assert calls == [1, 1]  # recomputed ...
    assert_same_result(got, effects.estimate_effects(con, **LEAN))
    version = results.row_version(con, effects.STORED_CODE)
    assert stored_row(con, effects.stored_args(**LEAN))["version"] == version  # ... and stored
    lean_via_store(con, calls)
    assert calls == [1, 1]


def test_an_undo_makes_the_stored_result_stale(con, tmp_path):
    batch = _ingest_more(con, tmp_path)
    calls: list[int] = []
    lean_via_store(con, calls)
    ingest.undo_batch(con, batch, user="analyst1")
    got = lean_via_store(con, calls)
    assert calls == [1, 1]
    assert_same_result(got, effects.estimate_effects(con, **LEAN))


def test_the_cost_shown_follows_a_logged_action(con):
    assert effects.stored_effects(con).cost["total_cost"] == ACTION_COST
    _log_cost(con, None)
    assert effects.stored_effects(con).cost["total_cost"] == ACTION_COST + 800.0


# ---------------------------------------------------------------- busy or read-only stores


def test_with_the_writer_lock_held_the_reader_gets_a_computed_result_and_nothing_is_stored(con):
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction(con):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        got = effects.stored_effects(con)
    finally:
        release.set()
        thread.join(30)
    assert_same_result(got, effects.estimate_effects(con))
    assert results.stored_rows(con) == []
    effects.stored_effects(con)  # the lock is free again: now it is stored
    assert len(results.stored_rows(con)) == 1


def test_a_read_only_store_gets_a_computed_result(district, tmp_path):
    path = copy_store_file(district.path, tmp_path / "ro.duckdb")
    ro = db.connect(path, read_only=True)
    try:
        got = effects.stored_effects(ro, **LEAN)
        assert results.stored_rows(ro) == []
    finally:
        ro.close()
    con = db.connect(path)
    try:
        assert_same_result(got, effects.estimate_effects(con, **LEAN))
    finally:
        con.close()


def test_a_row_this_code_cannot_read_is_recomputed(con):
    effects.stored_effects(con, **LEAN)
    with db.transaction(con) as cur:
        cur.execute("UPDATE derived_results SET payload = '{\"treated\": 1}'")
    calls: list[int] = []
    got = lean_via_store(con, calls)
    assert calls == [1]
    assert_same_result(got, effects.estimate_effects(con, **LEAN))


# ---------------------------------------------------------------- backups


def test_backup_skips_stored_results_and_restore_empties_them(con, district, tmp_path):
    effects.stored_effects(con, **LEAN)
    counts = backup.backup_to_dir(con, tmp_path / "bk")
    assert "derived_results" not in counts
    assert not (tmp_path / "bk" / "derived_results.parquet").exists()
    # a store whose stored result came from other data: the restore removes it
    target = db.connect(tmp_path / "target.duckdb")
    try:
        with db.transaction(target) as cur:
            cur.execute(
                "INSERT INTO derived_results VALUES ('effects', ?, 'old', '{}', now(), 1.0)",
                [effects.stored_args(**LEAN)],
            )
        restored = backup.restore_from_dir(target, tmp_path / "bk")
        assert "derived_results" not in restored
        assert results.stored_rows(target) == []
        assert_same_result(effects.stored_effects(target, **LEAN), effects.estimate_effects(con, **LEAN))
    finally:
        target.close()


def test_a_backup_that_holds_stored_results_restores_without_them(con, tmp_path):
    """An older backup lacks the table; a hand-made one may hold it: both restore the data."""
    effects.stored_effects(con, **LEAN)
    folder = tmp_path / "bk"
    backup.backup_to_dir(con, folder)
    con.execute(f"COPY derived_results TO '{folder / 'derived_results.parquet'}' (FORMAT parquet)")
    manifest = (folder / backup.MANIFEST).read_text(encoding="utf-8")
    (folder / backup.MANIFEST).write_text(
        manifest.replace('"counts": {', '"counts": {\n    "derived_results": 1,'), encoding="utf-8"
    )
    target = db.connect(tmp_path / "target.duckdb")
    try:
        restored = backup.restore_from_dir(target, folder)
        assert "derived_results" not in restored and restored["tickets"] > 0
        assert results.stored_rows(target) == []
    finally:
        target.close()
