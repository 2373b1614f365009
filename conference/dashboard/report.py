"""분기별 실적: the figures of a period as an Excel workbook and a Word document. Pure builders over plain data.

Figures are ints (counts) and floats (rates as fractions, 0.87): the Excel file gives them ``#,##0`` and ``0%``, the
Word file writes them "1,234" and "87%", right-aligned.
"""
from dataclasses import dataclass
from datetime import date, datetime

from conference.core.formatting import korean_date
from conference.documents import docx_kit, hwpx_kit, xlsx_kit

#: The sheet's first rows: title, 기간, 작성 line; they repeat on every printed page.
HEADING_ROWS = 3
FIRST_TABLE_ROW = HEADING_ROWS + 2
#: Word: the width between the margins of an A4 page, and of a table's label column (기관명 on one line).
PAGE_MM, LABEL_MM = 170, 60


@dataclass
class ReportTable:
    title: str
    headers: list[str]
    rows: list[tuple]
    #: The 합계 row, label first; None for a table without one.
    total: tuple | None = None


@dataclass
class PeriodReport:
    title: str
    year: int
    quarter: int | None
    start: date
    end: date
    #: 기준일: the day every figure is counted as of (the period's last day, or the download day while it runs).
    as_of: date
    #: 작성기관
    author: str
    #: 작성일: the download day.
    written_on: date
    tables: list[ReportTable]

    @property
    def ascii_name(self) -> str:
        """The file name for clients that cannot read the Korean one: report-2021-Q1, report-2021."""
        return f"report-{self.year}" + (f"-Q{self.quarter}" if self.quarter else "")

    @property
    def period_line(self) -> str:
        return f"기간: {korean_date(self.start)} ~ {korean_date(self.end)}"

    @property
    def written_line(self) -> str:
        return (f"작성기관: {self.author} · 작성일: {korean_date(self.written_on)} · "
                f"기준일: {korean_date(self.as_of)}")


def _is_figure(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.0%}"
    if _is_figure(value):
        return f"{value:,}"
    return str(value)


def build_xlsx(report: PeriodReport, *, font: str) -> bytes:
    """One sheet: the heading rows (repeated when printed), then each table with borders, figures formatted and a
    합계 row; A4 landscape one page wide; the first table's header stays in view while scrolling."""
    workbook, sheet = xlsx_kit.new_workbook("분기별 실적", font=font, author=report.author)
    xlsx_kit.add_line(sheet, 1, report.title, bold=True, size=14)
    xlsx_kit.add_line(sheet, 2, report.period_line)
    xlsx_kit.add_line(sheet, 3, report.written_line)
    row = FIRST_TABLE_ROW
    for table in report.tables:
        row = xlsx_kit.add_table(sheet, row, table.title, table.headers, table.rows, total=table.total,
                                 borders=True, figures=True)
    sheet.column_dimensions["A"].width = 30
    for column in "BCDEF":
        sheet.column_dimensions[column].width = 13
    xlsx_kit.set_print_layout(sheet, landscape=True, title_rows=f"1:{HEADING_ROWS}",
                              freeze_at=f"A{FIRST_TABLE_ROW + 2}")
    return xlsx_kit.to_bytes(workbook)


def build_docx(report: PeriodReport, *, font: str, generated_at: datetime) -> bytes:
    return write_report(report, _writer(docx_kit.DocxWriter, report, font, generated_at))


def build_hwpx(report: PeriodReport, *, font: str, generated_at: datetime) -> bytes:
    return write_report(report, _writer(hwpx_kit.HwpxWriter, report, font, generated_at))


def _writer(kind, report: PeriodReport, font: str, generated_at: datetime):
    return kind(font=font, title=report.title, author=report.author, header_mark="통계 자료 · 개인정보 없음",
                subject="분기별 실적", created=generated_at)


def write_report(report: PeriodReport, writer) -> bytes:
    """The title, 기간 / 기준일 / 작성기관 / 작성일, then each table with its figures right-aligned and a bold 합계 row,
    in any format's writer."""
    writer.heading(report.title, level=0)
    writer.facts([("기간", f"{korean_date(report.start)} ~ {korean_date(report.end)}"),
                  ("기준일", korean_date(report.as_of)), ("작성기관", report.author),
                  ("작성일", korean_date(report.written_on))])
    for table in report.tables:
        writer.heading(table.title, level=1)
        lines = [*table.rows, *([table.total] if table.total is not None else [])]
        figures = len(table.headers) - 1
        writer.table(table.headers, [[_text(v) for v in line] for line in lines],
                     widths_mm=[LABEL_MM] + [(PAGE_MM - LABEL_MM) / figures] * figures,
                     right={i for line in lines for i, v in enumerate(line) if _is_figure(v)},
                     bold_last_row=table.total is not None)
    return writer.finish()
