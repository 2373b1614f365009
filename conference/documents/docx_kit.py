"""Building blocks for Word documents: Korean fonts, A4 pages, header mark, page numbers, fast tables whose
columns fit their text, and a 결재란.

Pure: data in, python-docx objects or bytes out; no request and no database.
"""
import io
import re
from dataclasses import dataclass
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
#: Table text size: dates, case numbers and short labels are measured at this size (``fit_columns``).
TABLE_PT = 9
#: Left plus right margin inside a table cell (108 twips each side in Word and LibreOffice), in millimetres.
CELL_PADDING_MM = 2 * 108 / 1440 * 25.4
#: Room kept beside the estimate, for fonts a little wider than the estimate's.
WIDTH_SLACK_MM = 1.0
MM_PER_PT = 25.4 / 72
#: Elements a paragraph's ``w:autoSpaceDE``/``w:autoSpaceDN`` must come before (CT_PPrBase order).
_AFTER_AUTOSPACE = ("w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                    "w:pPrChange")
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


def _autospace_off(ppr):
    """Turn off Word's and LibreOffice's automatic space between Hangul and Latin text or digits in ``ppr``
    ("2021 년도 제 3 회")."""
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        element = ppr.find(qn(tag))
        if element is None:
            element = OxmlElement(tag)
            successor = next((c for c in ppr if c.tag in {qn(t) for t in _AFTER_AUTOSPACE}), None)
            if successor is None:
                ppr.append(element)
            else:
                successor.addprevious(element)
        element.set(qn("w:val"), "0")


def _turn_off_autospace(document):
    """Automatic Asian/Latin spacing off in the document defaults and the Normal style (every Word file the app
    writes is made by ``new_document``)."""
    defaults = _child(_child(document.styles.element, "w:docDefaults"), "w:pPrDefault")
    ppr = defaults.find(qn("w:pPr"))
    if ppr is None:
        ppr = OxmlElement("w:pPr")
        defaults.append(ppr)
    _autospace_off(ppr)
    _autospace_off(document.styles["Normal"].element.get_or_add_pPr())


def _char_em(char: str) -> float:
    """Estimated advance of one character in em: Hangul and other full-width characters 1, digits and Latin
    about 0.55–0.7, spaces and punctuation less."""
    if char == " ":
        return 0.33
    if char in ".,:;'!|":
        return 0.3
    if char in "()[]":
        return 0.4
    if char in "-·/":
        return 0.5
    if char.isdigit() or char in "~%+#*?":
        return 0.6
    if char.isascii() and char.isalpha():
        return 0.7 if char.isupper() or char in "mw" else 0.55
    return 1.0


def text_width_mm(text, size_pt: float = TABLE_PT) -> float:
    """Estimated width of ``text``'s longest line at ``size_pt`` (Hangul ≈ 1 em, digits and Latin ≈ 0.6 em)."""
    lines = plain(text).split("\n")
    return max(sum(_char_em(c) for c in line) for line in lines) * size_pt * MM_PER_PT


def cell_width_mm(text, size_pt: float = TABLE_PT) -> float:
    """The width a table cell needs to hold ``text`` on one line (each of its lines), cell margins included."""
    return text_width_mm(text, size_pt) + CELL_PADDING_MM + WIDTH_SLACK_MM


def fit_columns(headers: list[str], rows: list, total_mm: float, *, size_pt: float = TABLE_PT,
                whole=()) -> list[float]:
    """Column widths (mm) for a table ``total_mm`` wide: a column in ``whole`` (dates, case numbers, times) gets
    the width of its longest text, every other column at least that of its longest word, so nothing breaks inside
    a word; short columns then grow to hold their text on one line, and what is left goes to the long ones."""
    columns = list(zip(headers, *rows, strict=True)) if rows else [(h,) for h in headers]
    full = [max(cell_width_mm(v, size_pt) for v in column) for column in columns]
    words = [max(cell_width_mm(w, size_pt) for v in column for w in (plain(v).split() or [""]))
             for column in columns]
    widths = [full[i] if i in whole else words[i] for i in range(len(columns))]
    extra = total_mm - sum(widths)
    if extra <= 0:
        return widths
    short = sorted((i for i in range(len(columns)) if full[i] <= total_mm * 0.3), key=lambda i: full[i] - widths[i])
    for i in short:
        grow = min(extra, full[i] - widths[i])
        widths[i] += grow
        extra -= grow
    wanting = {i: full[i] - widths[i] for i in range(len(columns)) if full[i] > widths[i]}
    shares = wanting or {i: widths[i] for i in range(len(columns))}
    total_share = sum(shares.values())
    for i, share in shares.items():
        widths[i] += extra * share / total_share
    return widths


def usable_width_mm(document) -> float:
    """The width between the first section's margins."""
    section = document.sections[0]
    return (section.page_width - section.left_margin - section.right_margin) / Mm(1)


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
                 landscape: bool = False, created: datetime | None = None, footer_note: str = ""):
    """An A4 document with Korean fonts on its styles, automatic Asian/Latin spacing off, a header mark and
    "- N / M -" page numbers; ``footer_note`` (a content hash …) in small type under them on every page."""
    document = Document()
    _apply_korean_fonts(document, font)
    _turn_off_autospace(document)
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
    if footer_note:
        note = section.footer.add_paragraph()
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        small = note.add_run(plain(footer_note))
        small.font.size = Pt(6.5)
        small.font.color.rgb = RGBColor(0x55, 0x5B, 0x66)

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


