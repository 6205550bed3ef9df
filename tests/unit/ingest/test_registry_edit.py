"""Editing the registry in place: only what changed is written, each change is one audited,
numbered version of the compound; a wrong value changes nothing; registry files write versions
too; search finds compounds by name, alias, community, subdistrict or id."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from analytics.errors import NotFound, ValidationError
from analytics.ingest.registry import compounds, edit
from analytics.store import db

HEADERS = ["小区编号", "小区名称", "别名", "所属社区", "所属街道", "小区类型", "建成年份", "户数", "物业公司"]
GOOD = {
    "小区编号": "LS001", "小区名称": "翠华苑", "别名": "翠华苑一期；翠华东区", "所属社区": "柳青社区",
    "所属街道": "柳青街道", "小区类型": "商开", "建成年份": "2008", "户数": "860", "物业公司": "临沂华信物业",
}  # fmt: skip


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADERS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def registry(store, tmp_path):
    rows = [
        row(),
        row(**{"小区编号": "LS002", "小区名称": "阳光家园", "别名": "阳光小区", "所属社区": "银雀山社区",
               "所属街道": "银雀山街道", "户数": "420"}),
    ]  # fmt: skip
    compounds.import_compounds(store, write_csv(tmp_path / "registry.csv", rows), user="fixture")
    return store


def snapshot(con) -> tuple:
    return (
        db.query_df(con, "SELECT * FROM compounds ORDER BY compound_id").to_json(force_ascii=False),
        db.query_df(con, "SELECT * FROM compound_aliases ORDER BY alias, compound_id").to_json(
            force_ascii=False
        ),
        db.query_one(con, "SELECT count(*) FROM registry_versions"),
        db.query_one(con, "SELECT count(*) FROM audit_log WHERE action = 'registry.edit'"),
    )


def test_an_edit_changes_only_what_it_is_given_and_is_versioned_and_audited(registry):
    changed = edit.edit_compound(
        registry,
        "LS001",
        {
            "households": "900",
            "property_company": "华信物业",
            "aliases": "翠华苑一期；翠华东区；翠华新城",
            "type": "商开",
        },
        user="analyst1",
    )
    # type was 商开 already: not a change
    assert changed == {
        "households": [860, 900],
        "property_company": ["临沂华信物业", "华信物业"],
        "aliases": [["翠华东区", "翠华苑一期"], ["翠华东区", "翠华新城", "翠华苑一期"]],
    }
    row_ = db.query_df(
        registry, "SELECT name, households, property_company, type FROM compounds WHERE compound_id = 'LS001'"
    )
    assert row_.iloc[0].tolist() == ["翠华苑", 900, "华信物业", "商开"]
    source = db.query_df(registry, "SELECT source FROM compound_aliases WHERE alias = '翠华新城'")["source"]
    assert source.tolist() == [edit.MANUAL_ALIAS_SOURCE]  # a registry file re-import keeps it
    history = edit.compound_history(registry, "LS001")
    assert history["version"].tolist() == [2, 1] and history["source"].tolist() == ["edit", "import"]
    assert history.iloc[0]["user"] == "analyst1" and history.iloc[0]["changes"] == changed
    audit = db.query_df(registry, "SELECT \"user\", detail FROM audit_log WHERE action = 'registry.edit'")
    assert audit["user"].tolist() == ["analyst1"]
    assert json.loads(audit["detail"].iloc[0]) == {"compound_id": "LS001", "version": 2, "changes": changed}


def test_an_edit_that_changes_nothing_writes_nothing(registry):
    before = snapshot(registry)
    assert edit.edit_compound(registry, "LS001", {"households": "860", "name": " 翠华苑 "}, user="a") == {}
    assert snapshot(registry) == before


@pytest.mark.parametrize(
    ("changes", "zh_part", "en_part"),
    [
        ({"households": "-5"}, "户数应为", "Households must be"),
        ({"households": "0"}, "户数应为", "Households must be"),
        ({"households": "12.5"}, "户数应为", "Households must be"),
        ({"households": "很多"}, "户数应为", "Households must be"),
        ({"name": "   "}, "小区名称不能为空", "must not be empty"),
        ({"type": "别墅"}, "小区类型应为", "type must be one of"),
        ({"aliases": "翠华苑一期；阳光家园"}, "阳光家园", "another compound"),  # another's name
        ({"aliases": "阳光小区"}, "阳光小区", "another compound"),  # another's alias
        ({"households": "900", "aliases": "阳光小区"}, "阳光小区", "another compound"),  # one bad: none saved
        ({"district": "兰山区"}, "不能在这里修改", "cannot be edited"),
    ],
)
def test_a_wrong_edit_is_refused_in_both_languages_and_changes_nothing(registry, changes, zh_part, en_part):
    before = snapshot(registry)
    with pytest.raises(ValidationError) as caught:
        edit.edit_compound(registry, "LS001", changes, user="a")
    assert zh_part in caught.value.message("zh") and en_part in caught.value.message("en")
    assert snapshot(registry) == before


def test_an_unknown_compound_is_not_found(registry):
    with pytest.raises(NotFound):
        edit.edit_compound(registry, "NOPE", {"households": "10"})


def test_households_may_be_cleared(registry):
    assert edit.edit_compound(registry, "LS001", {"households": ""}) == {"households": [860, None]}
    assert db.query_one(registry, "SELECT households FROM compounds WHERE compound_id = 'LS001'") is None


def test_a_registry_file_writes_a_version_per_compound_it_adds_or_changes(registry, tmp_path):
    rows = [row(**{"户数": "880"}), row(**{"小区编号": "LS003", "小区名称": "书香苑", "别名": ""})]
    result = compounds.import_compounds(registry, write_csv(tmp_path / "again.csv", rows), user="ana")
    versions = db.query_df(
        registry,
        'SELECT compound_id, version, "user", source, batch_id, changes FROM registry_versions '
        "WHERE batch_id = ? ORDER BY compound_id",
        [result.batch_id],
    )
    assert versions[["compound_id", "version", "user", "source"]].values.tolist() == [
        ["LS001", 2, "ana", "import"],
        ["LS003", 1, "ana", "import"],
    ]
    assert json.loads(versions["changes"].iloc[0]) == {"households": ["860", "880"]}
    assert json.loads(versions["changes"].iloc[1])["name"] == [None, "书香苑"]


@pytest.mark.parametrize(
    ("needle", "found"),
    [
        ("", ["LS001", "LS002"]),
        ("阳光", ["LS002"]),  # name
        ("翠华东区", ["LS001"]),  # alias
        ("银雀山社区", ["LS002"]),  # community
        ("柳青街道", ["LS001"]),  # subdistrict
        ("ls002", ["LS002"]),  # id, any case
        ("没有这个", []),
    ],
)
def test_search_by_name_alias_community_subdistrict_or_id(registry, needle, found):
    assert edit.search_registry(registry, needle)["compound_id"].tolist() == found
