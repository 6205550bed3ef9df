"""Data values made safe to display: shown literally, never as Markdown, HTML or LaTeX.

Compound names, addresses, categories, header names and user names come from uploaded files
and forms. Streamlit renders Markdown in st.markdown, captions, headings, alerts, metric labels
and values, widget labels and help, radio and segmented-control options, tab and expander
labels; plotly renders a subset of HTML (<a href>, <b>, <br>, <span style>, entities) in titles,
tick labels, treemap labels and hover text. A name such as `![i](http://host/i.png)` would make
every viewer's browser fetch from that host, and `<a href=...>` in a treemap label becomes a
link. So every data value that reaches one of those goes through one of the helpers below:

- `markdown_literal` for anything Streamlit renders as Markdown;
- `plotly_literal` for chart text;
- `strip_invisible` for plain-text places (select-box options, table cells are left as they
  are) and at import: bidirectional overrides can make "evil.exe" read as "exe.live".
- `safe_file_stem` for download file names built from data.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

# Zero-width (non-)joiners shape emoji sequences and some scripts; every other format character
# (bidi embeddings, overrides and isolates, marks, zero-width space, word joiner, BOM, soft
# hyphen, tag characters) is invisible and only good for disguising text.
KEEP_FORMAT = frozenset("\u200c\u200d")
KEEP_CONTROL = frozenset("\t\n\r")
LINE_BREAKS = re.compile(r"[ \t\r\n\v\f\x85\u2028\u2029]+")
ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # CommonMark: each may be backslash-escaped
# Streamlit turns these into icons, emoji or arrows after parsing, in the decoded text, where a
# backslash escape no longer shows: `:streamlit:`, `:material_x:`, `:smile:`, `a -> b`. An
# invisible word joiner inside the pattern keeps them literal (it has no width and no break).
WORD_JOINER = "\u2060"
SHORTCODE_START = re.compile(r"(?<=:)(?=[A-Za-z0-9_+-])")
TYPOGRAPHY_PAIR = re.compile(r"(?<=[<>~-])(?=[>=-])")
FILE_STEM_UNSAFE = re.compile(r"[^\w.-]+")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def strip_invisible(value: Any) -> str:
    """`value` as text without bidirectional controls, other invisible format characters and
    control characters (tabs and line breaks are kept)."""
    text = _text(value)
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        ch
        for ch in text
        if ch in KEEP_FORMAT or ch in KEEP_CONTROL or unicodedata.category(ch) not in ("Cf", "Cc", "Cs")
    )


def markdown_literal(value: Any) -> str:
    """`value` as Markdown source that Streamlit shows character for character.

    Every ASCII punctuation character is backslash-escaped (links, images, emphasis, code,
    `$` LaTeX, `:red[...]` directives, headings, lists, tables, HTML and entities all start with
    one), line breaks become spaces so no new block can start, and shortcodes Streamlit
    replaces after parsing get an invisible word joiner."""
    text = LINE_BREAKS.sub(" ", strip_invisible(value))
    text = SHORTCODE_START.sub(WORD_JOINER, text)
    text = TYPOGRAPHY_PAIR.sub(WORD_JOINER, text)
    return ASCII_PUNCTUATION.sub(r"\\\1", text)


def plotly_literal(value: Any) -> str:
    """`value` as plotly text that shows literally: & < > become entities (plotly reads a subset
    of HTML in chart text), `$` too (plotly hands $...$ to MathJax when a page has it), and line
    breaks become spaces."""
    text = LINE_BREAKS.sub(" ", strip_invisible(value))
    return html.escape(text, quote=False).replace("$", "&#36;")


def safe_file_stem(value: Any, fallback: str = "download") -> str:
    """A download file name part from data: letters, digits, '-', '_' and '.' only (no path
    separators, no bidi overrides that would disguise the extension)."""
    stem = FILE_STEM_UNSAFE.sub("_", strip_invisible(value)).strip("._")
    return stem or fallback
