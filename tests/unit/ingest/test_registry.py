"""Compound registry: import validation, re-import changes, tree conflicts, aliases, search."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest.registry import compounds, queries, ratings, values
from analytics.store import db

pytestmark = pytest.mark.backends

HEADERS = [
    "小区编号",
    "小区名称",
    "别名",
    "所属社区",
    "所属街道",
    "小区类型",
    "新旧",
    "建成年份",
    "户数",
    "物业公司",
    "经度",
    "纬度",
]
GOOD = {
    "小区编号": "LS001",
    "小区名称": "翠华苑",
    "别名": "翠华苑一期；翠华东区",
    "所属社区": "柳青社区",
    "所属街道": "柳青街道",
    "小区类型": "商开",
    "新旧": "新",
    "建成年份": "2008",
    "户数": "860",
    "物业公司": "临沂华信物业",
    "经度": "118.35",
    "纬度": "35.06",
}


def write_csv(
    path: Path, rows: list[dict[str, str]], headers: list[str] = HEADERS, encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        for row in rows:
            writer.writerow({h: row.get(h, "") for h in headers})
    return path


def row(**changes: str) -> dict[str, str]:
    """GOOD with some cells replaced; keyword names are the Chinese headers."""
    return {**GOOD, **changes}


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    rows = [
        GOOD,
        row(
            小区编号="LS002",
            小区名称="沂河家园",
            别名="",
            所属社区="柳青社区",
            小区类型="回迁",
            新旧="",
            建成年份="1996",
            户数="1,204",
        ),
        row(
            小区编号="LS003",
            小区名称="银雀小区",
            别名="银雀|银雀山小区",
            所属社区="银雀社区",
            所属街道="银雀山街道",
            小区类型="单位家属院",
            新旧="老",
            户数="４２",
        ),
    ]
    return write_csv(tmp_path / "小区名册.csv", rows, encoding="gbk")


def test_import_fills_registry(store, registry_file):
    result = compounds.import_compounds(store, registry_file, user="analyst")
    assert (result.rows_read, result.added, result.updated, result.rejected) == (3, 3, 0, 0)
    table = queries.compounds_df(store).set_index("compound_id")
    assert table.loc["LS002", "type"] == "还建"
    assert table.loc["LS003", "type"] == "家属院"
    assert bool(table.loc["LS002", "is_old"])  # built 1996, before OLD_BEFORE_YEAR
    assert not bool(table.loc["LS001", "is_old"])
    assert int(table.loc["LS002", "households"]) == 1204
    assert int(table.loc["LS003", "households"]) == 42  # full-width digits
    assert table.loc["LS003", "aliases"] == "银雀；银雀山小区"
    assert queries.tree(store)[["subdistrict", "community"]].drop_duplicates().values.tolist() == [
        ["柳青街道", "柳青社区"],
        ["银雀山街道", "银雀社区"],
    ]
    batch = db.query_df(store, "SELECT kind, file_name, rows_read, inserted FROM ingest_batches")
    assert batch.values.tolist() == [["compounds", "小区名册.csv", 3, 3]]
    assert db.query_one(store, "SELECT count(*) FROM audit_log WHERE action = 'import_compounds'") == 1
    assert set(db.query_df(store, "SELECT source FROM compound_aliases")["source"]) == {"registry"}


# each bad value -> the reason the analyst sees
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"小区编号": ""}, "缺少小区编号"),
        ({"小区名称": ""}, "缺少小区名称"),
        ({"户数": "-5"}, "户数应为正整数"),
        ({"户数": "0"}, "户数应为正整数"),
        ({"户数": "12.5"}, "户数应为正整数"),
        ({"户数": "abc"}, "户数不是数字"),
        ({"小区类型": "别墅"}, "小区类型无效"),
        ({"新旧": "半新"}, "新旧无效"),
        ({"建成年份": "1850"}, "建成年份无效"),
        ({"建成年份": "二〇〇八"}, "建成年份无效"),
        ({"纬度": "118.35", "经度": "35.06"}, "超出中国范围"),
        ({"经度": "东经118"}, "经度不是数字"),
        ({"纬度": ""}, "经度和纬度须同时填写"),
        ({"所属街道": ""}, "缺少所属街道"),
    ],
)
def test_bad_values_rejected_with_reason(store, tmp_path, changes, reason):
    path = write_csv(tmp_path / "r.csv", [row(小区编号="OK1", 所属社区="其他社区"), row(**changes)])
    result = compounds.import_compounds(store, path)
    assert (result.added, result.rejected) == (1, 1)
    assert reason in result.rejected_rows.loc[0, "reason"]
    assert result.rejected_rows.loc[0, "row_number"] == 2
    stored = db.query_df(store, "SELECT row_number, reason FROM rejected_rows")
    assert stored.values.tolist() == [[2, result.rejected_rows.loc[0, "reason"]]]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("商开", "商开"),
        ("商品房", "商开"),
        ("商业开发", "商开"),
        ("回迁", "还建"),
        ("安置", "还建"),
        ("安置小区", "还建"),
        ("单位家属院", "家属院"),
        ("混合型", "混合"),
    ],
)
def test_type_variants(cell, expected):
    assert values.parse_type(cell) == (expected, None)


@pytest.mark.parametrize(
    ("old_new", "year", "expected"),
    [
        ("新", "", False),
        ("旧", "", True),
        ("老", "", True),
        ("", "1999", True),
        ("", str(values.OLD_BEFORE_YEAR), False),
        ("", "", None),
    ],
)
def test_old_new(old_new, year, expected):
    built, _ = values.parse_built_year(year)
    assert values.parse_old_new(old_new, built) == (expected, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一期；二期", ["一期", "二期"]),
        ("一期;二期、东区,西区|北门", ["一期", "二期", "东区", "西区", "北门"]),
        ("一期，一期 ｜ 翠华苑", ["一期"]),  # duplicates and the name itself dropped
        ("", []),
    ],
)
def test_split_aliases(text, expected):
    assert values.split_aliases(text, "翠华苑") == expected


def test_duplicate_ids_rejected_both(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(), row(小区名称="另一个"), row(小区编号="LS009")])
    result = compounds.import_compounds(store, path)
    assert (result.added, result.rejected) == (1, 2)
    assert all("重复" in r for r in result.rejected_rows["reason"])


def test_missing_required_headers_rejects_file(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [{"名字": "翠华苑", "户数": "1"}], headers=["名字", "户数"])
    with pytest.raises(FileRejected) as err:
        compounds.import_compounds(store, path)
    assert "小区编号" in err.value.zh and "小区名称" in err.value.zh and "名字" in err.value.zh
    assert db.table_counts(store)["ingest_batches"] == 0


def test_mapping_for_unusual_headers(store, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [{"代码": "X1", "名字": "金雀山花园", "住户": "300"}],
        headers=["代码", "名字", "住户"],
    )
    result = compounds.import_compounds(
        store, path, mapping={"compound_id": "代码", "name": "名字", "households": "住户"}
    )
    assert result.added == 1
    assert queries.compound_detail(store, "X1")["households"] == 300
    with pytest.raises(ValidationError):
        compounds.import_compounds(store, path, mapping={"nonsense": "代码"})


def test_headers_resolve_through_the_shared_field_table(store, tmp_path):
    """Required-field marks, the registry's own spellings and the shared ones all map."""
    headers = ["小区编号*", "小区名称*", "别称", "居民户数"]
    path = write_csv(
        tmp_path / "r.csv", [dict(zip(headers, ["X1", "金雀山花园", "金雀山", "300"], strict=True))], headers
    )
    assert compounds.import_compounds(store, path).added == 1
    detail = queries.compound_detail(store, "X1")
    assert (detail["households"], detail["aliases"]) == (300, "金雀山")
    stored = json.loads(db.query_one(store, "SELECT mapping FROM ingest_batches"))
    assert stored == {
        "compound_id": "小区编号*",
        "name": "小区名称*",
        "aliases": "别称",
        "households": "居民户数",
    }


