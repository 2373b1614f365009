"""Building blocks for 한글 (HWPX) documents, over python-hwpx: the same calls as ``docx_kit.DocxWriter`` (headings,
paragraphs, "label: text" lines, tables whose header row repeats, label/value tables, a 결재란), on an A4 page with
the header mark and "- N -" page numbers, in the city's font.

Pure: data in, bytes out; no request and no database. python-hwpx writes most of it; three things it has no call
for are set on the XML it keeps (``hp:tbl@repeatHeader``, ``hp:tc@header``, the table's height), and two of its
habits are undone before saving (see ``_tidy_header_and_footer``).
"""
from datetime import datetime

from hwpx import HwpxDocument

from conference.documents import docx_kit

#: HWPUNIT per millimetre (1 HWPUNIT = 1/7200 inch).
PER_MM = 7200 / 25.4
HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
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


def _units(mm: float) -> int:
    return round(mm * PER_MM)


class HwpxWriter:
    """One HWPX document being written; ``finish()`` gives its bytes."""

    def __init__(self, *, font: str, title: str, author: str, header_mark: str, subject: str = "",
                 created: datetime | None = None, footer_note: str = ""):
        self.document = document = HwpxDocument.new()
        document.page.setup(paper_size="A4", **MARGINS)
        for template_font in TEMPLATE_FONTS:
            if template_font != font:
                document.styles.replace_font(template_font, font)
        styles = document.styles
        self._body = styles.ensure_run(size=BODY_PT)
        self._bold = styles.ensure_run(size=BODY_PT, bold=True)
        self._headings = {level: styles.ensure_run(size=size, bold=True) for level, size in HEADING_PT.items()}
        self._cell = styles.ensure_run(size=docx_kit.TABLE_PT)
        self._cell_bold = styles.ensure_run(size=docx_kit.TABLE_PT, bold=True)
        self._grid = styles.ensure_border_fill(border_color="#000000", border_width="0.12 mm")
        self._header_fill = styles.ensure_border_fill(border_color="#000000", border_width="0.12 mm",
                                                      fill_color=HEADER_FILL)
        self._label_fill = styles.ensure_border_fill(border_color="#000000", border_width="0.12 mm",
                                                     fill_color=LABEL_FILL)
        #: Paragraph formats, applied once each at the end (python-hwpx finds or makes a paraPr per call).
        self._formats: dict[tuple, list] = {}
        self._set_header_and_footer(header_mark, footer_note)
        self._first = True
        # title, author, subject and created are the Word file's properties; python-hwpx 6.9 writes no metadata
        self.properties = {"title": title, "author": author, "subject": subject, "created": created}

    # --- the page ------------------------------------------------------------------------------------------

    def _set_header_and_footer(self, header_mark: str, footer_note: str):
        page = self.document.page
        header = page.set_header(content=[{"align": "RIGHT", "children": [
            {"type": "run", "text": docx_kit.plain(header_mark), "size": 9, "bold": True, "color": "#B3261E"}]}])
        lines = [{"align": "CENTER", "children": [{"type": "run", "text": "- "}, {"page_number": "page"},
                                                   {"type": "run", "text": " -"}]}]
        if footer_note:
            lines.append({"align": "CENTER", "children": [
                {"type": "run", "text": docx_kit.plain(footer_note), "size": 6.5, "color": "#555B66"}]})
        footer = page.set_footer(content=lines)
        # python-hwpx gives a header or footer line the first paraPr of its alignment, whatever else that paraPr
        # says (the template's 메모 style: 130 % line spacing): start from the plain one, then align.
        for paragraph, alignment in [*((p, "RIGHT") for p in header.paragraphs),
                                     *((p, "CENTER") for p in footer.paragraphs)]:
            paragraph.para_pr_id_ref = "0"
            self._format(paragraph, alignment=alignment)

    def _format(self, paragraph, **settings):
        self._formats.setdefault(tuple(sorted(settings.items())), []).append(paragraph)

    def _paragraph(self, text: str, char_pr: str):
        if self._first:  # the blank document's first paragraph (it holds the section's settings)
            self._first = False
            paragraph = self.document.paragraphs[0]
            paragraph.text = text
            for run in paragraph.runs:
                run.char_pr_id_ref = char_pr
            return paragraph
        return self.document.add_paragraph(text, char_pr_id_ref=char_pr, inherit_style=False)

    # --- what the builders call --------------------------------------------------------------------------

    #: The width between the margins, for builders that size columns themselves.
    text_width_mm = TEXT_WIDTH_MM

    def heading(self, text: str, level: int):
        paragraph = self._paragraph(docx_kit.plain(text), self._headings[min(level, 3)])
        if level == 0:
            self._format(paragraph, alignment="CENTER", spacing_before_pt=6, spacing_after_pt=6, keep_with_next=True)
        else:
            self._format(paragraph, spacing_before_pt=8, spacing_after_pt=3, keep_with_next=True)

    def paragraph(self, text: str):
        for line in docx_kit.plain(text).split("\n"):
            self._paragraph(line, self._body)

    def bullet(self, text: str):
        """A list item: "• " and the text, indented."""
        for number, line in enumerate(docx_kit.plain(text).split("\n")):
            self._format(self._paragraph(("• " if number == 0 else "  ") + line, self._body), indent_left_mm=5)

    def labelled(self, label: str, text: str, *, keep_with_next: bool = False):
        lines = docx_kit.plain(text).split("\n")
        paragraph = self._paragraph(f"{docx_kit.plain(label)}: ", self._bold)
        paragraph.add_run(lines[0], char_pr_id_ref=self._body)
        if keep_with_next:
            self._format(paragraph, keep_with_next=True)
        for line in lines[1:]:
            self._paragraph(line, self._body)

    def table(self, headers: list[str], rows, *, whole=(), widths_mm: list[float] | None = None,
              row_height_mm: float | None = None, right: set[int] = frozenset(), bold_last_row: bool = False):
        """A grid whose header row repeats on every page, columns fitted to the text as in the Word file; the
        columns in ``right`` (figures) right-aligned, header included, and the last row (a 합계) in bold."""
        rows = [[docx_kit.plain(v) for v in values] for values in rows]
        if widths_mm is None:
            widths_mm = docx_kit.fit_columns(headers, rows, TEXT_WIDTH_MM, whole=whole)
        table = self._grid_table([list(headers), *rows], widths_mm, row_height_mm or ROW_MM)
        table.element.set("repeatHeader", "1")
        for cell in table.rows[0].cells:
            cell.element.set("header", "1")
            cell.element.set("borderFillIDRef", self._header_fill)
            cell.paragraphs[0].runs[0].char_pr_id_ref = self._cell_bold
            self._format(cell.paragraphs[0], alignment="CENTER")
        body = table.rows[1:]
        for row in body:
            for index in right:
                self._format(row.cells[index].paragraphs[0], alignment="RIGHT")
        if bold_last_row and body:
            for cell in body[-1].cells:
                cell.paragraphs[0].runs[0].char_pr_id_ref = self._cell_bold
        table.set_treat_as_char(False)  # a table that flows: it may split across pages, its header repeated

    def facts(self, pairs: list[tuple[str, str]], *, together: bool = False, widths_mm=(35, 135)):
        """A two-column label/value table (일시, 장소 …)."""
        table = self._grid_table([[label, value] for label, value in pairs], widths_mm, ROW_MM)
        for row in table.rows:
            label = row.cells[0]
            label.element.set("borderFillIDRef", self._label_fill)
            label.paragraphs[0].runs[0].char_pr_id_ref = self._cell_bold
        if not together:
            table.set_treat_as_char(False)

    def sign_off(self, steps: list[docx_kit.SignStep], *, sign_height_mm: float = 18):
        """The 결재란 at the right: a column per step with its 직위, name, a box to sign and the date."""
        texts = [[s.step for s in steps], [s.position for s in steps], [s.name for s in steps], ["" for _ in steps],
                 [s.date for s in steps]]
        label_width = docx_kit.cell_width_mm("서명")
        step_width = max([26.0] + [docx_kit.cell_width_mm(t) for row in texts for t in row])
        grid = [[label, *values] for label, values in zip(docx_kit.SIGN_OFF_ROWS, texts, strict=True)]
        heights = [sign_height_mm if label == "서명" else ROW_MM for label in docx_kit.SIGN_OFF_ROWS]
        table = self._grid_table(grid, [label_width] + [step_width] * len(steps), heights)
        for number, row in enumerate(table.rows):
            for index, cell in enumerate(row.cells):
                if number == 0 or index == 0:
                    cell.element.set("borderFillIDRef", self._label_fill)
                    cell.paragraphs[0].runs[0].char_pr_id_ref = self._cell_bold
                self._format(cell.paragraphs[0], alignment="CENTER")
        self._format(table.paragraph, alignment="RIGHT")  # an inline table sits where its paragraph aligns it

    def _grid_table(self, grid: list[list[str]], widths_mm, row_height_mm):
        """A table of ``grid``'s text at the table size, every cell bordered, ``row_height_mm`` high (one value
        or one per row). Cells are taken row by row: python-hwpx's ``table.cell`` rebuilds the grid per call."""
        widths = [_units(w) for w in widths_mm]
        heights = row_height_mm if isinstance(row_height_mm, list) else [row_height_mm] * len(grid)
        if self._first:  # into the blank document's first paragraph (else an empty line stays above the table)
            self._first = False
            table = self.document.paragraphs[0].add_table(len(grid), len(widths), width=sum(widths),
                                                          border_fill_id_ref=self._grid)
        else:
            table = self.document.add_table(len(grid), len(widths), width=sum(widths), border_fill_id_ref=self._grid)
        table.set_column_widths(widths)
        for values, row, height in zip(grid, table.rows, heights, strict=True):
            for value, cell in zip(values, row.cells, strict=True):
                cell.text = value
                cell.paragraphs[0].runs[0].char_pr_id_ref = self._cell
                cell.set_size(height=_units(height))
        table.element.find(HP + "sz").set("height", str(sum(_units(h) for h in heights)))
        return table

    # --- the file ------------------------------------------------------------------------------------------

    def finish(self) -> bytes:
        styles = self.document.styles
        for settings, paragraphs in self._formats.items():
            # python-hwpx finds or makes the paraPr paragraph by paragraph; paragraphs that start from the same
            # paraPr end on the same one: ask for one of each, then point the others at its answer
            by_start: dict[str, list] = {}
            for paragraph in paragraphs:
                by_start.setdefault(paragraph.para_pr_id_ref, []).append(paragraph)
            for first, *others in by_start.values():
                styles.apply_paragraph_format(paragraphs=[first], **dict(settings))
                for paragraph in others:
                    paragraph.para_pr_id_ref = first.para_pr_id_ref
        self._tidy_header_and_footer()
        return self.document.to_bytes()

    def _tidy_header_and_footer(self):
        """python-hwpx writes the page number twice (an automatic number and a page-number control, which 한글
        would print as well) and keeps a copy of the header and footer inside the section settings, copied over
        the real one on saving: keep the automatic number, write the real header and footer, drop the copy."""
        from hwpx.oxml.section_story import sync_story_mirrors

        for section in self.document.sections:
            for story in (*section.element.iter(HP + "footer"), *section.element.iter(HP + "header")):
                for number in list(story.iter(HP + "pageNum")):
                    control = number.getparent()
                    run = control.getparent()
                    run.remove(control)
                    if len(run) == 0:
                        run.getparent().remove(run)
            sync_story_mirrors(section)
            for settings in section.element.iter(HP + "secPr"):
                for child in list(settings):
                    if child.tag in (HP + "header", HP + "footer", HP + "headerApply", HP + "footerApply"):
                        settings.remove(child)
            section.mark_dirty()
