"""Version 4: phone and ID numbers in text stored before today's masking rules are masked.

Uploads mask them at ingest (analytics.privacy); earlier versions of the rule missed spaced,
dotted and +86 numbers, Chinese-numeral spellings, full-width digits and the second of two
adjacent numbers, which then sit in tickets, their history, rejected rows and the address
cache. The same SQL expression ingest uses rewrites exactly the rows that hold a candidate, so
a migrated store equals one uploaded today (privacy.remask_stored_text).
"""

from __future__ import annotations

import duckdb

from analytics import privacy


def upgrade(cur: duckdb.DuckDBPyConnection, store_path: str) -> None:  # noqa: ARG001 - the migration signature
    privacy.remask_stored_text(cur)