def test_xlsx_import(store, tmp_path):
    path = tmp_path / "名册.xlsx"
    pd.DataFrame([GOOD]).to_excel(path, index=False)
    assert compounds.import_compounds(store, path).added == 1


def test_reimport_reports_changes(store, registry_file, tmp_path):
    compounds.import_compounds(store, registry_file)
    second = write_csv(
        tmp_path / "v2.csv",
        [
            row(户数="900", 物业公司="兰山安居物业"),  # two values changed
            row(
                小区编号="LS002",
                小区名称="沂河家园",
                别名="",
                所属社区="柳青社区",
                小区类型="回迁",
                新旧="",
                建成年份="1996",
                户数="1204",
            ),
            row(小区编号="LS004", 小区名称="新建小区", 所属社区="柳青社区", 户数="10"),
        ],
    )
    result = compounds.import_compounds(store, second)
    assert (result.added, result.updated, result.unchanged, result.rejected) == (1, 1, 1, 0)
    changes = {(c.compound_id, c.field): (c.old, c.new) for c in result.changes.itertuples()}
    assert changes == {
        ("LS001", "households"): ("860", "900"),
        ("LS001", "property_company"): ("临沂华信物业", "兰山安居物业"),
    }
    assert int(queries.compound_detail(store, "LS001")["households"]) == 900
    # LS003 was not in the second file and stays as it was
    assert queries.compound_detail(store, "LS003")["name"] == "银雀小区"
    as_json = result.as_json()
    assert as_json["updated"] == 1 and len(as_json["changes"]) == 2


