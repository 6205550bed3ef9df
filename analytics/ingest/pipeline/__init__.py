"""Ticket uploads: read -> map -> validate -> dedup -> load, one batch, all or nothing.

Public interface: `ingest_file` and its `IngestResult`, `preview_file` and its `Preview`, and the
upload history: `batches`, `rejected_rows`, `rejected_table` (a batch's rejected rows in the
file's own columns, ready to fix and upload again), `undo_batch`.

How a file flows (so a 500 MB export never sits in pandas):

1. `readers` decides what the file is (encoding, delimiter, sheet) and finds the header row.
2. The rows are loaded as text into a private in-memory database attached to the store's
   DuckDB instance (it spills to disk when large): CSV through DuckDB's own reader (non-UTF-8
   files are transcoded to UTF-8 in chunks first), workbooks through calamine in chunks.
   Blank rows are not rows (`stage`).
3. Cleaning, parsing, validation and in-file dedup are SQL over the staging table, in one pass
   into the table `parsed` (columns.sql_* rules; `clean`). While the caller numbers are hashed
   and the rejected rows written, a side thread matches the distinct compound values and
   addresses once (`matching`; the addresses that wait for an analyst are cached, those matched
   automatically are answered again from their keys next time) and, when a category model
   exists (loaded while the file was read), predicts the category of each distinct text of rows
   without one (not for tickets already stored with a category, which keep theirs) (`side`).
   Distinct upload categories go once through `categories`. What is decided for each kept row
   (category, compound) is materialised once, narrow, as `final_rows`; the view `final` puts it
   beside the rows of `parsed` and the caller's keyed hash (one copy of the rows, not two;
   `final`). Rows still without a compound are matched on their title and content (a compound
   named in the text, `matching.content`) on the side thread, beside the rest of the upload
   (`pending`). Every row is moved to the compound valid at its date when the registry records
   renames, splits or merges (`registry.changes.resolve_dated`); the rows waiting for the
   content matcher once it has answered.
4. One transaction classifies every staged row against the stored tickets (new / unchanged /
   changed), inserts the new rows, takes the content matcher's answers (`pending.settle`),
   copies replaced versions to ticket_history, updates the changed rows, gives the new rows
   their compound named in the text, and writes rejected rows, the batch row and the audit
   entry (`write`).

`run.ingest_file` puts the steps in order. rows_read == inserted + updated + duplicates +
rejected, always (`result`).

The same ticket id twice in one file: the later row (further down) is the version kept; each
earlier copy counts as a duplicate. A row is rejected, with its reason kept in rejected_rows,
when bytes in it could not be decoded (a file mixing encodings), a mapped cell is longer than
Excel allows (MAX_CELL_CHARS), or it fails a rule of REJECT_RULES (`clean`).
"""

from analytics.ingest.pipeline.history import batches, rejected_rows, rejected_table, undo_batch
from analytics.ingest.pipeline.preview import Preview, preview_file
from analytics.ingest.pipeline.result import IngestResult
from analytics.ingest.pipeline.run import ingest_file

__all__ = [
    "IngestResult",
    "Preview",
    "batches",
    "ingest_file",
    "preview_file",
    "rejected_rows",
    "rejected_table",
    "undo_batch",
]
