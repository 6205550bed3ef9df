"""Phone and ID numbers in free text: one table of cases, each through the Python rule, the
DuckDB rule and a real upload (tickets, rejected rows, the CLI export)."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from analytics import privacy
from analytics.ingest import pipeline as ingest
from analytics.store import db
from tests.fixtures import ROOT

pytestmark = pytest.mark.backends

M = privacy.MASK

# (text as written in a ticket, text as stored and shown)
CASES: list[tuple[str, str]] = [
    # mobiles, any one separator between digits, country-code prefixes
    ("请回电13812345678", f"请回电{M}"),
    ("电话 138 1234 5678 谢谢", f"电话 {M} 谢谢"),
    ("138-1234-5678", M),
    ("138.1234.5679", M),
    ("138．1234．5678", M),
    ("138·1234·5678", M),
    ("138\u00a01234\u00a05678", M),
    ("138\u30001234\u30005678", M),
    ("138‐1234–5678", M),
    ("138—1234—5678", M),
    ("138－1234－5678", M),
    ("1 3 8 1 2 3 4 5 6 7 8", M),
    ("+8613812345670", M),
    ("+86 138 1234 5678", M),
    ("0086-13812345678", M),
    ("86 13812345678", M),
    ("(+86)13812345678", M),
    ("（+86）13812345678", M),
    ("手机：１３８１２３４５６７８。", f"手机：{M}。"),
    # read aloud: Chinese numerals, 幺 for 1, 两 for 2, 零/〇 for 0, mixed with digits
    ("幺三八幺二三四五六七八", M),
    ("一三八一二三四五六七八", M),
    ("电话一三八 1234 五六七八", f"电话{M}"),
    ("一三八两三四五六七八零", M),
    ("138〇〇〇〇1234", M),
    # several numbers in a row, joined by one character: all masked
    ("13812345678,13912345678", M),
    ("…5678,13912345678", f"…5678,{M}"),
    ("13812345678、13912345678；13712345678", M),
    ("13812345678/13912345678", M),
    ("13812345678 13912345678", M),
    ("联系13812345678或13912345678", f"联系{M}"),
    # landlines: area code, brackets, extension; a second landline
    ("0531-88888888", M),
    ("(0531)88888888", M),
    ("（0531）8888 8888", M),
    ("010-12345678", M),
    ("0531-88888888转123", M),
    ("0531-88888888-123", M),
    ("座机0539-8123456", f"座机{M}"),
    ("0531-88888888、0531-66666666", M),
    ("电话0531-88888888，另有0531-66666666", f"电话{M}，另有{M}"),
    ("0531-88888888/66666666", M),
    # bare local numbers
    ("电话88888888", f"电话{M}"),
    ("电话8123456", f"电话{M}"),
    ("电话8888 8888找王师傅", f"电话{M}找王师傅"),
    # resident ID numbers: 18 digits (X check digit, written 6-8-4) and the old 15
    ("身份证370302199001011234", f"身份证{M}"),
    ("370302 19900101 123X", M),
    ("37030219900101123x", M),
    ("370302900101123", M),
    ("３７０３０２１９９００１０１１２３Ｘ", M),
    # around other text: only the number goes
    ("2023-07-01 13812345678", f"2023-07-01 {M}"),
    (
        "2023-07-01 08:30 来电，电话13812345678，住3号楼2单元501室，金额1500元",
        f"2023-07-01 08:30 来电，电话{M}，住3号楼2单元501室，金额1500元",
    ),
    # not personal numbers: dates, times, amounts, house numbers, hotline, ticket ids
    ("2023-07-01 08:30:00", "2023-07-01 08:30:00"),
    ("2023/07/01 13:30:00", "2023/07/01 13:30:00"),
    ("2023年7月1日", "2023年7月1日"),
    ("2023年7月1日 8时30分", "2023年7月1日 8时30分"),
    ("二〇二三年七月一日", "二〇二三年七月一日"),
    ("2023.07.01", "2023.07.01"),
    ("20230701", "20230701"),
    ("1500元", "1500元"),
    ("金额13.5元", "金额13.5元"),
    ("3号楼2单元501室", "3号楼2单元501室"),
    ("2号楼1-2-301", "2号楼1-2-301"),
    ("12345热线", "12345热线"),
    ("邮编276000", "邮编276000"),
    ("T2023070100012", "T2023070100012"),
    ("202307010001", "202307010001"),
    ("工单LS2023070100001已转办", "工单LS2023070100001已转办"),
    ("192.168.1.100", "192.168.1.100"),
]


def sql_mask(values: list[str | None]) -> list[str | None]:
    with duckdb.connect() as con:
        con.register("v", pd.DataFrame({"i": range(len(values)), "v": pd.Series(values, dtype=object)}))
        rows = con.execute(f"SELECT {privacy.sql_mask_personal('v')} FROM v ORDER BY i").fetchall()  # noqa: S608
    return [r[0] for r in rows]


@pytest.mark.parametrize(("text", "shown"), CASES)
def test_python_rule(text, shown):
    assert privacy.mask_personal(text) == shown


@pytest.mark.parametrize(("text", "shown"), CASES)
def test_sql_rule_gives_the_same(text, shown):
    assert sql_mask([text]) == [shown]


def test_sql_and_python_agree_on_random_text():
    """Strings of digits, separators, numerals and brackets in every mix: the two engines
    must never part (a difference would show one text masked on a page, another stored)."""
    alphabet = [*"0123456789" * 4, *" -.·、,()（）+＋转号楼元年月日Xx\n", *"一二三四五六七八九零〇幺两１２８"]
    alphabet += ["\u00a0", "\u3000", "\u202e", "－", "—"]
    rng = random.Random(12345)
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(5, 40))) for _ in range(20_000)]
    python = [privacy.mask_personal(v) for v in values]
    assert sum(p != v for p, v in zip(python, values, strict=True)) > 1_000  # the test has targets
    assert sql_mask(values) == python


@pytest.mark.parametrize("value", [None, 13812345678, 3.5, pd.NA])
def test_non_text_passes_through(value):
    assert privacy.mask_personal(value) is value


def test_masking_twice_changes_nothing():
    once = [privacy.mask_personal(text) for text, _ in CASES]
    assert [privacy.mask_personal(text) for text in once] == once


# ------------------------------------------------------------------ through a real upload

HEADERS = ["工单编号", "受理时间", "工单标题", "诉求内容", "诉求地址", "承办单位"]


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory):
    """Every case as title, content, address and unit of a kept ticket, and as the content of
    a rejected row (no ticket number); the store and its CLI export (CSV)."""
    folder = tmp_path_factory.mktemp("privacy")
    path = folder / "tickets.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        for i, (text, _) in enumerate(CASES):
            w.writerow([f"P{i:03d}", "2023-07-01 08:30:00", text, text, text, text])
        for text, _ in CASES:
            w.writerow(["", "2023-07-01 08:30:00", "缺编号", text, "", ""])
    store = folder / "store.duckdb"
    con = db.connect(store)
    try:
        result = ingest.ingest_file(con, path, user="ana")
        tickets = db.query_df(con, "SELECT * FROM tickets ORDER BY ticket_id")
        rejected = ingest.rejected_rows(con, result.batch_id)
        stored_raw = db.query_df(con, "SELECT raw FROM rejected_rows ORDER BY row_number")["raw"]
    finally:
        con.close()
    assert (result.inserted, result.rejected) == (len(CASES), len(CASES))
    out = folder / "export.csv"
    cli = subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(store), "tickets", "export", "--format", "csv",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    exported = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return tickets, rejected, stored_raw, exported


@pytest.mark.parametrize(("i", "text", "shown"), [(i, *case) for i, case in enumerate(CASES)])
def test_upload_stores_and_exports_text_masked(uploaded, i, text, shown):
    tickets, _, _, exported = uploaded
    row = tickets.set_index("ticket_id").loc[f"P{i:03d}"]
    assert [row["title"], row["content"], row["address"], row["handling_unit"]] == [shown] * 4
    out = exported.set_index("ticket_id").loc[f"P{i:03d}"]
    assert [out["title"], out["content"], out["address"]] == [shown] * 3


@pytest.mark.parametrize(("i", "text", "shown"), [(i, *case) for i, case in enumerate(CASES)])
def test_rejected_rows_keep_text_masked(uploaded, i, text, shown):
    _, rejected, stored_raw, _ = uploaded
    assert json.loads(stored_raw.iloc[i])["诉求内容"] == shown
    assert json.loads(rejected["raw"].iloc[i])["诉求内容"] == shown


def test_bidirectional_controls_are_removed_at_upload(store, tmp_path):
    path = tmp_path / "bidi.csv"
    text = "楼道\u202e灯坏了\u2066，请\u202a修\u2069"
    pd.DataFrame([["B1", "2023-07-01 08:30:00", text]], columns=["工单编号", "受理时间", "诉求内容"]).to_csv(
        path, index=False
    )
    ingest.ingest_file(store, path)
    assert db.query_one(store, "SELECT content FROM tickets") == "楼道灯坏了，请修"


# ------------------------------------------------------------------ stores written before the rule

RAW_TEXT = [text for text, shown in CASES if text != shown]


def test_migration_masks_text_stored_before_the_rule(tmp_path):
    """A version-3 store (before migration 004) holding raw numbers in every text column that
    carries ticket text; opening it with this program masks them."""
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    con.execute("DELETE FROM schema_version WHERE version > 3")
    for i, text in enumerate(RAW_TEXT):
        con.execute(
            "INSERT INTO tickets (ticket_id, created_at, title, content, address, handling_unit, batch_id) "
            "VALUES (?, TIMESTAMP '2023-07-01', ?, ?, ?, ?, 1)",
            [f"R{i:03d}", text, text, text, text],
        )
        con.execute(
            "INSERT INTO ticket_history (replaced_by_batch, ticket_id, title, content, address) VALUES (2, ?, ?, ?, ?)",
            [f"R{i:03d}", text, text, text],
        )
        con.execute(
            "INSERT INTO rejected_rows VALUES (1, ?, '缺少工单编号', ?)",
            [i + 1, json.dumps({"诉求内容": text, "受理时间": "2023-07-01 08:30:00"}, ensure_ascii=False)],
        )
    # the matcher's cache keys tickets' addresses: an analyst's decision survives the merge
    con.execute(
        "INSERT INTO address_matches (address, compound_id, match_score, match_method, status) VALUES "
        "('沂蒙路1号 0531-88888888', 'C1', 1.0, 'confirmed', 'confirmed'), "
        "('沂蒙路1号 0531-66666666', NULL, 0.4, NULL, 'review'), "
        "('沂蒙路2号', 'C2', 0.9, 'name', 'auto')"
    )
    con.close()

    con = db.connect(path)
    try:
        assert db.schema_version(con) == db.SCHEMA_VERSION
        tickets = db.query_df(
            con, "SELECT title, content, address, handling_unit FROM tickets ORDER BY ticket_id"
        )
        history = db.query_df(con, "SELECT title, content, address FROM ticket_history ORDER BY ticket_id")
        raw = db.query_df(con, "SELECT raw FROM rejected_rows ORDER BY row_number")["raw"]
        matches = db.query_df(
            con, "SELECT address, compound_id, status FROM address_matches ORDER BY address"
        )
    finally:
        con.close()
    expected = [privacy.mask_personal(text) for text in RAW_TEXT]
    for col in tickets.columns:
        assert tickets[col].tolist() == expected
    for col in history.columns:
        assert history[col].tolist() == expected
    assert [json.loads(r)["诉求内容"] for r in raw] == expected
    assert [json.loads(r)["受理时间"] for r in raw] == ["2023-07-01 08:30:00"] * len(RAW_TEXT)
    assert matches.values.tolist() == [["沂蒙路1号 ********", "C1", "confirmed"], ["沂蒙路2号", "C2", "auto"]]