def test_reimport_alias_change_and_blank_cells_keep_values(store, registry_file, tmp_path):
    compounds.import_compounds(store, registry_file)
    second = write_csv(
        tmp_path / "v2.csv",
        [{"小区编号": "LS001", "小区名称": "翠华苑", "别名": "翠华苑北区"}],
        headers=["小区编号", "小区名称", "别名", "户数"],
    )
    result = compounds.import_compounds(store, second)
    assert result.changes[["field", "old", "new"]].values.tolist() == [
        ["aliases", "翠华东区；翠华苑一期", "翠华苑北区"]
    ]
    detail = queries.compound_detail(store, "LS001")
    assert int(detail["households"]) == 860  # blank cell did not erase
    assert [a["alias"] for a in detail["alias_list"]] == ["翠华苑北区"]


def test_tree_conflict_within_file(store, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [row(), row(小区编号="LS002", 所属街道="兰山街道"), row(小区编号="LS003", 所属社区="别的社区")],
    )
    result = compounds.import_compounds(store, path)
    assert (result.added, result.rejected) == (1, 2)
    assert all("属于多个街道" in r for r in result.rejected_rows["reason"])
    assert db.query_df(store, "SELECT community FROM communities")["community"].tolist() == ["别的社区"]


def test_tree_conflict_with_store(store, registry_file, tmp_path):
    compounds.import_compounds(store, registry_file)
    path = write_csv(tmp_path / "r.csv", [row(小区编号="LS010", 所属街道="兰山街道")])
    result = compounds.import_compounds(store, path)
    assert result.rejected == 1
    assert "已登记属于“柳青街道”" in result.rejected_rows.loc[0, "reason"]
    # a community the store already knows needs no subdistrict in the file
    path = write_csv(tmp_path / "r2.csv", [row(小区编号="LS011", 所属街道="")])
    assert compounds.import_compounds(store, path).added == 1
    assert queries.compound_detail(store, "LS011")["subdistrict"] == "柳青街道"


