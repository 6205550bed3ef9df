"""The briefing as a Word document (python-docx), laid out as district offices publish one: the
issuing unit in red above a red rule, the date of issue, the title, numbered headings, bordered
tables with a shaded header row that repeats on each page, a closing note and the signature.

Word picks the font of Chinese characters from the East Asian slot of a run's fonts
(`w:eastAsia`), not from the Latin name python-docx sets; every style and run here sets both, and
drops the theme fonts of the default template, which would otherwise win.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from analytics.reports.briefing_layout import Briefing, Table
from analytics.reports.text import text

LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x55, 0x55, 0x55)
THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
LANG_TAGS = {"zh": "zh-CN", "en": "en-GB"}


def _fonts(element, east_asia: str) -> None:
    """Latin and East Asian font names on a run's or a style's run properties."""
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in THEME_ATTRS:
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)


def _run(paragraph, value: str, font: str, size: float, bold: bool = False, color: RGBColor | None = None):
    run = paragraph.add_run(value)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    _fonts(run._element, font)
    return run


def _rule_below(paragraph, color: str = "C00000") -> None:
    """A red line under the paragraph (the rule under the issuing unit)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", color)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _shade(cell, fill: str = "F2F2F2") -> None:
    shd = OxmlElement("w:shd")
    for key, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(key), value)
    cell._tc.get_or_add_tcPr().append(shd)


def _repeat_header(row) -> None:
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _styles(document, lang: str) -> None:
    body = text("br_font_body", lang)
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    _fonts(normal.element, body)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.3
    lang_el = OxmlElement("w:lang")
    lang_el.set(qn("w:val"), LANG_TAGS.get(lang, "zh-CN"))
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang_el)
    heading = document.styles["Heading 1"]
    heading.font.size = Pt(14)
    heading.font.bold = True
    heading.font.color.rgb = RGBColor(0, 0, 0)
    _fonts(heading.element, text("br_font_heading", lang))
    heading.paragraph_format.space_before = Pt(12)
    heading.paragraph_format.space_after = Pt(6)


def _table(document, table: Table, lang: str) -> None:
    font = text("br_font_table", lang)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = grid.rows[0]
    _repeat_header(header)
    for cell, name in zip(header.cells, table.columns, strict=True):
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(para, name, font, 9, bold=True)
        _shade(cell)
    numeric = [table.numeric(j) for j in range(len(table.columns))]
    for texts in table.texts():
        cells = grid.add_row().cells
        for j, value in enumerate(texts):
            para = cells[j].paragraphs[0]
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else WD_ALIGN_PARAGRAPH.LEFT
            para.paragraph_format.space_after = Pt(0)
            para.paragraph_format.line_spacing = 1.0
            _run(para, value, font, 9)


def to_docx(doc: Briefing) -> bytes:
    """The briefing as a .docx file (A4, 2 cm margins)."""
    lang = doc.lang
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    _styles(document, lang)
    props = document.core_properties
    props.title, props.author = doc.title, doc.issuer

    issuer = document.add_paragraph()
    issuer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(issuer, doc.issuer, text("br_font_title", lang), 22, bold=True, color=RED)
    issued = document.add_paragraph()
    issued.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(issued, doc.issued, text("br_font_body", lang), 12)
    _rule_below(issued)
    if doc.demo:
        demo = document.add_paragraph()
        demo.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(demo, doc.demo, text("br_font_body", lang), 10.5, color=GREY)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(12)
    title.paragraph_format.space_after = Pt(12)
    _run(title, doc.title, text("br_font_title", lang), 18, bold=True)

    for part in doc.sections:
        document.add_heading(part.heading, level=1)
        for block in part.blocks:
            if isinstance(block, Table):
                _table(document, block, lang)
                document.add_paragraph().paragraph_format.space_after = Pt(0)
            else:
                para = document.add_paragraph(block)
                if lang != "en":
                    para.paragraph_format.first_line_indent = Pt(24)  # two characters
    for note in doc.closing:
        para = document.add_paragraph()
        _run(para, note, text("br_font_body", lang), 10.5, color=GREY)
    for value in (doc.issuer, doc.issued):
        para = document.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(para, value, text("br_font_body", lang), 12)

    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
