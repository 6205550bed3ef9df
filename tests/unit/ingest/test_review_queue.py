"""The address review queue: each address with the tickets confirming it would settle, the one
that settles most first, and the whole queue's totals."""

from __future__ import annotations

from analytics.ingest.matching import review
from analytics.store import db

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
