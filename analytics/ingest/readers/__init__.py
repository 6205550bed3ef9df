"""Read an uploaded table (CSV in any common encoding, XLSX, XLS) without asking the user.

- `sniff(path)`: what the file is (kind, encoding, delimiter, sheets).
- `read_table(path, sheet, max_rows)`: a small table as strings, for registries and previews.
- `iter_sheet_rows(path, sheet)` and `transcode_to_utf8(...)`: the streaming pieces ingestion
  builds on, so a file of several hundred MB never has to sit in pandas whole.
- `clean_header(text)`: a header as the user sees it, which header synonyms are matched against.

Anything that is not a usable table raises FileRejected with a Chinese and English message
that says what was found and what to do.

Modules: `detect` (kind, encoding, delimiter), `encoding` (the mixed-encoding codec and
transcoding), `csvfile` (CSV records and the stray-quote check), `excel` (workbooks and their
sheets), `headers` (the header row), `table` (a whole small table, and the public detection calls).
"""

from analytics.ingest.readers.encoding import transcode_to_utf8
from analytics.ingest.readers.excel import iter_sheet_rows
from analytics.ingest.readers.headers import clean_header
from analytics.ingest.readers.table import read_table, sniff

__all__ = ["clean_header", "iter_sheet_rows", "read_table", "sniff", "transcode_to_utf8"]
