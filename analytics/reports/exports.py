"""Downloads: the ticket export, the CSV / XLSX bytes behind every download button, and the
ticket upload template with its field guide.

Spreadsheet output is neutralised against formula injection: a text cell that starts with
= + - @, a tab, a carriage return or a line feed (OWASP's list), or with the full-width ＝ ＋ － ＠
(which spreadsheets in Chinese and Japanese locales may also read as formula signs), gets a
leading apostrophe, so Excel shows it as text instead of running it (`=HYPERLINK(...)`,
`+cmd|' /C calc'!A0`). Numbers stay numbers; Parquet is data for programs and stays verbatim.
CSV is UTF-8 with a BOM so Excel opens Chinese text correctly.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from analytics.errors import ValidationError
from analytics.ingest import template
from analytics.reports import text
from analytics.store import db

# canonical fields plus what the store derived; caller_hash is never exported
EXPORT_COLUMNS = (
    "ticket_id", "created_at", "closed_at", "due_at", "title", "content", "category", "category_source",
    "category_raw", "address", "compound_id", "match_score", "match_method", "satisfaction", "satisfied",
    "resolved", "status", "handling_unit", "is_valid", "reopened",
)  # fmt: skip
TEXT_COLUMNS = (
    "ticket_id", "title", "content", "category", "category_source", "category_raw", "address", "compound_id",
    "match_method", "satisfaction", "status", "handling_unit",
)  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# the same set for DuckDB's regexp_matches (RE2), which the streamed ticket export uses
FORMULA_PATTERN = (
    "^[" + "".join({"-": r"\-", "\t": r"\t", "\r": r"\r", "\n": r"\n"}.get(c, c) for c in FORMULA_START) + "]"
)
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
EXCEL_SHEET_NAME_MAX = 31
UTF8_BOM = "\ufeff".encode()


def neutralise(value: object) -> object:
    """A text cell Excel would read as a formula gets a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text column neutralised (numeric and date columns are left alone)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV for download: UTF-8 with BOM, formulas neutralised, no index."""
    # CRLF line ends: the csv writer then quotes any cell holding a bare CR or LF
    return neutralise_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _sheet_name(name: str, used: set[str]) -> str:
    base = SHEET_NAME_BAD.sub("_", str(name)).strip("'")[:EXCEL_SHEET_NAME_MAX] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = base[: EXCEL_SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook with a sheet per DataFrame (xlsxwriter), formulas neutralised, never
    turned into formulas or links by the writer either."""
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "remove_timezone": True}
    used: set[str] = set()
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        for name, frame in (sheets or {"Sheet1": pd.DataFrame()}).items():
            neutralise_frame(frame).to_excel(xl, sheet_name=_sheet_name(name, used), index=False)
    return buf.getvalue()


def field_guide_frame(lang: str = "zh") -> pd.DataFrame:
    """The ticket fields as the upload page and the template explain them, in `lang`: the field,
    its template header, every header spelling recognised, required or not, format, example."""
    guide = template.field_guide()

    def fmt(row: pd.Series) -> str:
        key = f"up_fmt_{row['field']}"
        return text.text(key if key in text.CATALOGUE else f"up_fmt_{row['kind']}", lang)

    return pd.DataFrame(
        {
            text.text("up_guide_field", lang): [text.text(f"up_field_{f}", lang) for f in guide["field"]],
            text.text("up_guide_header", lang): guide["header"],
            text.text("up_guide_synonyms", lang): [
                text.text("list_sep", lang).join(s) for s in guide["synonyms"]
            ],
            text.text("up_guide_required", lang): [
                text.text("up_guide_yes" if r else "up_guide_no", lang) for r in guide["required"]
            ],
            text.text("up_guide_format", lang): [fmt(r) for _, r in guide.iterrows()],
            text.text("up_guide_example", lang): guide["example"],
        }
    )


