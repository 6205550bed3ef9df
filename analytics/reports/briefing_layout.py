"""The briefing as a document: a header, numbered sections of paragraphs and tables, a closing
note; and two of its writers, the Excel workbook (one printable sheet) and the printable HTML
page. The Word writer is analytics.reports.briefing_docx; the content comes from
analytics.reports.briefing.

Every table cell is a (value, kind) pair. The kind says how a number reads in a report, so the
three writers show the same figure the same way:

- count, rank: whole numbers with thousands separators (12,345);
- mean: one decimal (12.3); rate: two decimals (0.83);
- change: a change in percent, signed, one decimal (-18.5%);
- share: a fraction shown as a percentage with one decimal (0.843 -> 84.3%);
- text: words and data values as they are.

A missing value reads "—" everywhere.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xlsxwriter

from analytics.reports import exports
from analytics.reports.text import text

Cell = tuple[Any, str]
KINDS = ("text", "count", "rank", "mean", "rate", "change", "share")
MISSING = "—"
# Excel number formats of the kinds; shares are written as percent numbers (84.3), so a cell
# read back holds what it shows
XLSX_FORMATS = {
    "count": "#,##0",
    "rank": "0",
    "mean": "#,##0.0",
    "rate": "#,##0.00",
    "change": '+0.0"%";-0.0"%";0.0"%"',
    "share": '0.0"%"',
}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
HTML_STYLE = """
body { font-family: "FangSong", "STFangsong", "Noto Serif CJK SC", "SimSun", serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.6; }
.issuer { text-align: center; color: #c00000; font-size: 24pt; font-weight: bold; letter-spacing: 0.1em;
          margin-bottom: 0.2em; }
