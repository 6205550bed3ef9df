"""The deterministic demo district: a Lanshan-like district with a known truth.

`build_demo(con, seed=0)` fills an empty store with 4 subdistricts, 102 communities, 1,105
compounds, about 120 property companies, half-year star ratings, quarterly property evaluations,
about 350,000 tickets a year from 2022-01-01 to 2024-06-30, 65 task forces led by 38 leaders, and
one account per role (`DEMO_ACCOUNTS`). Same seed, same store content.

How the tickets come about (so every page has something true to show):

- every compound has a persistent complaint rate per household (gamma distributed, higher for
  old and resettlement compounds) - what a ranking should find (analytics.synthetic.rates);
- on top of it, transient half-year shocks (a burst pipe, a fight with the property company) and
  month-to-month noise - real but gone after six months, so regression to the mean is real;
- seasonality by category (heating Nov-Mar, water and power in summer), fewer calls on weekends
  and holidays, and a Spring Festival dip (analytics.synthetic.categories, .seasons);
- the 65 compounds with most tickets in 2023H1 get task forces from 2023-07 (a few 2023-08) and a
  modest true effect (analytics.synthetic.taskforces).

Ticket text, titles and addresses are built from templates x fragments, all vectorised
(analytics.synthetic.texts, .addresses). Callers are synthetic numbers hashed inside DuckDB exactly
as ingestion does, HMAC(store's caller key, sha256(salt || digits)); no number is stored, and with
the store's key the same seed gives the same hashes (analytics.synthetic.callers).

Service is uneven like a real district's: a share of tickets no unit answered, resolution and
satisfaction that dip in the heating season and the summer peak, differ by subdistrict and
improve a little every year (analytics.synthetic.service). About 5% of the tickets came in
without a compound; most of their addresses name a road, a shop or the district alone, and a few
hundred garble a compound's name (analytics.synthetic.garbled). The real matching scores those
addresses as an upload would: the garbled ones mostly wait in the address review queue with their
compound among the suggestions, the few it accepts outright take their compound.

Everything is drawn from one random stream in a fixed order: registry, tickets, task-force
selection and effect, ratings, evaluations, task forces, actions, then the tickets' details. The
service rates and which tickets carry a garbled address draw from a second stream of the same
seed, the garbled addresses themselves from a third: the ticket counts the ranking and the
effects are estimated from do not depend on either.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import ValidationError
from analytics.ingest.matching.bulk import remember_matches
from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.matching.score import score_addresses
from analytics.services.auth import hash_password, insert_user
from analytics.store import db
from analytics.synthetic import callers, garbled, ratings, registry, taskforces, tickets
from analytics.synthetic.registry import SUBDISTRICTS
from analytics.synthetic.taskforces import N_TASKFORCES
from analytics.synthetic.tickets import END, N_MONTHS

# One account per role, shown on the login page in demo mode: role -> (username, password).
DEMO_PASSWORD = "demo1234"
DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    "leader": ("demo_leader", DEMO_PASSWORD),
    "analyst": ("demo_analyst", DEMO_PASSWORD),
    "taskforce": ("demo_head", DEMO_PASSWORD),
    "admin": ("demo_admin", DEMO_PASSWORD),
}

Progress = Callable[[float, str], None]
SIDE_STREAM = 1  # the second random stream: np.random.default_rng((seed, SIDE_STREAM))


def _insert(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    cur.register("demo_frame", frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM demo_frame")  # noqa: S608 - our names
    cur.unregister("demo_frame")


def _registry_index(communities: pd.DataFrame, compounds: pd.DataFrame, aliases: pd.DataFrame) -> Registry:
    """The matching's registry index of the demo registry, read from a scratch in-memory store
    (the demo's own store sees the registry only once its one transaction commits)."""
    scratch = duckdb.connect()
    try:
        for table, frame in (
            ("subdistricts", pd.DataFrame({"subdistrict": list(SUBDISTRICTS)})),
            ("communities", communities),
            ("compounds", compounds[["compound_id", "name", "community", "subdistrict"]]),
            ("compound_aliases", aliases[["compound_id", "alias"]]),
        ):
            scratch.register("registry_frame", frame)
            scratch.execute(f"CREATE TABLE {table} AS SELECT * FROM registry_frame")  # noqa: S608 - our names
            scratch.unregister("registry_frame")
        return load_registry(scratch)
    finally:
        scratch.close()


def _match_unmatched(registry: Registry, frame: pa.Table) -> tuple[pa.Table, pd.DataFrame]:
    """Score the addresses of the tickets without a compound as an upload would: the tickets of
    addresses the matching accepts outright take their compound; returns the tickets and the
    scored addresses (for address_matches, which the review queue reads)."""
    no_compound = pc.is_null(frame.column("compound_id"))
    wanted = pc.unique(pc.filter(frame.column("address"), no_compound)).drop_null().to_pylist()
    scored = score_addresses(registry, sorted({a.strip() for a in wanted} - {""}))
    accepted = scored[scored["status"] == "auto"].set_index("address")
    if accepted.empty:
        return frame, scored
    address = pc.utf8_trim_whitespace(frame.column("address"))
    take = pc.and_(pc.is_in(address, pa.array(accepted.index.tolist(), pa.string())), no_compound)
    hit = accepted.reindex(pc.filter(address, take).to_pylist())
    for name, kind in (
        ("compound_id", pa.string()),
        ("match_method", pa.string()),
        ("match_score", pa.float64()),
    ):
        values = pa.array(hit[name].tolist(), kind)
        column = pc.replace_with_mask(frame.column(name).combine_chunks(), take.combine_chunks(), values)
        frame = frame.set_column(frame.schema.get_field_index(name), name, column)
    return frame, scored


def build_demo(
    con: duckdb.DuckDBPyConnection,
    seed: int = 0,
    progress: Progress | None = None,
    scale: float = 1.0,
) -> dict:
    """Fill an empty store with the demo district; returns summary counts and the build time.

    `scale` multiplies the ticket volume (1.0 = ~350,000 a year); smaller values make quick
    test stores with the same registry and task forces. Raises ValidationError when the store
    already holds tickets or compounds.
    """
    began = time.perf_counter()
    report = progress or (lambda _f, _m: None)
    if db.query_one(con, "SELECT count(*) FROM tickets") or db.query_one(
        con, "SELECT count(*) FROM compounds"
    ):
        raise ValidationError(
            "数据库中已有工单或小区名册，演示数据只能生成到空库中。请指定新的数据库路径（--db）。",
            "The store already holds tickets or compounds; the demo can only be built into an empty "
            "store. Give a new store path (--db).",
        )
    rng = np.random.default_rng(seed)
    side = np.random.default_rng((seed, SIDE_STREAM))
    report(0.02, "生成街道、社区与小区 / registry")
    communities = registry.communities(rng)
    companies = registry.property_companies(rng)
    compounds = registry.compounds(rng, communities, companies)
    aliases = registry.aliases(rng, compounds)
    report(0.1, "生成工单 / tickets")
    raw, truth = tickets.draw(rng, compounds, scale)
    treated = taskforces.select(rng, compounds, raw)
    raw = taskforces.apply_effect(rng, raw, treated)
    report(0.3, "生成工单文本与地址 / ticket text and addresses")
    write_tickets = callers.hashed_ticket_writer(con, seed)
    star_ratings = ratings.ratings(rng, truth, set(treated["compound_id"]))
    evaluations = ratings.evaluations(rng, compounds, truth, companies)
    head = DEMO_ACCOUNTS["taskforce"][0]
    task_forces = taskforces.taskforce_rows(rng, treated, raw, head)
    actions = taskforces.actions(rng, task_forces)
    head_scope = ",".join(sorted(task_forces.loc[task_forces["head"] == head, "compound_id"]))
    password_hash = hash_password(DEMO_PASSWORD)
    registry_index = _registry_index(communities, compounds, aliases)
    garbled_table = garbled.demo_addresses(seed, compounds, aliases, registry_index)
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        frame = tickets.ticket_table(rng, raw, compounds, aliases, batch_id, side, garbled_table)
        report(0.6, "写入数据库 / writing the store")
        db.set_setting(cur, "demo", "1")
        db.set_setting(cur, "demo_seed", str(seed))
        _insert(cur, "subdistricts", pd.DataFrame({"subdistrict": list(SUBDISTRICTS)}))
        _insert(cur, "communities", communities)
        _insert(cur, "compounds", compounds)
        _insert(cur, "compound_aliases", aliases.assign(source="registry"))
        frame, matches = _match_unmatched(registry_index, frame)
        remember_matches(cur, matches.assign(fresh=True))
        _insert(cur, "compound_ratings", star_ratings)
        _insert(cur, "property_evaluations", evaluations)
        cur.execute(
            'INSERT INTO ingest_batches (batch_id, kind, file_name, "user", loaded_at, rows_read, inserted, '
            "updated, duplicates, rejected, unmatched, mapping) VALUES (?, 'demo', ?, 'demo', now(), ?, ?, 0, 0, 0, ?, NULL)",
            [batch_id, f"demo(seed={seed})", len(frame), len(frame), frame.column("compound_id").null_count],
        )
        write_tickets(cur, frame)
        report(0.85, "专班与账号 / task forces and accounts")
        _insert(cur, "task_forces", task_forces)
        _insert(cur, "taskforce_actions", actions.assign(logged_at=pd.Timestamp(END)))
        for _ in range(N_TASKFORCES):  # keep the sequences past the ids used here
            db.next_id(cur, "seq_taskforce")
        for _ in range(len(actions)):
            db.next_id(cur, "seq_action")
        for role, (username, _password) in DEMO_ACCOUNTS.items():
            insert_user(
                cur, username, password_hash, role, head_scope if role == "taskforce" else None, "demo"
            )
        seconds = round(time.perf_counter() - began, 1)
        summary = {
            "seed": seed,
            "batch_id": batch_id,
            "subdistricts": len(SUBDISTRICTS),
            "communities": len(communities),
            "compounds": len(compounds),
            "new": int((~compounds["is_old"]).sum()),
            "old": int(compounds["is_old"].sum()),
            "property_companies": len(companies),
            "aliases": len(aliases),
            "tickets": len(frame),
            "tickets_per_year": round(len(frame) * 12 / N_MONTHS),
            "unmatched_tickets": frame.column("compound_id").null_count,
            "addresses_to_review": int((matches["status"] == "review").sum()),
            "task_forces": len(task_forces),
            "leaders": int(task_forces["leader"].nunique()),
            "ratings": len(star_ratings),
            "property_evaluations": len(evaluations),
            "taskforce_actions": len(actions),
            "users": len(DEMO_ACCOUNTS),
            "seconds": seconds,
        }
        db.audit(cur, "demo", "build_demo", summary)
    report(1.0, "完成 / done")
    return summary