def ticket_template_xlsx(lang: str = "zh") -> bytes:
    """The upload template: a sheet with the recognised headers (required ones marked * and in
    red, with a note) and one example row, then the field guide in `lang`. Uploaded unchanged
    it is read back with every column mapped and no row rejected."""
    headers, example, required = template.template_rows()
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    plain = book.add_format({"bold": True, "bg_color": "#f2f2f2", "border": 1})
    marked = book.add_format({"bold": True, "bg_color": "#f2f2f2", "border": 1, "font_color": "#c0392b"})
    as_text = book.add_format({"num_format": "@"})  # ids and times stay text when typed over
    sheet = book.add_worksheet(template.TEMPLATE_SHEET)
    for col, (title, value, needed) in enumerate(zip(headers, example, required, strict=True)):
        sheet.set_column(col, col, max(12, 2 * len(title) + 4), as_text)
        sheet.write_string(0, col, title, marked if needed else plain)
        sheet.write_string(1, col, value, as_text)
        if needed:
            sheet.write_comment(0, col, text.text("up_guide_yes", lang))
    sheet.freeze_panes(1, 0)
    guide = field_guide_frame(lang)
    notes = book.add_worksheet(
        _sheet_name(text.text("up_guide_sheet", lang), {template.TEMPLATE_SHEET.lower()})
    )
    for col, title in enumerate(guide.columns):
        notes.write_string(0, col, str(title), plain)
        for row, value in enumerate(guide[title], start=1):
            notes.write_string(row, col, str(value))
    for col, width in enumerate((14, 14, 56, 10, 48, 36)):
        notes.set_column(col, col, width)
    book.close()
    return buf.getvalue()


def _select_sql(neutralised: bool) -> str:
    cols = []
    for c in EXPORT_COLUMNS:
        if neutralised and c in TEXT_COLUMNS:
            cols.append(
                f"CASE WHEN regexp_matches({c}, '{FORMULA_PATTERN}') THEN '''' || {c} ELSE {c} END AS {c}"
            )
        else:
            cols.append(c)
    return f"SELECT {', '.join(cols)} FROM tickets ORDER BY created_at, ticket_id"  # noqa: S608 - constants


def export_tickets(con: duckdb.DuckDBPyConnection, out_path: str | Path, fmt: str = "csv") -> int:
    """Write every stored ticket to `out_path` (csv: UTF-8 with BOM; parquet); returns the count.

    DuckDB writes the file itself, so a store of millions of tickets never passes through pandas.
    """
    if fmt not in ("csv", "parquet"):
        raise ValidationError(
            f"不支持的导出格式：{fmt}（可选 csv、parquet）。", f"Unknown export format {fmt} (csv, parquet)."
        )
    out = Path(out_path)
    if out.is_dir():
        raise _unwritable(out, "是一个文件夹", "it is a directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(out, exc.strerror or str(exc), exc.strerror or str(exc)) from None
    count = int(db.query_one(con, "SELECT count(*) FROM tickets"))
    workdir = Path(tempfile.mkdtemp(prefix="hotline-export-"))
    try:
        tmp = workdir / f"tickets.{fmt}"
        # COPY takes no parameters: the target is our own temporary file, quoted
        literal = "'" + str(tmp).replace("'", "''") + "'"
        options = "(FORMAT csv, HEADER true)" if fmt == "csv" else "(FORMAT parquet)"
        cur = con.cursor()
        try:
            cur.execute(f"COPY ({_select_sql(neutralised=fmt == 'csv')}) TO {literal} {options}")
        except duckdb.Error as exc:
            raise db.translate(exc) from None
        finally:
            cur.close()
        _deliver(tmp, out, UTF8_BOM if fmt == "csv" else b"")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return count


def _unwritable(out: Path, zh_reason: str, en_reason: str) -> ValidationError:
    return ValidationError(
        f"无法写入导出文件「{out}」：{zh_reason}。请换一个可写的路径。",
        f"Cannot write the export file '{out}': {en_reason}. Choose a writable path.",
    )


def _deliver(src_path: Path, out: Path, prefix: bytes) -> None:
    """Copy the finished export to `out` through a temporary file beside it, renamed into place:
    a full disk or a killed process never leaves a half-written file under the analyst's name."""
    part: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        part = Path(name)
        with os.fdopen(fd, "wb") as dst, open(src_path, "rb") as src:
            dst.write(prefix)
            shutil.copyfileobj(src, dst, 8 << 20)
        os.replace(part, out)
        part = None
    except OSError as exc:
        raise _unwritable(out, exc.strerror or str(exc), exc.strerror or str(exc)) from None
    finally:
        if part is not None:
            part.unlink(missing_ok=True)