.issued { text-align: right; border-bottom: 2px solid #c00000; padding-bottom: 0.3em; }
.demo { text-align: center; color: #777; }
h1 { text-align: center; font-size: 20pt; margin: 0.8em 0 0.6em; }
h2 { font-family: "SimHei", "Noto Sans CJK SC", sans-serif; font-size: 14pt; margin-top: 1.4em; }
p { text-indent: 2em; margin: 0.4em 0; }
p.closing { text-indent: 0; font-size: 10.5pt; color: #444; }
p.sign { text-align: right; text-indent: 0; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; margin: 0.5em 0; }
th, td { border: 1px solid #666; padding: 2px 5px; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
@media print { body { margin: 1.5cm; max-width: none; } h2 { page-break-after: avoid; }
               tr { page-break-inside: avoid; } }
"""


def missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(value: Any, kind: str) -> str:
    """A cell as the report reads (see the module docstring)."""
    if missing(value):
        return MISSING
    if kind == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if kind in ("count", "rank"):
        return f"{round(v):,}"
    if kind == "mean":
        return f"{v:,.1f}"
    if kind == "rate":
        return f"{v:,.2f}"
    if kind == "change":
        r = round(v, 1)
        return "0.0%" if r == 0 else f"{r:+.1f}%"
    if kind == "share":
        return f"{v:.1%}"
    raise ValueError(f"unknown cell kind {kind!r}")


def xlsx_number(value: Any, kind: str) -> float:
    """The number an Excel cell of `kind` holds (rounded as it reads; shares in percent)."""
    v = float(value)
    if kind in ("count", "rank"):
        return float(round(v))
    if kind == "share":
        return round(v * 100, 1)
    return round(v, 2 if kind == "rate" else 1)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]

    def frame(self) -> pd.DataFrame:
        """The table's values (not yet formatted) under its worded headers."""
        return pd.DataFrame([[v for v, _ in row] for row in self.rows], columns=self.columns)

    def texts(self) -> list[list[str]]:
        return [[cell_text(v, k) for v, k in row] for row in self.rows]

    def numeric(self, j: int) -> bool:
        """Column j holds numbers (drawn right-aligned)."""
        return any(k != "text" and not isinstance(v, str) for row in self.rows for v, k in [row[j]])


@dataclass
class Section:
    key: str
    heading: str  # numbered: 一、总体情况
    blocks: list[str | Table] = field(default_factory=list)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


@dataclass
class Briefing:
    lang: str
    month: str  # YYYY-MM
    issuer: str
    issued: str  # the date of issue as the reader writes dates
    title: str
    demo: str  # a warning line when the store holds demo data, else ''
    sections: list[Section]
    closing: list[str]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each section's main (first) table, keyed by section."""
        return {s.key: s.tables()[0].frame() for s in self.sections if s.tables()}

    def lines(self) -> list[str]:
        """Every line of text the document shows, table cells included (in reading order)."""
        out = [self.issuer, self.issued, self.demo, self.title]
        for s in self.sections:
            out.append(s.heading)
            for b in s.blocks:
                if isinstance(b, Table):
                    out += b.columns
                    out += [c for row in b.texts() for c in row]
                else:
                    out.append(b)
        out += self.closing + [self.issuer, self.issued]
        return [line for line in out if line]


def display_width(value: str) -> int:
    """Columns a string takes in a fixed-width view: CJK characters count two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in value)


# --------------------------------------------------------------------------- Excel


def to_xlsx(doc: Briefing) -> bytes:
    """The whole briefing on one printable sheet: header, sections with their paragraphs and
    tables, closing note and signature. Numbers stay numbers (with report formats); text is
    formula-neutralised."""
    tables = [t for s in doc.sections for t in s.tables()]
    ncol = max([len(t.columns) for t in tables] + [6])
    widths = [8.0] * ncol
    for t in tables:
        texts = t.texts()
        for j, col in enumerate(t.columns):
            longest = max([display_width(col) / 2 + 1] + [display_width(r[j]) + 2 for r in texts])
            widths[j] = min(max(widths[j], longest), 24)
    total = sum(widths)
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": False}
    book = xlsxwriter.Workbook(buf, {"in_memory": True, **options})
    font = {"font_name": text("br_font_table", doc.lang), "font_size": 10}
    fmt = {
        "issuer": book.add_format({**font, "bold": True, "font_size": 18, "font_color": "#C00000",
                                   "align": "center", "valign": "vcenter"}),
        "issued": book.add_format({**font, "align": "right", "bottom": 2, "bottom_color": "#C00000"}),
        "demo": book.add_format({**font, "align": "center", "font_color": "#777777"}),
        "title": book.add_format({**font, "bold": True, "font_size": 16, "align": "center",
                                  "valign": "vcenter", "text_wrap": True}),
        "heading": book.add_format({**font, "bold": True, "font_size": 12, "font_name": text("br_font_heading", doc.lang)}),
        "para": book.add_format({**font, "font_size": 11, "text_wrap": True, "valign": "top"}),
        "closing": book.add_format({**font, "text_wrap": True, "valign": "top", "font_color": "#444444"}),
        "sign": book.add_format({**font, "font_size": 11, "align": "right"}),
        "head": book.add_format({**font, "bold": True, "bg_color": "#F2F2F2", "border": 1, "align": "center",
                                 "valign": "vcenter", "text_wrap": True}),
        "text": book.add_format({**font, "border": 1, "valign": "vcenter", "text_wrap": True}),
    }  # fmt: skip
    numbers = {k: book.add_format({**font, "border": 1, "num_format": f}) for k, f in XLSX_FORMATS.items()}
    sheet = book.add_worksheet(text("br_sheet", doc.lang))
    for j, w in enumerate(widths):
        sheet.set_column(j, j, w)
    row = 0

    def line(value: str, style: str, height: float | None = None) -> None:
        nonlocal row
        value = str(exports.neutralise(value))
        if height is None and style in ("para", "closing", "title"):
            height = 16.0 * max(1, math.ceil(display_width(value) * 1.15 / total))
        sheet.merge_range(row, 0, row, ncol - 1, value, fmt[style])
        if height:
            sheet.set_row(row, height)
        row += 1

    line(doc.issuer, "issuer", 30)
    line(doc.issued, "issued")
    if doc.demo:
        line(doc.demo, "demo")
    row += 1
    line(doc.title, "title", 30)
    for section in doc.sections:
        row += 1
        sheet.write_string(row, 0, section.heading, fmt["heading"])
        row += 1
        for block in section.blocks:
            if not isinstance(block, Table):
                line(block, "para")
                continue
            for j, col in enumerate(block.columns):
                sheet.write_string(row, j, str(exports.neutralise(col)), fmt["head"])
            sheet.set_row(row, 16.0 * max(1, math.ceil(max(display_width(c) for c in block.columns) / 2 / 8)))
            row += 1
            for cells in block.rows:
                for j, (value, kind) in enumerate(cells):
                    if kind == "text" or missing(value) or isinstance(value, str):
                        shown = cell_text(value, kind)
                        sheet.write_string(row, j, str(exports.neutralise(shown)), fmt["text"])
                    else:
                        sheet.write_number(row, j, xlsx_number(value, kind), numbers[kind])
                row += 1
    row += 1
    for note in doc.closing:
        line(note, "closing")
    row += 1
    line(doc.issuer, "sign")
    line(doc.issued, "sign")
    sheet.set_paper(9)  # A4
    if total > 110:
        sheet.set_landscape()
    sheet.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.7)
    sheet.fit_to_pages(1, 0)
    sheet.hide_gridlines(2)
    book.close()
    return buf.getvalue()


# --------------------------------------------------------------------------- printable page


def to_html(doc: Briefing) -> str:
    """One self-contained printable page (no scripts, no external files)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{HTML_LANG.get(doc.lang, "zh-CN")}"><head><meta charset="utf-8">',
        f"<title>{esc(doc.title)}</title><style>{HTML_STYLE}</style></head><body>",
        f'<div class="issuer">{esc(doc.issuer)}</div>',
        f'<div class="issued">{esc(doc.issued)}</div>',
    ]
    if doc.demo:
        parts.append(f'<p class="demo">{esc(doc.demo)}</p>')
    parts.append(f"<h1>{esc(doc.title)}</h1>")
    for section in doc.sections:
        parts.append(f"<h2>{esc(section.heading)}</h2>")
        for block in section.blocks:
            if not isinstance(block, Table):
                parts.append(f"<p>{esc(block)}</p>")
                continue
            parts.append("<table><thead><tr>")
            parts += [f"<th>{esc(c)}</th>" for c in block.columns]
            parts.append("</tr></thead><tbody>")
            numeric = [block.numeric(j) for j in range(len(block.columns))]
            for texts in block.texts():
                tds = (
                    f'<td class="num">{esc(v)}</td>' if numeric[j] else f"<td>{esc(v)}</td>"
                    for j, v in enumerate(texts)
                )
                parts.append("<tr>" + "".join(tds) + "</tr>")
            parts.append("</tbody></table>")
    parts += [f'<p class="closing">{esc(note)}</p>' for note in doc.closing]
    parts += [f'<p class="sign">{esc(doc.issuer)}<br>{esc(doc.issued)}</p>', "</body></html>"]
    return "\n".join(parts)
