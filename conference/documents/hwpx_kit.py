"""Building blocks for 한글 (HWPX) documents: the same calls as ``docx_kit.DocxWriter`` (headings, paragraphs,
"label: text" lines, tables whose header row repeats, label/value tables, a 결재란), on an A4 page with the header
mark and "- N -" page numbers, in the city's font.

Pure: data in, bytes out; no request and no database. Two layers:

- **The styles** (``_Styles``): python-hwpx makes a blank document once per font, with the page set up, the fonts
  replaced and every character, paragraph and border style these documents use, and saves it (its save validates the
  package). Its parts are kept: all but the body are copied into every file as they are.
- **The body** (``HwpxWriter``): the section's paragraphs and tables, written as OWPML text that points at those
  styles by id. python-hwpx's own body calls cost about three times the Word builder's time for the minutes of 30
  cases (most of it serialising, parsing again and validating every save); the tests open every kind of file this
  writes again and run python-hwpx's validators on it.
"""
import functools
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from conference.documents import docx_kit

#: HWPUNIT per millimetre (1 HWPUNIT = 1/7200 inch).
PER_MM = 7200 / 25.4
OPF = "{http://www.idpf.org/2007/opf/}"
SECTION = "Contents/section0.xml"
CONTENT = "Contents/content.hpf"
#: The fonts of python-hwpx's blank document, replaced by the city's.
TEMPLATE_FONTS = ("함초롬바탕", "함초롬돋움")
BODY_PT = 10.5
HEADING_PT = {0: 18, 1: 13, 2: 11, 3: 10.5}
#: The page, as the Word files have it (millimetres).
MARGINS = {"margin_left_mm": 20, "margin_right_mm": 20, "margin_top_mm": 20, "margin_bottom_mm": 18,
           "header_margin_mm": 10, "footer_margin_mm": 10}
TEXT_WIDTH_MM = 210 - 20 - 20
ROW_MM = 7
HEADER_FILL, LABEL_FILL = "#E7ECF3", "#F2F4F7"
#: The character styles: python-hwpx ``ensure_run`` settings by name.
CHARACTERS = {
    "body": {"size": BODY_PT}, "bold": {"size": BODY_PT, "bold": True},
    **{f"heading{level}": {"size": size, "bold": True} for level, size in HEADING_PT.items()},
    "cell": {"size": docx_kit.TABLE_PT}, "cell_bold": {"size": docx_kit.TABLE_PT, "bold": True},
    "mark": {"size": 9, "bold": True, "color": "#B3261E"}, "note": {"size": 6.5, "color": "#555B66"},
}
#: The paragraph styles: python-hwpx ``apply_paragraph_format`` settings by name ("plain" is the blank one).
PARAGRAPHS = {
    "title": {"alignment": "CENTER", "spacing_before_pt": 6, "spacing_after_pt": 6, "keep_with_next": True},
    "heading": {"spacing_before_pt": 8, "spacing_after_pt": 3, "keep_with_next": True},
    "item": {"indent_left_mm": 5}, "keep": {"keep_with_next": True},
    "center": {"alignment": "CENTER"}, "right": {"alignment": "RIGHT"},
}
#: Cell borders: python-hwpx ``ensure_border_fill`` fill colours by name.
FILLS = {"grid": None, "header": HEADER_FILL, "label": LABEL_FILL}
CELL_MARGIN = '<hp:cellMargin left="510" right="510" top="141" bottom="141"/>'
PARAGRAPH_FLAGS = 'styleIDRef="0" pageBreak="0" columnBreak="0" merged="0"'
SUBLIST = ('textDirection="HORIZONTAL" lineWrap="BREAK" vertAlign="{align}" linkListIDRef="0" linkListNextIDRef="0" '
           'textWidth="{width}" textHeight="{height}" hasTextRef="0" hasNumRef="0"')


def _units(mm: float) -> int:
    return round(mm * PER_MM)


@dataclass(frozen=True)
class _Styles:
    """A blank document's parts in one font, and the ids of its styles by name."""

    parts: tuple[tuple[str, int, bytes | None], ...]  # (name, compression, content); None: the section, content.hpf
    section_start: str  # the XML declaration and the section's start tag
    page_settings: str  # the section's page settings (hp:secPr) and its column control
    content: bytes  # Contents/content.hpf, whose metadata each file fills in
    char: dict[str, str]
    para: dict[str, str]
    fill: dict[str, str]


