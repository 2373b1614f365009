"""Building blocks for Word documents: Korean fonts, A4 pages, header mark, page numbers, fast tables.

Pure: data in, python-docx objects or bytes out; no request and no database.
"""
import io
import re
from datetime import datetime, UTC

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

#: Styles whose fonts are set explicitly (the template's theme fonts would otherwise win for Hangul).
FONT_STYLES = ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Table Grid", "List Bullet",
               "List Number", "Caption", "Header", "Footer")
THEME_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
#: Characters a Word file (XML 1.0) cannot hold: control characters other than tab and line breaks.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def plain(text) -> str:
    """``text`` as a string a Word file can hold: control characters (pasted from other programs) are left out."""
    return NOT_XML.sub("", str(text if text is not None else ""))


def _property(text) -> str:
    """A document property (title, author …): Word keeps at most 255 characters."""
    return plain(text)[:255]


def _set_run_fonts(rpr, font: str):
    """Set every font slot of an rPr to ``font``, drop theme fonts and mark East Asian text as Korean."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in THEME_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "ko-KR")
    lang.set(qn("w:eastAsia"), "ko-KR")


def _child(parent, tag: str):
    """The first child element ``tag`` of ``parent``, created when missing."""
    element = parent.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        parent.insert(0, element)
    return element


def _apply_korean_fonts(document, font: str):
    styles = document.styles
    _set_run_fonts(_child(_child(_child(styles.element, "w:docDefaults"), "w:rPrDefault"), "w:rPr"), font)
    for name in FONT_STYLES:
        try:
            style = styles[name]
        except KeyError:
            continue
        _set_run_fonts(style.element.get_or_add_rPr(), font)
        if name.startswith(("Title", "Heading")):
            style.font.color.rgb = RGBColor(0x1D, 0x25, 0x30)


def _add_field(paragraph, instruction: str):
    """A complex field (PAGE, NUMPAGES) that Word and LibreOffice update when they lay out pages."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            run_text = OxmlElement("w:t")
            run_text.text = text
            element = run_text
        run._r.append(element)


def new_document(*, font: str, title: str, author: str, header_mark: str, subject: str = "",
                 landscape: bool = False, created: datetime | None = None):
    """An A4 document with Korean fonts on its styles, a header mark and "- N / M -" page numbers."""
    document = Document()
    _apply_korean_fonts(document, font)
    document.styles["Normal"].font.size = Pt(10.5)
    document.styles["Title"].font.size = Pt(18)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(20))
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    mark = header.add_run(plain(header_mark))
    mark.font.size, mark.font.bold = Pt(9), True
    mark.font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("- ")
    _add_field(footer, "PAGE")
    footer.add_run(" / ")
    _add_field(footer, "NUMPAGES")
    footer.add_run(" -")

    moment = created or datetime.now(UTC)
    properties = document.core_properties
    properties.title, properties.subject = _property(title), _property(subject)
    properties.author = properties.last_modified_by = _property(author)
    properties.created = properties.modified = moment.replace(tzinfo=None)
    properties.language, properties.keywords = "ko-KR", _property(header_mark)
    properties.comments, properties.revision = "", 1
    return document


def _mark_row(row, *, header: bool):
    properties = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader" if header else "w:cantSplit")
    element.set(qn("w:val"), "true")
    properties.append(element)


def _shade(cell, fill: str):
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def right_align_columns(table, columns: set[int], *, bold_last_row: bool = False) -> None:
    """Right-align the cells of ``columns`` (figures; their headers too) and, if asked, set the last row in bold
    (a 합계 row); one pass over the rows, never ``table.cell``."""
    rows = table.rows
    for number, row in enumerate(rows):
        for index, cell in enumerate(row.cells):
            paragraph = cell.paragraphs[0]
            if index in columns:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if bold_last_row and number == len(rows) - 1 and number > 0:
                for run in paragraph.runs:
                    run.bold = True


def _style_id(document, name: str) -> str:
    """The style id for a style name, looked up once per document (python-docx scans every style each time)."""
    cache = document.__dict__.setdefault("_style_ids", {})
    if name not in cache:
        cache[name] = document.styles[name].style_id
    return cache[name]


def add_heading(document, text: str, level: int):
    """Like ``document.add_heading`` without its per-call style lookup."""
    paragraph = document.add_paragraph()
    paragraph._p.style = _style_id(document, "Title" if level == 0 else f"Heading {level}")
    paragraph.add_run(plain(text))
    return paragraph


def add_paragraph(document, text: str = "", style: str | None = None):
    paragraph = document.add_paragraph()
    if style:
        paragraph._p.style = _style_id(document, style)
    if text:
        write_lines(paragraph, text)
    return paragraph


def add_table(document, headers: list[str], rows, widths_mm: list[float] | None = None):
    """A grid table whose header row repeats on every page; one ``add_row`` per row (linear, never
    ``table.cell``), with each cell's width set as it is made (Word reads cells, LibreOffice the grid)."""
    table = document.add_table(rows=1, cols=len(headers))
    table._tbl.tblStyle_val = _style_id(document, "Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Mm(w) for w in widths_mm] if widths_mm else None
    if widths:
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
    header_cells = table.rows[0].cells
    for index, (cell, text) in enumerate(zip(header_cells, headers, strict=True)):
        cell.paragraphs[0].add_run(plain(text)).bold = True
        _shade(cell, "E7ECF3")
        if widths:
            cell.width = widths[index]
    _mark_row(table.rows[0], header=True)
    for values in rows:
        row = table.add_row()
        for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            write_lines(cell.paragraphs[0], value)
            if widths:
                cell.width = widths[index]
        _mark_row(row, header=False)
    return table


def write_lines(paragraph, text) -> None:
    """Write plain text into a paragraph keeping its line breaks; nothing in it is interpreted."""
    lines = plain(text).split("\n")
    run = paragraph.add_run(lines[0])
    for line in lines[1:]:
        run.add_break()
        run = paragraph.add_run(line)


def add_labelled(document, label: str, text: str):
    """A paragraph "label: text" with the label in bold and the text's line breaks kept."""
    paragraph = add_paragraph(document)
    paragraph.add_run(f"{plain(label)}: ").bold = True
    write_lines(paragraph, text)
    return paragraph


def add_facts(document, pairs: list[tuple[str, str]], widths_mm=(35, 135)):
    """A two-column label/value table (일시, 장소 …)."""
    table = document.add_table(rows=0, cols=2)
    table._tbl.tblStyle_val = _style_id(document, "Table Grid")
    label_width, value_width = Mm(widths_mm[0]), Mm(widths_mm[1])
    table.columns[0].width, table.columns[1].width = label_width, value_width
    for label, value in pairs:
        label_cell, value_cell = table.add_row().cells
        label_cell.paragraphs[0].add_run(plain(label)).bold = True
        _shade(label_cell, "F2F4F7")
        write_lines(value_cell.paragraphs[0], value)
        label_cell.width, value_cell.width = label_width, value_width
    return table


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