def test_add_alias_and_search_scope(store, registry_file):
    compounds.import_compounds(store, registry_file)
    assert compounds.add_alias(store, "LS002", "沂河家园北门", user="analyst")
    assert not compounds.add_alias(store, "LS002", "沂河家园北门")  # already there
    with pytest.raises(NotFound):
        compounds.add_alias(store, "NOPE", "x")
    with pytest.raises(ValidationError):
        compounds.add_alias(store, "LS002", " ")
    assert queries.search_compounds(store, "北门")["compound_id"].tolist() == ["LS002"]
    assert queries.search_compounds(store, "ls003")["compound_id"].tolist() == ["LS003"]
    assert queries.search_compounds(store, "翠华")["compound_id"].tolist() == ["LS001"]
    assert queries.search_compounds(store, "LS")["compound_id"].tolist() == ["LS001", "LS002", "LS003"]
    # a task-force head never sees compounds outside their scope
    assert queries.search_compounds(store, "LS", scope=["LS002"])["compound_id"].tolist() == ["LS002"]
    assert queries.search_compounds(store, "翠华", scope=["LS002"]).empty
    assert queries.search_compounds(store, "", scope=[]).empty
    assert len(queries.search_compounds(store, "", limit=2)) == 2


def test_ratings_and_latest_stars(store, registry_file):
    compounds.import_compounds(store, registry_file)
    rows = pd.DataFrame(
        {
            "小区编号": ["LS001", "LS001", "LS002", "NOPE", "LS003", "LS003"],
            "评定周期": ["2023上半年", "2023H2", "2023年下半年", "2023H1", "2023第三季", "2023H1"],
            "星级": ["3", "★★★★", "五星", "4", "2", "6"],
        }
    )
    result = ratings.import_ratings(store, rows, user="analyst")
    assert (result.added, result.rejected) == (3, 3)
    reasons = result.rejected_rows["reason"].tolist()
    assert "不在小区名册中" in reasons[0] and "评定周期无效" in reasons[1] and "星级无效" in reasons[2]
    latest = queries.compounds_df(store).set_index("compound_id")
    assert (int(latest.loc["LS001", "stars"]), latest.loc["LS001", "stars_period"]) == (4, "2023H2")
    again = ratings.import_ratings(store, rows.iloc[[0]].assign(星级="2"))
    assert (again.updated, again.changes.loc[0, "old"], again.changes.loc[0, "new"]) == (1, "3", "2")


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"季度": "2023Q5"}, "季度无效"),
        ({"得分": "高"}, "得分不是数字"),
        ({"得分": "120"}, "得分应在"),
        ({"红黑榜": "绿榜"}, "红黑榜无效"),
        ({"物业公司": ""}, "缺少物业公司"),
    ],
)
def test_property_evaluation_validation(store, cells, reason):
    good = {"物业公司": "临沂华信物业", "季度": "2023年第三季度", "得分": "92.5", "红黑榜": "红榜"}
    result = ratings.import_property_evaluations(
        store, pd.DataFrame([good, {**good, "季度": "2023Q4", **cells}])
    )
    assert (result.added, result.rejected) == (1, 1)
    assert reason in result.rejected_rows.loc[0, "reason"]
    stored = db.query_df(store, "SELECT company, quarter, score, list FROM property_evaluations")
    assert stored.values.tolist() == [["临沂华信物业", "2023Q3", 92.5, "红榜"]]


def test_compound_detail(store, registry_file):
    compounds.import_compounds(store, registry_file)
    ratings.import_property_evaluations(
        store, pd.DataFrame([{"物业公司": "临沂华信物业", "季度": "2024Q1", "得分": "80", "红黑榜": ""}])
    )
    detail = queries.compound_detail(store, "LS001")
    assert detail["name"] == "翠华苑" and detail["community"] == "柳青社区"
    assert detail["property_evaluations"][0]["quarter"] == "2024Q1"
    with pytest.raises(NotFound):
        queries.compound_detail(store, "NOPE")
