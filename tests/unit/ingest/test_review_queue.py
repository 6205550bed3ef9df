"""The address review queue: each address with the tickets confirming it would settle, the one
that settles most first, and the whole queue's totals."""

from __future__ import annotations

import pytest

from analytics.ingest.matching import review
from analytics.store import db

pytestmark = pytest.mark.backends

ADDRESSES = (  # address, status, tickets carrying it
    ("锦秀花园东门", "review", 4),
    ("翠湖名院5号楼", "review", 2),
    ("阳光家苑北区", "review", 7),
    ("解放路1号", "unmatched", 5),  # nothing to confirm: not in the queue
    ("锦绣花园3号楼", "auto", 9),  # already matched
    ("无人地址", "review", 0),
)


def fill(con) -> None:
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', '锦绣花园'), ('C2', '阳光家园')")
        n = 0
        for address, status, tickets in ADDRESSES:
            cur.execute(
                "INSERT INTO address_matches (address, compound_id, match_score, status, candidates) "
                "VALUES (?, NULL, 0.6, ?, '[]')",
                [address, status],
            )
            for _ in range(tickets):
                cur.execute(
                    "INSERT INTO tickets (ticket_id, created_at, address, batch_id) "
                    "VALUES (?, TIMESTAMP '2024-01-01', ?, 1)",
                    [f"T{n:03d}", f" {address} "],  # stored with stray spaces: still the address's
                )
                n += 1


def test_the_queue_puts_the_address_settling_most_tickets_first(store):
    fill(store)
    queue = review.review_queue(store)
    assert queue[["address", "tickets"]].values.tolist() == [
        ["阳光家苑北区", 7],
        ["锦秀花园东门", 4],
        ["翠湖名院5号楼", 2],
        ["无人地址", 0],
    ]


def test_the_totals_count_every_waiting_address_and_its_tickets(store):
    assert review.review_totals(store) == {"addresses": 0, "tickets": 0}
    fill(store)
    assert review.review_totals(store) == {"addresses": 4, "tickets": 13}
    review.confirm_match(store, "阳光家苑北区", "C2", user="ana")
    assert review.review_totals(store) == {"addresses": 3, "tickets": 6}


def lookalike_store(con) -> None:
    """Two compounds a caller's 翠华苑 could mean, and tickets at addresses the matcher sends to review."""
    from analytics.ingest.matching import match_addresses

    with db.transaction(con) as cur:
        cur.execute("INSERT INTO subdistricts (subdistrict) VALUES ('柳青街道')")
        cur.execute(
            "INSERT INTO compounds (compound_id, name, subdistrict) VALUES "
            "('C1', '翠华花苑', '柳青街道'), ('C2', '翠华家园', '柳青街道')"
        )
        n = 0
        for address, tickets in (
            ("翠华苑3号楼", 3),
            ("兰山区翠华苑5号楼2单元", 2),
            ("翠华苑东门", 1),
            ("柳青街道翠华苑8号楼", 4),  # another parse (names the subdistrict): not the same group
        ):
            for _ in range(tickets):
                cur.execute(
                    "INSERT INTO tickets (ticket_id, created_at, address, batch_id) "
                    "VALUES (?, TIMESTAMP '2024-01-01', ?, 1)",
                    [f"T{n:03d}", address],
                )
                n += 1
    match_addresses(con, db.query_df(con, "SELECT DISTINCT address FROM tickets")["address"])


def test_look_alike_addresses_form_one_group_that_says_what_one_decision_settles(store):
    lookalike_store(store)
    queue = review.review_queue(store, include_unmatched=True)
    waiting = set(queue["address"])
    assert {"翠华苑3号楼", "兰山区翠华苑5号楼2单元", "翠华苑东门"} <= waiting
    first = queue.iloc[0]
    group = queue[queue["group"] == first["group"]]
    assert set(group["address"]) == {"翠华苑3号楼", "兰山区翠华苑5号楼2单元", "翠华苑东门"}
    assert group["settles"].tolist() == [6, 6, 6]
    assert group["similar"].tolist() == [2, 2, 2]


def test_one_confirmation_settles_its_look_alikes_and_rescores_the_queue(store):
    lookalike_store(store)
    done = review.settle(store, "翠华苑3号楼", "C1", user="ana")
    assert (done.addresses, done.tickets) == (3, 6)
    # the new alias 翠华苑 -> C1 now matches the address that also names the subdistrict
    assert (done.rematched_addresses, done.rematched_tickets) == (1, 4)
    on_c1 = db.query_one(store, "SELECT count(*) FROM tickets WHERE compound_id = 'C1'")
    assert on_c1 == 10
    assert review.review_totals(store) == {"addresses": 0, "tickets": 0}
    actions = db.query_df(store, "SELECT action FROM audit_log ORDER BY 1")["action"].tolist()
    assert actions == ["confirm_match", "rematch_after_review"]


def test_rejecting_one_address_rejects_its_look_alikes(store):
    lookalike_store(store)
    done = review.reject_group(store, "翠华苑东门", user="ana")
    assert (done.addresses, done.tickets) == (3, 6)
    statuses = db.query_df(store, "SELECT address, status FROM address_matches ORDER BY address")
    rejected = set(statuses.loc[statuses["status"] == "rejected", "address"])
    assert rejected == {"翠华苑3号楼", "兰山区翠华苑5号楼2单元", "翠华苑东门"}
    assert "柳青街道翠华苑8号楼" in set(review.review_queue(store)["address"])


def test_the_page_view_lists_one_address_per_group_and_counts_groups(store):
    lookalike_store(store)
    queue = review.review_queue(store, limit=2, include_unmatched=True, per_group=True)
    assert len(queue) == 2 and queue["group"].is_unique
    assert queue.iloc[0]["address"] == "翠华苑3号楼" and queue.iloc[0]["settles"] == 6
