"""Version 10: `tickets` without the index of its former primary key (schema.sql says why).

DuckDB cannot drop a key from a table, so a store that has one gets the table rebuilt: the same
columns, types, defaults and NOT NULL constraints (read back from the catalog), ticket_id NOT
NULL, every row copied. A DuckLake store never had the key, nor a store created since.
"""

from __future__ import annotations

import duckdb

KEYED = "ticket_id VARCHAR PRIMARY KEY"


def upgrade(cur: duckdb.DuckDBPyConnection, store_path: str) -> None:  # noqa: ARG001 - the migration signature
    row = cur.execute(
        """SELECT sql FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = current_schema()
             AND table_name = 'tickets'"""
    ).fetchone()
    if row is None or KEYED not in row[0]:
        return
    ddl = row[0].replace(KEYED, "ticket_id VARCHAR NOT NULL", 1)
    ddl = ddl.replace("CREATE TABLE tickets(", "CREATE TABLE tickets_rebuilt(", 1)
    cur.execute(ddl)
    cur.execute("INSERT INTO tickets_rebuilt SELECT * FROM tickets")
    cur.execute("DROP TABLE tickets")
    cur.execute("ALTER TABLE tickets_rebuilt RENAME TO tickets")
