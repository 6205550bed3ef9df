"""A ticket id, and a cached address, is stored once, with no index to enforce it: uploads that
repeat, overlap and run at the same time, and the analysts' decisions on the review queue, each
leave one row per id and per address, holding the last version written."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.ingest.matching import bulk, review
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv

pytestmark = pytest.mark.backends


@pytest.fixture
def district(store):
    comp = make_compounds(40)
    with db.transaction(store) as cur:
        cur.register("c", comp)
        cur.execute(
            "INSERT INTO compounds (compound_id, name, subdistrict) SELECT compound_id, name, subdistrict FROM c"
        )
    return store


def _file(tmp_path: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp_path / name
    write_csv(frame, path)
    return path


def _stored(con) -> pd.DataFrame:
    return db.query_df(con, "SELECT ticket_id, content, compound_id, match_method FROM tickets")


def _upload_together(con, paths: list[Path]) -> None:
    """Upload `paths` at the same time, one thread each; any failure is raised here."""
    errors: list[BaseException] = []

    def upload(path: Path) -> None:
        try:
            ingest.ingest_file(con, path, user="ana")
        except BaseException as exc:  # noqa: BLE001 - raised below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_repeated_overlapping_and_concurrent_uploads_store_each_id_once(district, tmp_path):
    """The same file twice, a file overlapping it with changed texts, a file repeating an id
    within itself, and two overlapping files at once: one row per id, the last version's."""
    tickets = make_tickets(900, make_compounds(40), seed=7, realistic=True)
    # a third of the rows name their compound only in the text (the content matcher decides them
    # after the other rows are inserted)
    tickets.loc[tickets.index % 3 == 0, "诉求地址"] = ""
    first, second = tickets.iloc[:500].copy(), tickets.iloc[300:700].copy()
    second["诉求内容"] = second["诉求内容"] + "（再次来电）"
    repeats = pd.concat([tickets.iloc[650:760], tickets.iloc[[700, 701]].assign(诉求内容="文件内第二次")])
    left, right = tickets.iloc[740:860], tickets.iloc[800:900].copy()
    right["诉求内容"] = right["诉求内容"] + "（同时上传）"

    for name, frame in (("a.csv", first), ("a_again.csv", first), ("b.csv", second), ("c.csv", repeats)):
        ingest.ingest_file(district, _file(tmp_path, name, frame), user="ana")
    _upload_together(district, [_file(tmp_path, "d.csv", left), _file(tmp_path, "e.csv", right)])

    got = _stored(district)
    assert len(got) == got["ticket_id"].nunique() == 900
    content = got.set_index("ticket_id")["content"]
    ids = tickets["工单编号"]
    assert content[ids.iloc[100]] == tickets["诉求内容"].iloc[100]
    assert content[ids.iloc[400]].endswith("（再次来电）")
    assert content[ids.iloc[700]] == content[ids.iloc[701]] == "文件内第二次"
    # an id in both files uploaded at once holds one of the two versions, whole
    both = content[ids.iloc[800:860]]
    assert both.str.endswith("（同时上传）").all() or not both.str.endswith("（同时上传）").any()
    # rows that waited for the content matcher were stored with what it decided
    by_text = got.loc[got["match_method"].eq("content")]
    assert len(by_text) > 100 and by_text["compound_id"].notna().all()


def test_the_address_cache_holds_each_address_once(district, tmp_path):
    """Uploads that share waiting addresses (one after the other and at the same time), the
    matcher answering some of them again, an analyst settling one group and rejecting another,
    and a re-match after it: one row per address, carrying the last decision."""
    tickets = make_tickets(1200, make_compounds(40), seed=11, realistic=True)
    halves = [tickets.iloc[:700], tickets.iloc[500:], tickets.iloc[200:900]]
    ingest.ingest_file(district, _file(tmp_path, "a.csv", halves[0]), user="ana")
    paths = [_file(tmp_path, "b.csv", halves[1]), _file(tmp_path, "c.csv", halves[2])]
    _upload_together(district, paths)

    def cached() -> pd.DataFrame:
        return db.query_df(district, "SELECT address, status FROM address_matches")

    waiting = cached()
    assert len(waiting) > 20 and waiting["address"].is_unique
    queue = review.review_queue(district, include_unmatched=True)
    picked = queue[queue["candidates"].map(len) > 0].iloc[0]
    settled = review.settle(district, picked["address"], picked["candidates"][0]["compound_id"])
    assert settled.addresses >= 1
    rejected = review.reject_group(district, queue.iloc[-1]["address"])
    assert rejected.addresses >= 1
    # the matcher answers cached and new addresses again (its merge keeps one row each)
    bulk.match_addresses(district, [*waiting["address"].head(50), "兰山区从未见过的小区9号楼"])
    review.rematch_unmatched(district)
    ingest.ingest_file(district, paths[0], user="ana")  # the same waiting addresses once more

    after = cached()
    assert after["address"].is_unique
    assert set(waiting["address"]) <= set(after["address"])
    status = after.set_index("address")["status"]
    assert status[picked["address"]] == "confirmed"
    assert status[queue.iloc[-1]["address"]] == "rejected"
