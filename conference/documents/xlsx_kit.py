"""Building blocks for Excel files (openpyxl). Pure: rows in, .xlsx bytes out.

Text that begins with = + - @ is written as text, never as a formula, and with Excel's quote prefix (the cell
shows the text and editing it keeps it text): a name or note imported from a spreadsheet must not come back to
life when the city opens the export and touches the cell (CSV/formula injection).
"""
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.indexed_list import IndexedList

FORMULA_START = ("=", "+", "-", "@")
HEADER_FILL = PatternFill("solid", fgColor="E7ECF3")
TOTAL_FILL = PatternFill("solid", fgColor="F2F4F7")
THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
#: Number formats of figures: whole counts with thousands separators, rates stored as fractions (0.87 → 87%).
COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0%"


def put(cell: Cell, value) -> None:
    """Write a value; strings always stay strings, without the control characters a cell cannot hold, and those
    Excel could read as a formula carry the quote prefix."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.lstrip().startswith(FORMULA_START):
            cell.quotePrefix = True


def new_workbook(title: str, *, font: str | None = None, author: str = "conference"):
    """A workbook with one sheet; ``font`` becomes the workbook's default font (Excel's Normal style), so that every
    cell, empty ones included, is drawn in it instead of the theme's Calibri."""
    workbook = Workbook()
    if font:
        # openpyxl has no public setter for the default font: it is font 0 and the Normal style's font.
        default = Font(name=font, size=10)
        workbook._fonts = IndexedList([default])
        workbook._named_styles["Normal"].font = default
    sheet = workbook.active
    sheet.title = title[:31]
    workbook.properties.creator = author[:255]
    return workbook, sheet


def add_line(sheet, row: int, text: str, **font) -> None:
    """A line of text in the first column (a title, the 작성 line), in the workbook's font with ``font``'s changes."""
    cell = sheet.cell(row=row, column=1)
    put(cell, text)
    cell.font = _font(sheet, **font)


def _font(sheet, **attributes) -> Font:
    """A font in the workbook's default face (bold, larger …): an explicit cell font replaces the default whole."""
    return Font(name=sheet.parent._fonts[0].name, **attributes)


def add_table(sheet, start_row: int, title: str, headers: list[str], rows, *, total=None, borders: bool = False,
              figures: bool = False) -> int:
    """A titled table from ``start_row``; returns the next free row (one blank line after).

    ``total`` is a last row in bold (합계); ``borders`` draws thin lines round every cell of the table; with
    ``figures`` whole numbers are counts (``#,##0``) and floats rates stored as fractions (``0%``).
    """
    put(sheet.cell(row=start_row, column=1), title)
    sheet.cell(row=start_row, column=1).font = _font(sheet, bold=True, size=12)
    bold = _font(sheet, bold=True)
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=start_row + 1, column=column)
        put(cell, header)
        cell.font, cell.fill = bold, HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        if borders:
            cell.border = GRID
    row_number = start_row + 2
    lines = [(values, False) for values in rows] + ([(total, True)] if total is not None else [])
    for values, is_total in lines:
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=column)
            put(cell, value)
            if figures and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = RATE_FORMAT if isinstance(value, float) else COUNT_FORMAT
            if borders:
                cell.border = GRID
            if is_total:
                cell.font, cell.fill = bold, TOTAL_FILL
        row_number += 1
    return row_number + 1


def set_print_layout(sheet, *, landscape: bool, title_rows: str, freeze_at: str | None = None) -> None:
    """A4, fitted to one page wide, ``title_rows`` ("1:3") repeated on every printed page, page numbers in the
    footer, and rows above ``freeze_at`` ("A7") kept in view while scrolling."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = title_rows
    sheet.oddFooter.center.text = "&P / &N"
    if freeze_at:
        sheet.freeze_panes = freeze_at


def to_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
