"""Building blocks for Excel files (openpyxl). Pure: rows in, .xlsx bytes out.

Text that begins with = + - @ is written as text, never as a formula, and with Excel's quote prefix (the cell
shows the text and editing it keeps it text): a name or note imported from a spreadsheet must not come back to
life when the city opens the export and touches the cell (CSV/formula injection).
"""
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill

FORMULA_START = ("=", "+", "-", "@")
HEADER_FILL = PatternFill("solid", fgColor="E7ECF3")


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


def new_workbook(title: str):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    workbook.properties.creator = "conference"
    return workbook, sheet


def add_table(sheet, start_row: int, title: str, headers: list[str], rows) -> int:
    """A titled table from ``start_row``; returns the next free row (one blank line after)."""
    put(sheet.cell(row=start_row, column=1), title)
    sheet.cell(row=start_row, column=1).font = Font(bold=True, size=12)
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=start_row + 1, column=column)
        put(cell, header)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    row_number = start_row + 2
    for values in rows:
        for column, value in enumerate(values, start=1):
            put(sheet.cell(row=row_number, column=column), value)
        row_number += 1
    return row_number + 1


def to_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
