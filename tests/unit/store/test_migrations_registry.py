"""Version 6: the registry's history table and where an upload's header sat, added to a store
written before them without losing anything, and safe to apply again."""

from __future__ import annotations

import json

from analytics.ingest import pipeline as ingest
from analytics.ingest.pipeline.rejected import ROW_COLUMN
from analytics.ingest.registry import edit
from analytics.store import db


def version_5_store(path):
    """A store as version 5 left it: no registry_versions, no ingest_batches.header_row; with a
    compound and a ticket batch whose rejected row was kept."""
    con = db.connect(path)
    con.execute("DROP TABLE registry_versions")
    con.execute("ALTER TABLE ingest_batches DROP COLUMN header_row")
    con.execute("DELETE FROM schema_version WHERE version >= 6")
    con.execute("INSERT INTO compounds (compound_id, name, households) VALUES ('C1', '锦绣花园', 400)")
    con.execute(
        "INSERT INTO ingest_batches (batch_id, kind, file_name, loaded_at, rows_read, rejected, mapping) "
        "VALUES (1, 'tickets', 'old.csv', now(), 2, 1, ?)",
        [json.dumps({"ticket_id": "工单编号", "created_at": "受理时间"}, ensure_ascii=False)],
    )
    con.execute(
        "INSERT INTO rejected_rows VALUES (1, 2, '受理时间无法识别', ?)",
        [json.dumps({"工单编号": "T2023071", "受理时间": "上周三"}, ensure_ascii=False)],
    )
    con.close()


def test_an_older_store_gains_the_registry_history_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    version_5_store(path)
    con = db.connect(path)
    try:
        assert db.schema_version(con) == db.SCHEMA_VERSION >= 6
        assert db.query_one(con, "SELECT households FROM compounds WHERE compound_id = 'C1'") == 400
        # an older batch has no header row on record: its header is taken as the first row
        table = ingest.rejected_table(con, 1)
        assert table[ROW_COLUMN].tolist() == [3] and table["工单编号"].tolist() == ["T2023071"]
        edit.edit_compound(con, "C1", {"households": "450"}, user="ana")
        assert edit.compound_history(con, "C1")["version"].tolist() == [1]
    finally:
        con.close()


def test_applying_version_6_again_changes_nothing(tmp_path):
    path = tmp_path / "store.duckdb"
    con = db.connect(path)
    con.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', '锦绣花园')")
    edit.edit_compound(con, "C1", {"households": "300"}, user="ana")
    con.execute("DELETE FROM schema_version WHERE version >= 6")
    con.close()
    con = db.connect(path)
    try:
        assert db.schema_version(con) == db.SCHEMA_VERSION
        assert db.query_one(con, "SELECT count(*) FROM registry_versions") == 1
    finally:
        con.close()
