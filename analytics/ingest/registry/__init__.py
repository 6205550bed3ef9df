"""The compound registry: subdistricts, communities, compounds, aliases, ratings, evaluations.

Imports read a CSV/XLSX (via `analytics.ingest.readers.read_table`) or a DataFrame, map headers onto the
fields of `analytics.ingest.columns` (COMPOUND_FIELDS, RATING_FIELDS, EVALUATION_FIELDS), check
every row, store the good rows and keep the bad ones with a Chinese reason (`rejected_rows`,
under one `ingest_batches` row). Re-importing a registry updates compounds in place and reports
each changed value. Blank cells never erase a stored value: a partial file (say, only ids and
households) updates just what it carries.

- `values`: the value rules of registry files (types, years, coordinates, aliases, periods, stars)
- `files`: reading a registry file, mapping its headers, the batch record and the result
- `compounds`: importing the compound registry; adding an alias
- `edit`: editing one compound in place, and the registry's history (one numbered, audited
  version per change, by an edit or a registry file)
- `ratings`: importing star ratings and property evaluations
- `queries`: the lookups the pages use (compound table, search, one compound, the tree)
"""

from __future__ import annotations
