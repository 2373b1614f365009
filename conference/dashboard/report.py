"""분기별 실적: the figures of a period as an Excel workbook and a Word document. Pure builders over plain data."""
from dataclasses import dataclass
from datetime import date, datetime

from conference.core.formatting import korean_date
from conference.documents import docx_kit, xlsx_kit


@dataclass
class ReportTable:
    title: str
    headers: list[str]
    rows: list[tuple]


@dataclass
class PeriodReport:
    title: str
    start: date
    end: date
    author: str
    tables: list[ReportTable]


def build_xlsx(report: PeriodReport) -> bytes:
    workbook, sheet = xlsx_kit.new_workbook("분기별 실적")
    xlsx_kit.put(sheet.cell(row=1, column=1), report.title)
    xlsx_kit.put(sheet.cell(row=2, column=1), f"기간: {korean_date(report.start)} ~ {korean_date(report.end)}")
    row = 4
    for table in report.tables:
        row = xlsx_kit.add_table(sheet, row, table.title, table.headers, table.rows)
    sheet.column_dimensions["A"].width = 28
    for column in "BCDEFGHIJ":
        sheet.column_dimensions[column].width = 12
    return xlsx_kit.to_bytes(workbook)


def build_docx(report: PeriodReport, *, font: str, generated_at: datetime) -> bytes:
    document = docx_kit.new_document(font=font, title=report.title, author=report.author,
                                     header_mark="통계 자료 · 개인정보 없음", subject="분기별 실적", created=generated_at)
    docx_kit.add_heading(document, report.title, level=0)
    docx_kit.add_paragraph(document, f"기간: {korean_date(report.start)} ~ {korean_date(report.end)}")
    for table in report.tables:
        docx_kit.add_heading(document, table.title, level=1)
        docx_kit.add_table(document, table.headers, [[str(v) for v in row] for row in table.rows])
    return docx_kit.to_bytes(document)