@functools.lru_cache(maxsize=8)
def _styles(font: str) -> _Styles:
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    document.page.setup(paper_size="A4", **MARGINS)
    for template_font in TEMPLATE_FONTS:
        if template_font != font:
            document.styles.replace_font(template_font, font)
    styles = document.styles
    char = {name: styles.ensure_run(**settings) for name, settings in CHARACTERS.items()}
    fill = {name: styles.ensure_border_fill(border_color="#000000", border_width="0.12 mm",
                                            **({"fill_color": colour} if colour else {}))
            for name, colour in FILLS.items()}
    para = {"plain": "0"}
    for name, settings in PARAGRAPHS.items():
        paragraph = document.add_paragraph("", inherit_style=False)
        styles.apply_paragraph_format(paragraphs=[paragraph], **settings)
        para[name] = paragraph.para_pr_id_ref
    package = zipfile.ZipFile(io.BytesIO(document.to_bytes()))
    section = package.read(SECTION).decode("utf-8")
    start = re.match(r"(?s).*?<hs:sec\b[^>]*>", section).group(0)
    settings = re.search(r"(?s)<hp:secPr\b.*?</hp:secPr><hp:ctrl><hp:colPr\b[^>]*/></hp:ctrl>", section).group(0)
    parts = tuple((info.filename, info.compress_type,
                   None if info.filename in (SECTION, CONTENT) else package.read(info.filename))
                  for info in package.infolist())
    return _Styles(parts=parts, section_start=start, page_settings=settings, content=package.read(CONTENT),
                   char=char, para=para, fill=fill)