def set_row_height(row, height_mm: float, *, exact: bool = False):
    """A row at least (or exactly) ``height_mm`` high: room to sign (``w:trHeight``; 567 twips = 10 mm)."""
    properties = row._tr.get_or_add_trPr()
    height = OxmlElement("w:trHeight")
    height.set(qn("w:val"), str(round(height_mm * 1440 / 25.4)))
    height.set(qn("w:hRule"), "exact" if exact else "atLeast")
    properties.append(height)


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
    """Like ``document.add_heading`` without its per-call style lookup; kept on the page of what follows it."""
    paragraph = document.add_paragraph()
    paragraph._p.style = _style_id(document, "Title" if level == 0 else f"Heading {level}")
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run(plain(text))
    return paragraph


def add_paragraph(document, text: str = "", style: str | None = None):
    paragraph = document.add_paragraph()
    if style:
        paragraph._p.style = _style_id(document, style)
    if text:
        write_lines(paragraph, text)
    return paragraph


def keep_together(table):
    """Keep a (short) table on one page: every row but the last is kept with the next."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def _fixed_widths(table, widths):
    """Fixed layout with ``widths`` on the grid (LibreOffice reads it) and on the header cells."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


def add_table(document, headers: list[str], rows, widths_mm: list[float] | None = None, *,
              size_pt: float = TABLE_PT, whole=(), row_height_mm: float | None = None, total_mm: float | None = None):
    """A grid table whose header row repeats on every page; one ``add_row`` per row (linear, never
    ``table.cell``), with each cell's width set as it is made (Word reads cells, LibreOffice the grid).

    Its text is ``size_pt``; without ``widths_mm`` the columns are fitted to the text (``fit_columns``: the
    columns in ``whole`` never wrap) over ``total_mm`` (the page's width between its margins)."""
    rows = [[plain(v) for v in values] for values in rows]
    if widths_mm is None:
        widths_mm = fit_columns(headers, rows, total_mm or usable_width_mm(document), size_pt=size_pt, whole=whole)
    table = document.add_table(rows=1, cols=len(headers))
    table._tbl.tblStyle_val = _style_id(document, "Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Mm(w) for w in widths_mm]
    _fixed_widths(table, widths)
    size = Pt(size_pt)
    header_cells = table.rows[0].cells
    for index, (cell, text) in enumerate(zip(header_cells, headers, strict=True)):
        run = cell.paragraphs[0].add_run(plain(text))
        run.bold, run.font.size = True, size
        _shade(cell, "E7ECF3")
        cell.width = widths[index]
    _mark_row(table.rows[0], header=True)
    for values in rows:
        row = table.add_row()
        for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            write_lines(cell.paragraphs[0], value, size=size)
            cell.width = widths[index]
        _mark_row(row, header=False)
        if row_height_mm:
            set_row_height(row, row_height_mm)
    return table


def write_lines(paragraph, text, *, size=None) -> None:
    """Write plain text into a paragraph keeping its line breaks; nothing in it is interpreted."""
    lines = plain(text).split("\n")
    run = paragraph.add_run(lines[0])
    runs = [run]
    for line in lines[1:]:
        run.add_break()
        run = paragraph.add_run(line)
        runs.append(run)
    if size is not None:
        for run in runs:
            run.font.size = size


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
    _fixed_widths(table, (label_width, value_width))
    for label, value in pairs:
        row = table.add_row()
        label_cell, value_cell = row.cells
        label_cell.paragraphs[0].add_run(plain(label)).bold = True
        _shade(label_cell, "F2F4F7")
        write_lines(value_cell.paragraphs[0], value)
        label_cell.width, value_cell.width = label_width, value_width
        _mark_row(row, header=False)
    return table


@dataclass
class SignStep:
    """One column of a 결재란: the step (작성, 검토, 결재), the signer's 직위 and name, and the date signed."""

    step: str
    position: str = ""
    name: str = ""
    date: str = ""


#: The row labels of a 결재란, top to bottom; the sign box is the tall row.
SIGN_OFF_ROWS = ("구분", "직위", "성명", "서명", "일자")


def add_sign_off(document, steps: list[SignStep], *, sign_height_mm: float = 18, step_width_mm: float = 26,
                 size_pt: float = TABLE_PT):
    """A 결재란 as in a 기안문, aligned right (put it first for the top right of the first page): a column per step
    with its 직위, name, an empty box to sign or stamp (``sign_height_mm`` high) and the date."""
    texts = [[s.step for s in steps], [s.position for s in steps], [s.name for s in steps], ["" for _ in steps],
             [s.date for s in steps]]
    label_width = cell_width_mm("서명", size_pt)
    step_width = max([step_width_mm] + [cell_width_mm(t, size_pt) for row in texts for t in row])
    widths = [Mm(label_width)] + [Mm(step_width)] * len(steps)
    table = document.add_table(rows=0, cols=1 + len(steps))
    table._tbl.tblStyle_val = _style_id(document, "Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.RIGHT
    _fixed_widths(table, widths)
    size = Pt(size_pt)
    for label, values in zip(SIGN_OFF_ROWS, texts, strict=True):
        row = table.add_row()
        for index, (cell, text) in enumerate(zip(row.cells, [label, *values], strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(plain(text))
            run.font.size, run.bold = size, index == 0 or label == "구분"
            if index == 0 or label == "구분":
                _shade(cell, "F2F4F7")
            cell.width = widths[index]
        _mark_row(row, header=False)
        if label == "서명":
            set_row_height(row, sign_height_mm, exact=True)
    keep_together(table)
    return table


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class DocxWriter:
    """One Word document being written, through the calls the builders make of any format (``hwpx_kit.HwpxWriter``
    takes the same); ``finish()`` gives its bytes."""

    def __init__(self, *, font: str, title: str, author: str, header_mark: str, subject: str = "",
                 created: datetime | None = None, footer_note: str = ""):
        self.document = new_document(font=font, title=title, author=author, header_mark=header_mark,
                                      subject=subject, created=created, footer_note=footer_note)

    @property
    def text_width_mm(self) -> float:
        return usable_width_mm(self.document)

    def heading(self, text: str, level: int):
        add_heading(self.document, text, level)

    def paragraph(self, text: str):
        add_paragraph(self.document, text)

    def bullet(self, text: str):
        add_paragraph(self.document, text, style="List Bullet")

    def labelled(self, label: str, text: str, *, keep_with_next: bool = False):
        add_labelled(self.document, label, text).paragraph_format.keep_with_next = keep_with_next or None

    def table(self, headers: list[str], rows, *, whole=(), widths_mm: list[float] | None = None,
              row_height_mm: float | None = None, right: set[int] = frozenset(), bold_last_row: bool = False):
        table = add_table(self.document, headers, rows, widths_mm, whole=whole, row_height_mm=row_height_mm)
        if right or bold_last_row:
            right_align_columns(table, set(right), bold_last_row=bold_last_row)

    def facts(self, pairs: list[tuple[str, str]], *, together: bool = False, widths_mm=(35, 135)):
        table = add_facts(self.document, pairs, widths_mm)
        if together:
            keep_together(table)

    def sign_off(self, steps: list[SignStep]):
        add_sign_off(self.document, steps)

    def finish(self) -> bytes:
        return to_bytes(self.document)
