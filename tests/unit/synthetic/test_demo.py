"""The demo district: sizes, determinism, the planted effect vs the naive drop, service rates
that move like a real district's, and an address review queue with something to review."""

from __future__ import annotations

import datetime as dt
import shutil

import holidays
import pytest

from analytics.errors import ValidationError
from analytics.ingest.matching.index import load_registry
from analytics.ingest.matching.review import review_queue
from analytics.metrics.rates import service_rates
from analytics.services import auth
from analytics.store import callerkey, db
from analytics.synthetic import addresses, demo, garbled, registry, taskforces

pytestmark = pytest.mark.slow

# tables whose whole content must be the same for the same seed
CONTENT_TABLES = (
    "tickets",
    "compounds",
    "communities",
    "compound_aliases",
    "compound_ratings",
    "property_evaluations",
    "task_forces",
    "taskforce_actions",
    "address_matches",
)
BEFORE = ("2022-07-01", "2023-07-01")  # the year before the task forces moved in
AFTER = ("2023-07-01", "2024-07-01")  # the year after


def content_hash(con, table: str) -> int:
    return int(db.query_one(con, f"SELECT coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} t"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The full demo (seed 0), built once for this module."""
    con = db.connect(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    steps: list[tuple[float, str]] = []
    summary = demo.build_demo(con, seed=0, progress=lambda f, m: steps.append((f, m)))
    yield con, summary, steps
    con.close()


def test_registry_sizes(built):
    con, summary, _ = built
    one = lambda sql: db.query_one(con, sql)  # noqa: E731
    assert one("SELECT count(*) FROM subdistricts") == 4
    assert set(db.query_df(con, "SELECT subdistrict FROM subdistricts")["subdistrict"]) == set(
        registry.SUBDISTRICTS
    )
    assert one("SELECT count(*) FROM communities") == 102
    assert one("SELECT count(*) FROM compounds") == 1105
    assert one("SELECT count(*) FROM compounds WHERE NOT is_old") == 446
    assert one("SELECT count(*) FROM compounds WHERE is_old") == 659
    assert set(db.query_df(con, "SELECT DISTINCT type FROM compounds")["type"]) == {
        "商开",
        "还建",
        "家属院",
        "混合",
    }
    assert (
        one("SELECT min(households) FROM compounds")
        < 100
        < 2000
        < one("SELECT max(households) FROM compounds")
    )
    assert 100 <= one("SELECT count(DISTINCT property_company) FROM compounds") <= 120
    # every community has compounds, and sits in exactly one subdistrict
    assert one("SELECT count(DISTINCT community) FROM compounds") == 102
    # identical names exist, but never twice in one subdistrict
    assert one("SELECT count(*) FROM (SELECT name FROM compounds GROUP BY name HAVING count(*) > 1)") >= 3
    assert (
        one("SELECT count(*) FROM (SELECT name, subdistrict FROM compounds GROUP BY ALL HAVING count(*) > 1)")
        == 0
    )
    lat, lon = db.query_df(con, "SELECT avg(lat) AS lat, avg(lon) AS lon FROM compounds").iloc[0]
    assert abs(lat - 35.05) < 0.1 and abs(lon - 118.35) < 0.1
    assert one("SELECT count(*) FROM compound_aliases WHERE alias LIKE '%期' OR alias LIKE '%区'") > 100
    assert one("SELECT count(DISTINCT period) FROM compound_ratings") == 5
    assert (
        one("SELECT min(stars) FROM compound_ratings") == 1
        and one("SELECT max(stars) FROM compound_ratings") == 5
    )
    assert one("SELECT count(DISTINCT quarter) FROM property_evaluations") == 10
    assert summary["compounds"] == 1105 and summary["communities"] == 102


def test_ticket_volume_and_shape(built):
    con, summary, _ = built
    per_year = db.query_df(
        con,
        "SELECT year(created_at) AS y, count(*) AS n FROM tickets WHERE year(created_at) < 2024 GROUP BY 1",
    )
    for n in per_year["n"]:
        assert 315_000 <= n <= 385_000  # ~350,000 a year, +-10%
    one = lambda sql: db.query_one(con, sql)  # noqa: E731
    total = one("SELECT count(*) FROM tickets")
    assert one("SELECT min(created_at) FROM tickets").date() == dt.date(2022, 1, 1)
    assert one("SELECT max(created_at) FROM tickets").date() == dt.date(2024, 6, 30)
    assert 0.04 < one("SELECT count(*) FROM tickets WHERE compound_id IS NULL") / total < 0.06
    assert 0.02 < one("SELECT count(*) FROM tickets WHERE NOT is_valid") / total < 0.04
    assert one("SELECT count(DISTINCT category) FROM tickets") >= 12
    assert one("SELECT count(DISTINCT content) FROM tickets") > 100_000
    assert one("SELECT count(*) FROM tickets WHERE address LIKE '%１%' OR address LIKE '%２%'") > 1000
    assert one("SELECT count(*) FROM tickets WHERE address NOT LIKE '%兰山区%'") > 0.1 * total
    assert one("SELECT count(*) FROM tickets WHERE closed_at < created_at OR due_at <= created_at") == 0
    # repeat callers exist, and callers are salted hashes: no phone number is stored anywhere
    assert one("SELECT max(n) FROM (SELECT count(*) AS n FROM tickets GROUP BY caller_hash)") >= 10
    assert one("SELECT count(*) FROM tickets WHERE NOT regexp_full_match(caller_hash, '[0-9a-f]{64}')") == 0
    assert one("SELECT count(*) FROM tickets WHERE regexp_matches(content || address, '1[3-9][0-9]{9}')") == 0
    # one demo batch holds every ticket
    batch = db.query_df(con, "SELECT batch_id, kind, inserted FROM ingest_batches").iloc[0]
    assert batch["kind"] == "demo" and batch["inserted"] == total
    assert (
        db.query_one(con, "SELECT count(*) FROM tickets WHERE batch_id <> ?", [int(batch["batch_id"])]) == 0
    )
    assert db.is_demo(con)
    assert summary["tickets"] == total


def test_seasonality_and_spring_festival(built):
    con, _, _ = built
    by_month = db.query_df(
        con,
        "SELECT month(created_at) AS m, count(*) FILTER (category = '供暖') AS heat, "
        "count(*) FILTER (category IN ('供水', '供电')) AS summer FROM tickets GROUP BY 1",
    ).set_index("m")
    assert by_month.loc[[12, 1], "heat"].min() > 10 * by_month.loc[[6, 7, 8], "heat"].max()
    assert by_month.loc[[6, 7, 8], "summer"].mean() > 1.3 * by_month.loc[[1, 4, 10], "summer"].mean()
    daily = db.query_df(con, "SELECT created_at::DATE AS d, count(*) AS n FROM tickets GROUP BY 1").set_index(
        "d"
    )["n"]
    for year in (2022, 2023, 2024):
        cn = holidays.China(years=year, language="en_US")
        first = min(d for d, name in cn.items() if "Spring Festival" in name)
        festival = daily[[first + dt.timedelta(days=i) for i in range(3)]].mean()
        weeks_before = daily[[first - dt.timedelta(days=i) for i in range(14, 28)]].mean()
        assert festival < 0.6 * weeks_before


def test_task_forces(built):
    con, _, _ = built
    tfs = db.query_df(con, "SELECT * FROM task_forces")
    assert len(tfs) == 65 and tfs["compound_id"].is_unique
    assert tfs["leader"].nunique() == 38
    assert tfs.groupby("leader").size().between(1, 3).all()
    assert set(tfs["start_date"].astype(str)) <= {"2023-07-01", "2023-08-01"}
    assert (tfs["selection_start"].astype(str) == "2023-01-01").all()
    assert (tfs["selection_end"].astype(str) == "2023-06-30").all()
    assert (tfs["target_monthly"] > 0).all() and (tfs["exit_months"] == 3).all()
    assert set(tfs["status"]) <= {"进驻", "整改中", "已转化", "撤出"}
    assert tfs.loc[tfs["status"] == "撤出", "end_date"].notna().all()
    # they are the 65 compounds with most valid matched tickets in the selection window
    top = db.query_df(
        con,
        "SELECT compound_id FROM tickets WHERE is_valid AND compound_id IS NOT NULL "
        "AND created_at >= '2023-01-01' AND created_at < '2023-07-01' "
        "GROUP BY 1 ORDER BY count(*) DESC, compound_id LIMIT 65",
    )
    assert set(top["compound_id"]) == set(tfs["compound_id"])
    actions = db.query_df(con, "SELECT * FROM taskforce_actions")
    assert len(actions) >= 65 * 2 and actions["cost"].max() > 10_000


def test_naive_drop_exceeds_planted_effect(built):
    con, _, _ = built
    changes = db.query_df(
        con,
        """
        WITH t AS (
            SELECT compound_id IN (SELECT compound_id FROM task_forces) AS treated, created_at
            FROM tickets WHERE is_valid AND compound_id IS NOT NULL
        )
        SELECT treated,
               count(*) FILTER (created_at >= ?::TIMESTAMP AND created_at < ?::TIMESTAMP) AS before,
               count(*) FILTER (created_at >= ?::TIMESTAMP AND created_at < ?::TIMESTAMP) AS after
        FROM t GROUP BY 1
        """,
        [*BEFORE, *AFTER],
    ).set_index("treated")
    change = changes["after"] / changes["before"] - 1
    planted = taskforces.TRUE_EFFECT - 1  # -15%
    assert change[True] < planted - 0.03  # regression to the mean adds to the planted effect
    assert change[True] < change[False] - 0.15


def test_demo_accounts(built):
    con, _, _ = built
    users = auth.list_users(con).set_index("username")
    assert {u for u, _ in demo.DEMO_ACCOUNTS.values()} == set(users.index)
    for role, (username, password) in demo.DEMO_ACCOUNTS.items():
        user = auth.authenticate(con, username, password)
        assert user is not None and user.role == role
    head = auth.get_user(con, demo.DEMO_ACCOUNTS["taskforce"][0])
    led = db.query_df(con, "SELECT compound_id FROM task_forces WHERE head = ?", [head.username])
    assert set(head.compound_scope) == set(led["compound_id"]) and 1 <= len(head.compound_scope) <= 3


def test_progress_and_refusal(built):
    con, _, steps = built
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    before = content_hash(con, "tickets")
    with pytest.raises(ValidationError):
        demo.build_demo(con, seed=0)
    assert content_hash(con, "tickets") == before


def test_same_seed_same_store(built, tmp_path):
    con, _, _ = built
    # the same caller key too: caller hashes are keyed (analytics.callerkey)
    shutil.copy(callerkey.key_file(db.store_path(con)), callerkey.key_file(str(tmp_path / "again.duckdb")))
    again = db.connect(tmp_path / "again.duckdb")
    demo.build_demo(again, seed=0)
    for table in CONTENT_TABLES:
        assert content_hash(again, table) == content_hash(con, table), table
    again.close()


def test_different_seed_different_store(tmp_path):
    small = 0.05  # a twentieth of the tickets keeps this quick; the registry is full size
    hashes = []
    for seed in (0, 1):
        con = db.connect(tmp_path / f"seed{seed}.duckdb")
        demo.build_demo(con, seed=seed, scale=small)
        hashes.append({t: content_hash(con, t) for t in ("tickets", "compounds", "task_forces")})
        con.close()
    assert all(hashes[0][t] != hashes[1][t] for t in hashes[0])


def test_service_rates_vary_like_a_real_district(built):
    """No 响应率 of 100.0% in every month: response, resolution and satisfaction move by month
    and subdistrict, within the ranges districts publish."""
    con, _, _ = built
    months = service_rates(con, group_by="month").set_index("key")
    response = months["response_rate"]
    assert response.between(0.95, 0.999).all()
    assert (response < 0.995).mean() >= 0.8  # below 99.5% in most months
    assert response.round(3).nunique() >= 15 and response.max() - response.min() >= 0.01
    resolution = months["resolution_rate"]
    assert resolution.between(0.8, 0.95).all() and resolution.max() - resolution.min() >= 0.03
    assert months["satisfaction_rate"].between(0.8, 0.95).all()
    # the heating season's peak months resolve fewer tickets than the calm spring and autumn
    moy = resolution.index.str[5:]
    assert (
        resolution[moy.isin(["12", "01"])].mean()
        < resolution[moy.isin(["04", "05", "09", "10"])].mean() - 0.02
    )
    subdistricts = service_rates(con, group_by="subdistrict").dropna(subset=["key"]).set_index("key")
    assert set(registry.SUBDISTRICTS) <= set(subdistricts.index)
    spread = subdistricts.loc[list(registry.SUBDISTRICTS)]
    assert spread["response_rate"].max() - spread["response_rate"].min() >= 0.005
    assert spread["resolution_rate"].max() - spread["resolution_rate"].min() >= 0.03


@pytest.fixture(scope="module")
def garbled_truth(built):
    """The demo's garbled addresses with the compound each one means, and the review queue."""
    con, _, _ = built
    compounds = db.query_df(con, "SELECT * FROM compounds ORDER BY compound_id")
    aliases = db.query_df(con, "SELECT alias, compound_id FROM compound_aliases WHERE source = 'registry'")
    truth = garbled.demo_addresses(0, compounds, aliases, load_registry(con)).set_index("address")
    queue = review_queue(con, limit=100_000)
    return truth, queue


def test_review_queue_suggests_the_compound_a_garbled_address_means(garbled_truth):
    """A few hundred addresses that near-match a compound wait for review, each settling several
    tickets, and the right compound is among the suggestions for most of them."""
    truth, queue = garbled_truth
    near = queue[queue["address"].isin(truth.index)]
    assert len(near) >= 200
    assert near["tickets"].sum() >= 2000 and near["tickets"].median() >= 3
    suggested = [
        truth.loc[a, "compound_id"] in [c["compound_id"] for c in cands]
        for a, cands in zip(near["address"], near["candidates"], strict=True)
    ]
    first = [
        bool(cands) and cands[0]["compound_id"] == truth.loc[a, "compound_id"]
        for a, cands in zip(near["address"], near["candidates"], strict=True)
    ]
    assert sum(suggested) / len(near) >= 0.75
    assert sum(first) / len(near) >= 0.5
    # one row per look-alike group, the groups one decision settles most tickets with first
    groups = queue.drop_duplicates("group")
    assert groups["settles"].is_monotonic_decreasing
    assert groups["address"].head(50).isin(truth.index).sum() >= 15


def test_unmatched_addresses_include_the_unmatchable(built, garbled_truth):
    """Roads, crossings, shops and the district alone stay without a compound; only garbled
    names are ever taken for a compound, and then for the right one."""
    con, _, _ = built
    truth, _ = garbled_truth
    vague = db.query_df(
        con,
        "SELECT address, count(*) AS n, count(compound_id) AS matched FROM tickets "
        "WHERE address IN (SELECT unnest(?)) OR address LIKE '%交汇处' OR address = '未提供详细地址' GROUP BY 1",
        [list(addresses.DISTRICT_ONLY)],
    )
    assert set(addresses.DISTRICT_ONLY) <= set(vague["address"])
    assert vague["n"].sum() > 10_000 and vague["matched"].sum() == 0
    shops = db.query_one(
        con,
        "SELECT count(*) FROM tickets WHERE compound_id IS NULL AND regexp_matches(address, ?)",
        ["(" + "|".join(addresses.SHOPS) + ")$"],
    )
    assert shops > 1000
    taken = db.query_df(
        con, "SELECT address, compound_id FROM address_matches WHERE status = 'auto'"
    ).set_index("address")
    assert taken.index.isin(truth.index).all()
    assert (taken["compound_id"] == truth.loc[taken.index, "compound_id"]).all()
    # tickets of accepted addresses carry their compound, as an upload would have left them
    moved = db.query_one(
        con,
        "SELECT count(*) FROM tickets t JOIN address_matches m ON m.address = trim(t.address) "
        "WHERE m.status = 'auto' AND t.compound_id IS DISTINCT FROM m.compound_id",
    )
    assert moved == 0