def _text(text: str) -> str:
    """A run's text, escaped for XML, with tabs and line breaks as OWPML writes them."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\t", "<hp:tab/>").replace("\n", "<hp:lineBreak/>")


class HwpxWriter:
    """One HWPX document being written; ``finish()`` gives its bytes."""

    def __init__(self, *, font: str, title: str, author: str, header_mark: str, subject: str = "",
                 created: datetime | None = None, footer_note: str = ""):
        self._styles = styles = _styles(font)
        self._char, self._para, self._fill = styles.char, styles.para, styles.fill
        #: The body's paragraphs: (paragraph style, character style of the first run, the runs' XML).
        self._paragraphs: list[tuple[str, str, str]] = []
        self._ids = 0
        self._header_mark, self._footer_note = docx_kit.plain(header_mark), docx_kit.plain(footer_note)
        self.properties = {"title": title, "author": author, "subject": subject, "created": created}

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _run(self, text: str, char: str) -> str:
        return f'<hp:run charPrIDRef="{self._char[char]}"><hp:t>{_text(text)}</hp:t></hp:run>'

    def _add(self, para: str, char: str, runs: str):
        self._paragraphs.append((self._para[para], self._char[char], runs))

    def _p(self, para_id: str, runs: str) -> str:
        return f'<hp:p id="{self._id()}" paraPrIDRef="{para_id}" {PARAGRAPH_FLAGS}>{runs}</hp:p>'

    # --- what the builders call --------------------------------------------------------------------------

    #: The width between the margins, for builders that size columns themselves.
    text_width_mm = TEXT_WIDTH_MM

    def heading(self, text: str, level: int):
        char = f"heading{min(level, 3)}"
        self._add("title" if level == 0 else "heading", char, self._run(docx_kit.plain(text), char))

    def paragraph(self, text: str):
        for line in docx_kit.plain(text).split("\n"):
            self._add("plain", "body", self._run(line, "body"))

    def bullet(self, text: str):
        """A list item: "• " and the text, indented."""
        for number, line in enumerate(docx_kit.plain(text).split("\n")):
            self._add("item", "body", self._run(("• " if number == 0 else "  ") + line, "body"))

    def labelled(self, label: str, text: str, *, keep_with_next: bool = False):
        lines = docx_kit.plain(text).split("\n")
        runs = self._run(f"{docx_kit.plain(label)}: ", "bold") + self._run(lines[0], "body")
        self._add("keep" if keep_with_next else "plain", "bold", runs)
        for line in lines[1:]:
            self._add("plain", "body", self._run(line, "body"))

    def table(self, headers: list[str], rows, *, whole=(), widths_mm: list[float] | None = None,
              row_height_mm: float | None = None, right: set[int] = frozenset(), bold_last_row: bool = False):
        """A grid whose header row repeats on every page, columns fitted to the text as in the Word file; the
        columns in ``right`` (figures) right-aligned, header included, and the last row (a 합계) in bold."""
        rows = [[docx_kit.plain(v) for v in values] for values in rows]
        if widths_mm is None:
            widths_mm = docx_kit.fit_columns(headers, rows, TEXT_WIDTH_MM, whole=whole)
        height = row_height_mm or ROW_MM
        body = [[(value, "right" if index in right else "plain", "grid") for index, value in enumerate(values)]
                for values in rows]
        last = len(body)
        grid = [[(docx_kit.plain(h), "center", "header") for h in headers], *body]
        self._table(grid, widths_mm, [height] * len(grid), flows=True, header_row=True,
                    bold=lambda row, column: row == 0 or (bold_last_row and row == last > 0))

    def facts(self, pairs: list[tuple[str, str]], *, together: bool = False, widths_mm=(35, 135)):
        """A two-column label/value table (일시, 장소 …)."""
        grid = [[(docx_kit.plain(label), "plain", "label"), (docx_kit.plain(value), "plain", "grid")]
                for label, value in pairs]
        self._table(grid, widths_mm, [ROW_MM] * len(grid), flows=not together, bold=lambda row, column: column == 0)

    def sign_off(self, steps: list[docx_kit.SignStep], *, sign_height_mm: float = 18):
        """The 결재란 at the right: a column per step with its 직위, name, a box to sign and the date."""
        texts = [[s.step for s in steps], [s.position for s in steps], [s.name for s in steps], ["" for _ in steps],
                 [s.date for s in steps]]
        label_width = docx_kit.cell_width_mm("서명")
        step_width = max([26.0] + [docx_kit.cell_width_mm(t) for row in texts for t in row])
        grid = [[(label, "center", "label"),
                 *((docx_kit.plain(v), "center", "label" if label == "구분" else "grid") for v in values)]
                for label, values in zip(docx_kit.SIGN_OFF_ROWS, texts, strict=True)]
        heights = [sign_height_mm if label == "서명" else ROW_MM for label in docx_kit.SIGN_OFF_ROWS]
        self._table(grid, [label_width] + [step_width] * len(steps), heights, flows=False, align="right",
                    bold=lambda row, column: row == 0 or column == 0)

    def _table(self, grid, widths_mm, heights_mm, *, flows: bool, bold, header_row: bool = False,
               align: str = "plain"):
        """A table of ``grid`` (rows of (text, paragraph style, border) cells), every cell bordered. One that
        ``flows`` may split across pages (its header row repeated when it has one); else it stays whole, inline in
        a paragraph aligned ``align``."""
        widths, heights = [_units(w) for w in widths_mm], [_units(h) for h in heights_mm]
        rows = []
        for row, (cells, height) in enumerate(zip(grid, heights, strict=True)):
            row_xml = []
            for column, ((text, para, border), width) in enumerate(zip(cells, widths, strict=True)):
                char = "cell_bold" if bold(row, column) else "cell"
                paragraph = self._p(self._para[para], self._run(text, char))
                row_xml.append(
                    f'<hp:tc name="" header="{int(header_row and row == 0)}" hasMargin="0" protect="0" '
                    f'editable="0" dirty="0" borderFillIDRef="{self._fill[border]}"><hp:subList id="" '
                    f'{SUBLIST.format(align="CENTER", width=0, height=0)}>{paragraph}</hp:subList>'
                    f'<hp:cellAddr colAddr="{column}" rowAddr="{row}"/><hp:cellSpan colSpan="1" rowSpan="1"/>'
                    f'<hp:cellSz width="{width}" height="{height}"/>{CELL_MARGIN}</hp:tc>')
            rows.append(f"<hp:tr>{''.join(row_xml)}</hp:tr>")
        table = (
            f'<hp:tbl id="{self._id()}" zOrder="0" numberingType="TABLE" textWrap="TOP_AND_BOTTOM" '
            f'textFlow="BOTH_SIDES" lock="0" dropcapstyle="None" pageBreak="CELL" repeatHeader="{int(header_row)}" '
            f'rowCnt="{len(grid)}" colCnt="{len(widths)}" cellSpacing="0" borderFillIDRef="{self._fill["grid"]}" '
            f'noAdjust="0"><hp:sz width="{sum(widths)}" widthRelTo="ABSOLUTE" height="{sum(heights)}" '
            f'heightRelTo="ABSOLUTE" protect="0"/><hp:pos treatAsChar="{int(not flows)}" affectLSpacing="0" '
            f'flowWithText="1" allowOverlap="0" holdAnchorAndSO="0" vertRelTo="PARA" horzRelTo="COLUMN" '
            f'vertAlign="TOP" horzAlign="LEFT" vertOffset="0" horzOffset="0"/>'
            f'<hp:outMargin left="0" right="0" top="0" bottom="0"/>'
            f'<hp:inMargin left="510" right="510" top="141" bottom="141"/>{"".join(rows)}</hp:tbl>')
        self._paragraphs.append((self._para[align], "0", f'<hp:run charPrIDRef="0">{table}</hp:run>'))

    # --- the file ------------------------------------------------------------------------------------------

    def _header_and_footer(self) -> str:
        """The header mark at the right and "- N -" (and the note) centred below, on every page."""
        width, margin = _units(TEXT_WIDTH_MM), _units(MARGINS["header_margin_mm"])
        right, center = self._para["right"], self._para["center"]
        number = ('<hp:run charPrIDRef="0"><hp:ctrl><hp:autoNum num="1" numType="PAGE"><hp:autoNumFormat '
                  'type="DIGIT" userChar="" prefixChar="" suffixChar="" supscript="0"/></hp:autoNum></hp:ctrl>'
                  '</hp:run>')
        footer = self._p(center, f'<hp:run charPrIDRef="0"><hp:t>- </hp:t></hp:run>{number}'
                                 f'<hp:run charPrIDRef="0"><hp:t> -</hp:t></hp:run>')
        if self._footer_note:
            footer += self._p(center, self._run(self._footer_note, "note"))
        return (f'<hp:ctrl><hp:header id="{self._id()}" applyPageType="BOTH"><hp:subList id="" '
                f'{SUBLIST.format(align="TOP", width=width, height=margin)}>'
                f'{self._p(right, self._run(self._header_mark, "mark"))}</hp:subList></hp:header></hp:ctrl>'
                f'<hp:ctrl><hp:footer id="{self._id()}" applyPageType="BOTH"><hp:subList id="" '
                f'{SUBLIST.format(align="BOTTOM", width=width, height=margin)}>{footer}</hp:subList></hp:footer>'
                f'</hp:ctrl>')

    def _section(self) -> str:
        """The body; the first paragraph's first run carries the page settings, header and footer."""
        paragraphs = self._paragraphs or [(self._para["plain"], self._char["body"], "")]
        (para, char, runs), rest = paragraphs[0], paragraphs[1:]
        first = (f'<hp:p id="0" paraPrIDRef="{para}" {PARAGRAPH_FLAGS}><hp:run charPrIDRef="{char}">'
                 f'{self._styles.page_settings}{self._header_and_footer()}</hp:run>{runs}</hp:p>')
        body = "".join(self._p(para, runs) for para, _, runs in rest)
        return f"{self._styles.section_start}{first}{body}</hs:sec>"

    def _content(self) -> bytes:
        """content.hpf with this file's title, author, subject and dates (the blank document's are a sample's)."""
        package = etree.fromstring(self._styles.content)
        metadata = package.find(f"{OPF}metadata")
        created = self.properties["created"]
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else ""
        values = {"creator": self.properties["author"], "lastsaveby": self.properties["author"],
                  "subject": self.properties["subject"], "CreatedDate": stamp, "ModifiedDate": stamp,
                  "date": stamp, "description": ""}
        metadata.find(f"{OPF}title").text = docx_kit.plain(self.properties["title"])
        for meta in metadata.iter(f"{OPF}meta"):
            if meta.get("name") in values:
                meta.text = docx_kit.plain(values[meta.get("name")])
        return etree.tostring(package, xml_declaration=True, encoding="UTF-8", standalone=True)

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as package:
            for name, compression, content in self._styles.parts:
                if content is None:
                    content = self._section().encode("utf-8") if name == SECTION else self._content()
                package.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
        return buffer.getvalue()
