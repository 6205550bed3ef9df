"""Version 10: `tickets` and `address_matches` without the index of their former primary keys
(schema.sql says why: every write keeps ticket_id and address unique, and the indexes cost an
upload of a million rows close to a second, a third of its write).

DuckDB cannot drop a key from a table, so a store that has one gets the table rebuilt: the same
columns, types, defaults and NOT NULL constraints (read back from the catalog), the key column
NOT NULL, every row copied. A DuckLake store never had the keys, nor a store created since.
"""

from __future__ import annotations

import duckdb

KEYED = {"tickets": "ticket_id VARCHAR PRIMARY KEY", "address_matches": "address VARCHAR PRIMARY KEY"}


def upgrade(cur: duckdb.DuckDBPyConnection, store_path: str) -> None:  # noqa: ARG001 - the migration signature
    for table, key in KEYED.items():
        row = cur.execute(
            """SELECT sql FROM duckdb_tables()
               WHERE database_name = current_database() AND schema_name = current_schema()
                 AND table_name = ?""",
            [table],
        ).fetchone()
        if row is None or key not in row[0]:
            continue
        ddl = row[0].replace(key, key.replace("PRIMARY KEY", "NOT NULL"), 1)
        ddl = ddl.replace(f"CREATE TABLE {table}(", f"CREATE TABLE {table}_rebuilt(", 1)
        cur.execute(ddl)
        cur.execute(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")  # noqa: S608 - a constant name
        cur.execute(f"DROP TABLE {table}")
        cur.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
