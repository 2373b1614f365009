"""Importing the quarterly discovery list: reading, checking, repeats, merging and the command."""
import io
import re
import tracemalloc
import warnings
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from conference.cases.cli import register_commands
from conference.cases.importer import (
    COLUMNS,
    ImportRow,
    parse_extraction,
    parse_with_config,
    rows_from_json,
    rows_to_json,
)
from conference.cases.imports import Repeat, find_repeats, import_rows
from conference.cases.reading import ReadLimits, cell_text, read_table
from conference.cases.services import HeadOfHousehold, register_household
from conference.config import Defaults
from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import AuditEvent, CaseNumberCounter, Household, Member
from conference.shared.rules import RuleError

import hostile_uploads as hostile

# The five rows of /work/shared/samples/households-extraction.csv, copied so the tests never depend
# on that path. Note: the sample's last row says "이웃 제보", which is not a configured discovery route
# ("이웃·주민 제보"), so the verbatim sample is refused with one error; GOOD_CSV corrects that route.
SAMPLE_CSV = """추출회차,행정동,성명,생년월일,성별,연락처,주소,가구원수,위기정보,발굴경로,비고
2021-1,중앙동,김민수,1968-03-02,남,010-2345-6789,경기도 동두천시 중앙로 101 2층,3,단전;건강보험료 체납,복지사각지대 발굴시스템,
2021-1,생연1동,이영희,1975-11-20,여,010-3456-7890,경기도 동두천시 생연로 55,4,단수;통신비 체납,복지사각지대 발굴시스템,자녀 2명(초등)
2021-1,보산동,박철호,1952-07-14,남,,경기도 동두천시 보산로 12-3,1,공동주택 관리비 체납,복지사각지대 발굴시스템,독거
2021-1,불현동,최은정,1983-01-05,여,010-4567-8901,경기도 동두천시 불현로 8,2,금융 연체;실직,찾아가는 복지상담,한부모
2021-1,소요동,정대현,1990-09-30,남,010-5678-9012,경기도 동두천시 소요로 230,1,건강보험료 체납,이웃 제보,
"""
GOOD_CSV = SAMPLE_CSV.replace(",이웃 제보,", ",이웃·주민 제보,")
HEADER = SAMPLE_CSV.splitlines()[0]
ROW1 = GOOD_CSV.splitlines()[1]
TODAY = date(2026, 3, 15)
HANGUL = re.compile(r"[가-힣]")


LIMITS = ReadLimits.from_config(vars(Defaults))


def parse(data, filename="list.csv", **overrides):
    """``parse_extraction`` with the default settings; ``max_rows=3`` and the like change one limit."""
    limits = {name: overrides.pop(name) for name in list(overrides) if name in ReadLimits.__dataclass_fields__}
    options = {"districts": Defaults.DISTRICTS, "routes": Defaults.DISCOVERY_ROUTES,
               "extraction_route": Defaults.EXTRACTION_ROUTE, "limits": replace(LIMITS, **limits), "today": TODAY}
    options.update(overrides)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return parse_extraction(data, filename, **options)


def csv_text(*rows, header=HEADER):
    return "\n".join([header, *rows]) + "\n"


def with_row(**changes):
    """The first good row with some cells replaced, as a one-row CSV."""
    cells = ROW1.split(",")
    for column, value in changes.items():
        cells[COLUMNS.index(column)] = value
    return csv_text(",".join(cells))


def xlsx_bytes(rows, header=COLUMNS):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def where(parsed):
    return [(e.row, e.column) for e in parsed.errors]


def household_count():
    return db.session.execute(select(func.count(Household.id))).scalar_one()


def audit_actions():
    return [a for a in db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
            if a.startswith("household.")]


@pytest.fixture
def cli(app, runner):
    if "import-households" not in app.cli.commands:
        register_commands(app)

    def invoke(*args):
        db.session.commit()  # end the test's own transaction: SQLite lets one writer at a time
        result = runner.invoke(args=["import-households", *map(str, args)])
        db.session.expire_all()
        return result

    return invoke


# --- Reading: formats and encodings ---

def test_verbatim_sample_reads_with_the_configured_route_aliases():
    parsed = parse(SAMPLE_CSV, route_aliases=Defaults.DISCOVERY_ROUTE_ALIASES)
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert [r.row for r in parsed.rows] == [2, 3, 4, 5, 6]
    assert parsed.rows[4].discovery_route == "이웃·주민 제보"  # the sample writes "이웃 제보"


def test_an_unknown_route_spelling_is_refused_with_a_suggestion():
    parsed = parse(SAMPLE_CSV)  # no aliases configured
    assert where(parsed) == [(6, "발굴경로")]
    message = parsed.errors[0].text
    assert "'이웃 제보'" in message and "'이웃·주민 제보'을(를) 뜻했나요?" in message
    assert [r.row for r in parsed.rows] == [2, 3, 4, 5]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_sample_reads_in_every_csv_encoding(encoding):
    parsed = parse(GOOD_CSV.encode(encoding))
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert parsed.source_format == f"csv-{encoding}"
    assert parsed.warnings == []
    assert [r.name for r in parsed.rows] == ["김민수", "이영희", "박철호", "최은정", "정대현"]
    first = parsed.rows[0]
    assert first == ImportRow(row=2, extraction_round="2021-1", district="중앙동", name="김민수", birth_year=1968,
                              birth_date=date(1968, 3, 2), sex="남", phone="010-2345-6789",
                              address="경기도 동두천시 중앙로 101 2층", household_size=3,
                              crisis_signals=["단전", "건강보험료 체납"], discovery_route="복지사각지대 발굴시스템",
                              note="")
    assert parsed.rows[2].phone == "" and parsed.rows[2].note == "독거"
    assert parsed.rows[4].discovery_route == "이웃·주민 제보" and parsed.rows[4].extraction_round == "2021-1"


def test_crlf_line_ends_and_quoted_commas_read():
    text = GOOD_CSV.replace("경기도 동두천시 중앙로 101 2층", '"경기도 동두천시 중앙로 101, 2층"').replace("\n", "\r\n")
    parsed = parse(text)
    assert parsed.ok
    assert parsed.rows[0].address == "경기도 동두천시 중앙로 101, 2층"


def test_sample_reads_as_xlsx_with_numbers_and_dates_as_text():
    rows = [line.split(",") for line in GOOD_CSV.splitlines()[1:]]
    typed = []
    for cells in rows:
        cells = [c or None for c in cells]
        cells[3] = datetime.fromisoformat(cells[3])  # a real date cell
        cells[7] = float(cells[7])  # Excel numbers are floats: 3.0
        typed.append(cells)
    parsed = parse(xlsx_bytes(typed), "명단.xlsx")
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert parsed.source_format == "xlsx"
    assert parsed.rows == parse(GOOD_CSV).rows


def test_xlsx_is_recognised_by_content_not_name_and_empty_rows_keep_numbering():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    sheet.append(ROW1.split(","))
    sheet["A4"] = "2021-1"  # row 3 stays empty
    for column, value in zip("BCDEFGHIJK", ROW1.split(",")[1:], strict=True):
        sheet[f"{column}4"] = value
    sheet["C4"] = "홍길동"
    sheet["H4"] = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse(buffer.getvalue(), "misnamed.csv")
    assert where(parsed) == [(4, "가구원수")]
    assert [r.row for r in parsed.rows] == [2]


def test_xlsx_formula_cell_is_read_as_its_text_never_evaluated():
    data_row = ROW1.split(",")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    sheet.append(data_row)
    sheet["K2"] = '=HYPERLINK("http://x")'
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse(buffer.getvalue(), "list.xlsx")
    assert parsed.ok
    assert parsed.rows[0].note == '=HYPERLINK("http://x")'
    assert [(w.row, w.column, w.text) for w in parsed.warnings] == [
        (2, "비고", "수식처럼 보이는 값은 글자 그대로 저장합니다.")]


def test_formulas_in_free_text_columns_are_kept_verbatim_with_a_warning():
    parsed = parse(with_row(비고="=1+2", 주소="+82 경기도 동두천시", 위기정보="@단전"))
    assert parsed.ok
    row = parsed.rows[0]
    assert (row.note, row.address, row.crisis_signals) == ("=1+2", "+82 경기도 동두천시", ["@단전"])
    assert sorted(w.column for w in parsed.warnings) == ["비고", "위기정보", "주소"]
    assert all("수식처럼 보이는 값은 글자 그대로 저장합니다" in w.text for w in parsed.warnings)


def test_formula_stored_verbatim_in_the_database(app, coordinator):
    parsed = parse(with_row(비고='=HYPERLINK("http://x")', 주소="-1 경기도 동두천시"))
    [household] = import_rows(parsed.rows, {}, by=coordinator, discovered_on=TODAY).created
    db.session.commit()
    stored = db.session.get(Household, household.id)
    assert stored.note == '=HYPERLINK("http://x")' and stored.address == "-1 경기도 동두천시"


def test_formula_in_name_is_an_error():
    parsed = parse(with_row(성명="=김민수"))
    assert where(parsed) == [(2, "성명")]
    assert "=, +, -, @" in parsed.errors[0].text


def test_other_accepted_spellings_of_birth_date_sex_and_round():
    parsed = parse(csv_text(
        ROW1.replace("1968-03-02", "1968.03.02"),
        ROW1.replace("1968-03-02", "19680302").replace(",남,", ",남자,"),
        ROW1.replace("1968-03-02", "1968. 3. 2."),
        ROW1.replace("1968-03-02", "1968").replace("2021-1,", "2021-01,"),
    ))
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert [r.birth_date for r in parsed.rows] == [date(1968, 3, 2)] * 3 + [None]
    assert all(r.birth_year == 1968 for r in parsed.rows)
    assert parsed.rows[1].sex == "남"
    assert parsed.rows[3].extraction_round == "2021-1"


def test_round_is_optional_for_other_routes():
    parsed = parse(with_row(추출회차="", 발굴경로="본인 신청"))
    assert parsed.ok and parsed.rows[0].extraction_round == ""


def test_json_round_trip_between_preview_and_confirm():
    rows = parse(GOOD_CSV).rows
    restored = rows_from_json(rows_to_json(rows))
    assert restored == rows
    assert rows[0].to_json()["birth_date"] == "1968-03-02"
    assert ImportRow.from_json(rows[0].to_json()) == rows[0]


# --- Reading: every kind of bad input ---

RRN = "680302-1234567"

BAD_INPUTS = {
    "utf16-bytes": (b"\xff\xfe\x00garbage", [(0, "")], "UTF-16"),
    "undecodable-bytes": (b"\x80\xff\xfe garbage \xff", [(0, "")], "인코딩"),
    "missing-column": (csv_text(ROW1.replace(",남,", ","), header=HEADER.replace(",성별", "")),
                       [(1, "성별")], "'성별' 열이 없습니다"),
    "renamed-column": (GOOD_CSV.replace("성명", "이름", 1), [(1, "이름"), (1, "성명")], "'성명' 열이 없습니다"),
    "bad-date": (with_row(생년월일="1968-02-30"), [(2, "생년월일")], "달력에 없는 날짜"),
    "bad-date-format": (with_row(생년월일="03/02/1968"), [(2, "생년월일")], "YYYY-MM-DD"),
    "future-date": (with_row(생년월일="2030-01-01"), [(2, "생년월일")], "오늘보다 뒤"),
    "too-old": (with_row(생년월일="1899"), [(2, "생년월일")], "1900년 이후"),
    "rrn-birth": (with_row(생년월일=RRN), [(2, "생년월일")], "주민등록번호는 저장할 수 없습니다"),
    "rrn-note": (with_row(비고=f"주민번호 {RRN.replace('-', '')} 확인"), [(2, "비고")], "주민등록번호는 저장할 수 없습니다"),
    "empty-file": (b"", [(0, "")], "비어 있습니다"),
    "blank-lines-only": (b"\r\n\r\n", [(0, "")], "비어 있습니다"),
    "header-only": (HEADER + "\n", [(0, "")], "데이터 행이 없습니다"),
    "size-zero": (with_row(가구원수="0"), [(2, "가구원수")], "1에서 30 사이"),
    "size-abc": (with_row(가구원수="abc"), [(2, "가구원수")], "1에서 30 사이"),
    "size-too-big": (with_row(가구원수="31"), [(2, "가구원수")], "1에서 30 사이"),
    "district": (with_row(행정동="강남동"), [(2, "행정동")], "설정된 행정동이 아닙니다"),
    "route": (with_row(발굴경로="길거리 발견"), [(2, "발굴경로")], "설정된 발굴경로가 아닙니다"),
    "round-missing": (with_row(추출회차=""), [(2, "추출회차")], "추출회차가 필요합니다"),
    "round-format": (with_row(추출회차="2021-13"), [(2, "추출회차")], "연도-회차"),
    "name-missing": (with_row(성명=""), [(2, "성명")], "비어 있습니다"),
    "name-too-long": (with_row(성명="김" * 51), [(2, "성명")], "50자"),
    "sex": (with_row(성별="M"), [(2, "성별")], "'남'이나 '여'"),
    "phone": (with_row(연락처="010-2345-678x"), [(2, "연락처")], "숫자 9~13자리"),
    "phone-short": (with_row(연락처="010-234"), [(2, "연락처")], "숫자 9~13자리"),
    "address-missing": (with_row(주소=""), [(2, "주소")], "비어 있습니다"),
    "address-too-long": (with_row(주소="가" * 201), [(2, "주소")], "200자"),
    "note-too-long": (with_row(비고="가" * 1001), [(2, "비고")], "1000자"),
    "unquoted-comma": (with_row(주소="중앙로 101, 2층"), [(2, "")], "큰따옴표"),
    "xls-signature": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, [(0, "")], ".xlsx"),
    "broken-xlsx": (b"PK\x03\x04 not really a zip", [(0, "")], "엑셀 파일(.xlsx)을 열 수 없습니다"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_gives_located_korean_errors(case):
    data, expected, fragment = BAD_INPUTS[case]
    parsed = parse(data)
    assert not parsed.ok
    assert where(parsed) == expected, [str(e) for e in parsed.errors]
    assert fragment in parsed.errors[-1].text or fragment in parsed.errors[0].text
    assert all(HANGUL.search(e.text) for e in parsed.errors)
    assert parsed.rows == []


@pytest.mark.parametrize("case", ["rrn-birth", "rrn-note"])
def test_rrn_is_kept_nowhere(case):
    parsed = parse(BAD_INPUTS[case][0])
    everything = " ".join([str(e) for e in parsed.errors + parsed.warnings] + [repr(parsed.rows)])
    assert "1234567" not in everything and "680302" not in everything


def test_rrn_in_an_xlsx_number_cell_and_in_a_header():
    cells = ROW1.split(",")
    cells[COLUMNS.index("연락처")] = 6803021234567  # typed as a number
    parsed = parse(xlsx_bytes([cells]))
    assert where(parsed) == [(2, "연락처")] and "주민등록번호" in parsed.errors[0].text
    header_rrn = parse(GOOD_CSV.replace("비고", RRN, 1))
    assert "1234567" not in " ".join(str(e) for e in header_rrn.errors)


def test_an_extra_column_is_an_error_and_the_rows_are_still_checked():
    text = GOOD_CSV.replace("비고", "비고,메모", 1).replace("자녀 2명(초등)", f"자녀 2명(초등),{RRN}")
    text = text.replace("1952-07-14", "1952-13-01")
    parsed = parse(text)
    assert where(parsed) == [(1, "메모"), (3, "메모"), (4, "생년월일")]
    assert "1234567" not in " ".join(str(e) for e in parsed.errors)


def test_file_over_the_limit_names_the_real_limit():
    assert [e.text for e in parse(b"x" * (5 * 1024 * 1024 + 1)).errors] == ["파일이 너무 큽니다 (최대 5MB)."]
    assert [e.text for e in parse(GOOD_CSV, max_bytes=100).errors] == ["파일이 너무 큽니다 (최대 100B)."]


def test_all_errors_are_collected_not_just_the_first():
    bad = ROW1.split(",")
    bad[COLUMNS.index("행정동")] = "강남동"
    bad[COLUMNS.index("가구원수")] = "0"
    parsed = parse(csv_text(",".join(bad), ROW1, ROW1.replace("1968-03-02", "2030-01-01").replace(",3,", ",x,")))
    assert where(parsed) == [(2, "행정동"), (2, "가구원수"), (4, "생년월일"), (4, "가구원수")]
    assert [r.row for r in parsed.rows] == [3]


def test_too_many_rows():
    assert parse(csv_text(ROW1, ROW1, ROW1), max_rows=3).ok
    parsed = parse(csv_text(ROW1, ROW1, ROW1, ROW1), max_rows=3)
    assert where(parsed) == [(0, "")] and "최대 3행" in parsed.errors[0].text


def test_default_row_limit_is_twenty_thousand():
    parsed = parse(csv_text(*[ROW1] * 20_001))
    assert [e.text for e in parsed.errors] == ["행이 너무 많습니다 (최대 20,000행). 파일을 나누어 올려 주세요."]


# --- Reading an .xlsx: the values openpyxl's reader gives, streamed ---

def openpyxl_rows(data: bytes) -> list[tuple[int, list[str]]]:
    """The oracle: the first worksheet as openpyxl reads it (the importer's reader before reading.py), as text rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # styles it skips, dates out of range it reads as #VALUE!
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            rows = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [cell_text(value) for value in values]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    rows.append((number, cells))
            return rows
        finally:
            book.close()


def streamed_rows(data: bytes, **limits) -> list[tuple[int, list[str]]]:
    return list(read_table(data, replace(LIMITS, **limits), [])[1])


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
XF = 'fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'


def excel_style_xlsx(rows_xml: str, strings: list[str], *, date1904=False, prefix="") -> bytes:
    """A workbook as Excel writes it (shared strings, styles with a custom date format), assembled part by part.

    ``strings`` are ``<si>`` contents; ``prefix`` puts the spreadsheet namespace under a prefix (x:row …).
    Cell styles: 0 general, 1 a built-in date (14), 2 a custom Korean date (164), 3 a duration (46), 4 text (49).
    """
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN_NS}"'
    rows_xml = re.sub(r"<(/?)(row|c|v|f|is|t|r|rPh)\b", rf"<\1{p}\2", rows_xml)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT_TYPE}sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CONTENT_TYPE}worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CONTENT_TYPE}sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CONTENT_TYPE}styles+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{REL_NS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<{p}workbook {ns} xmlns:r="{REL_NS}"><{p}workbookPr date1904="{int(date1904)}"/><{p}sheets>'
            f'<{p}sheet name="명단" sheetId="1" r:id="rId1"/></{p}sheets></{p}workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="/xl/sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'<{p}styleSheet {ns}><{p}numFmts count="1"><{p}numFmt numFmtId="164" '
            f'formatCode="yyyy&quot;년&quot; m&quot;월&quot; d&quot;일&quot;"/></{p}numFmts>'
            f'<{p}fonts count="1"><{p}font/></{p}fonts><{p}fills count="1"><{p}fill><{p}patternFill patternType="none"/></{p}fill></{p}fills>'
            f'<{p}borders count="1"><{p}border/></{p}borders>'
            f'<{p}cellStyleXfs count="1"><{p}xf numFmtId="14" {XF}/></{p}cellStyleXfs><{p}cellXfs count="5">'
            + "".join(f'<{p}xf numFmtId="{number}" {XF}/>' for number in (0, 14, 164, 46, 49))
            + f'</{p}cellXfs></{p}styleSheet>'),
        "xl/sharedStrings.xml": (
            f'<{p}sst {ns} count="{len(strings)}">'
            + "".join(re.sub(r"<(/?)(si|t|r|rPh|rPr|b)\b", rf"<\1{p}\2", f"<si>{s}</si>") for s in strings)
            + f"</{p}sst>"),
        "xl/worksheets/sheet1.xml": (
            f'<{p}worksheet {ns}><{p}dimension ref="A1:K9"/><{p}sheetData>{rows_xml}</{p}sheetData>'
            f'<{p}mergeCells count="1"><{p}mergeCell ref="M1:N1"/></{p}mergeCells></{p}worksheet>'),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


#: The sample's first row as Excel stores it: text in the shared-string table, the birth date as a date serial,
#: the household size as a number; then rows of every other kind of cell.
SHARED = [f"<t>{column}</t>" for column in COLUMNS] + [
    "<t>2021-1</t>", "<t>중앙동</t>", "<t>김민수</t>", "<t>남</t>", "<t>010-2345-6789</t>",
    "<t xml:space=\"preserve\"> 경기도 동두천시 중앙로 101 2층 </t>",
    "<r><rPr><b/></rPr><t>단전</t></r><r><t>;건강보험료 체납</t></r><rPh sb=\"0\" eb=\"2\"><t>だんでん</t></rPh>",
    "<t>복지사각지대 발굴시스템</t>", "<t>a_x005F_x000D_b</t>"]
EXCEL_ROWS = (
    '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(11)) + "</row>"
    '<row r="2"><c r="A2" t="s"><v>11</v></c><c r="B2" t="s"><v>12</v></c><c r="C2" t="s"><v>13</v></c>'
    '<c r="D2" s="1"><v>24899</v></c><c r="E2" t="s"><v>14</v></c><c r="F2" t="s"><v>15</v></c>'
    '<c r="G2" t="s"><v>16</v></c><c r="H2"><v>3</v></c><c r="I2" t="s"><v>17</v></c>'
    '<c r="J2" t="s"><v>18</v></c><c r="K2" s="4"/></row>'
    '<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="e"><v>#N/A</v></c><c r="C4" t="str"><f>"x"&amp;"y"</f>'
    '<v>xy</v></c><c r="D4" s="2"><v>44197.5</v></c><c r="E4" s="3"><v>1.25</v></c><c r="F4"><v>1.5</v></c>'
    '<c r="G4"><v>6803021234567</v></c><c r="H4" t="d"><v>2021-03-04T05:06:07</v></c><c r="I4" t="s"><v>19</v></c>'
    '<c r="J4" t="inlineStr"><is><r><t>굵게</t></r><r><t> 보통</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c></row>'
    '<row><c r="A5"><f t="shared" ref="A5:A6" si="0">B5+1</f><v>2</v></c><c><v>1E3</v></c></row>'
    '<row r="6"><c r="A6"><f t="shared" si="0"/><v>3</v></c><c r="C6" s="1"><v>0.75</v></c>'
    '<c r="D6" t="s"><v>19</v></c></row>'
    '<row r="9" spans="1:11" customFormat="1"/>')


@pytest.mark.parametrize("prefix", ["", "x"])
def test_excel_style_workbook_reads_as_openpyxl_reads_it(prefix):
    data = excel_style_xlsx(EXCEL_ROWS, SHARED, prefix=prefix)
    rows = streamed_rows(data)
    assert rows == openpyxl_rows(data)
    assert rows[1] == (2, ["2021-1", "중앙동", "김민수", "1968-03-02", "남", "010-2345-6789",
                           "경기도 동두천시 중앙로 101 2층", "3", "단전;건강보험료 체납", "복지사각지대 발굴시스템"])
    assert rows[2] == (4, ["TRUE", "#N/A", '="x"&"y"', "2021-01-01", "1 day, 6:00:00", "1.5", "6803021234567",
                           "2021-03-04", "a_x000D_b", "굵게 보통"])
    assert rows[3:] == [(5, ["=B5+1", "1000"]), (6, ["=B6+1", "", "18:00:00", "a_x000D_b"])]


def test_excel_style_workbook_imports():
    parsed = parse(excel_style_xlsx(EXCEL_ROWS.split("<row r=\"4\">")[0], SHARED), "명단.xlsx")
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert parsed.rows == parse(GOOD_CSV).rows[:1]


def test_dates_of_a_1904_workbook():
    rows = '<row r="1"><c r="A1" s="1"><v>1</v></c><c r="B1" s="1"><v>366</v></c></row>'
    data = excel_style_xlsx(rows, [], date1904=True)
    assert streamed_rows(data) == openpyxl_rows(data) == [(1, ["1904-01-02", "1905-01-01"])]
    assert streamed_rows(excel_style_xlsx(rows, [])) == [(1, ["1900-01-01", "1900-12-31"])]


# --- Upload limits: hostile files are refused before they cost anything ---

@pytest.mark.parametrize("build, message", [
    (hostile.row_far_below, "행이 너무 많습니다 (빈 행을 포함해 최대 25,000행). 명단 아래의 빈 행을 지우거나 파일을 나누어 "
                            "올려 주세요."),
    (lambda: hostile.row_far_below(declared=False), "행이 너무 많습니다 (빈 행을 포함해 최대 25,000행)."),
    (hostile.wide_row, "엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 32MB)."),
    (lambda: hostile.wide_row(20_000), "2행 열이 너무 많습니다 (한 행에 최대 50칸). 양식에 없는 열을 지운 뒤 다시 올려 주세요."),
    (hostile.gigabyte_part, "엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 32MB)."),
    (hostile.zip_bomb, "엑셀 파일이 보통 파일보다 지나치게 많이 압축되어 있습니다 (최대 100배)."),
    (hostile.understated_part, "엑셀 파일(.xlsx)을 열 수 없습니다."),
    (hostile.many_sheets, "시트가 너무 많습니다 (최대 5개). 명단이 있는 시트만 남겨 저장한 뒤 다시 올려 주세요."),
    (hostile.many_parts, "엑셀 파일을 이루는 부분이 너무 많습니다 (최대 100개)."),
    (hostile.entity_expansion, "엑셀 파일(.xlsx)을 열 수 없습니다."),
    (hostile.csv_far_below, "행이 너무 많습니다 (빈 행을 포함해 최대 25,000행)."),
    (hostile.csv_wide_row, "2행 열이 너무 많습니다 (한 행에 최대 50칸)."),
], ids=["row-20-million", "row-20-million-undeclared", "two-million-cells", "twenty-thousand-cells", "gigabyte-part",
        "zip-bomb", "understated-part", "ten-sheets", "many-parts", "entity-expansion", "csv-far-below",
        "csv-wide-row"])
def test_hostile_file_is_refused_with_the_limit_and_little_memory(build, message):
    data = build()
    tracemalloc.start()
    try:
        parsed = parse(data, "list.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [str(e) for e in parsed.errors] == [str(parsed.errors[0])] and str(parsed.errors[0]).startswith(message)
    assert parsed.file_problem and parsed.rows == []
    assert peak < 300 * 1024 * 1024  # the budget; these refusals use about 1 MB (bench/bench_import_limits.py)


def test_the_wide_row_stops_at_its_51st_cell_even_when_the_package_limits_are_raised():
    parsed = parse(hostile.wide_row(), max_part_bytes=1 << 30, max_unpacked_bytes=1 << 30, max_ratio=10_000)
    assert [str(e) for e in parsed.errors] == ["2행 열이 너무 많습니다 (한 행에 최대 50칸). 양식에 없는 열을 지운 뒤 다시 "
                                               "올려 주세요."]


def test_a_declared_size_is_checked_for_every_part_and_in_total():
    names = ("xl/media/a.bin", "xl/media/b.bin", "xl/media/c.bin")
    data = hostile.rezip(hostile.workbook(), dict.fromkeys(names, b"x"))
    for name in names:
        data = hostile.declare_size(data, name, 30 << 20)  # never unpacked, so never found out
    assert [e.text for e in parse(data).errors] == [  # 30MB out of 1 byte
        "엑셀 파일이 보통 파일보다 지나치게 많이 압축되어 있습니다 (최대 100배). 엑셀에서 다시 저장한 뒤 올려 주세요."]
    assert [e.text for e in parse(data, max_ratio=1 << 30).errors] == ["엑셀 파일의 압축을 풀면 너무 큽니다 (최대 64MB)."]
    assert parse(data, max_ratio=1 << 30, max_unpacked_bytes=100 << 20).ok
    assert [e.text for e in parse(data, max_ratio=1 << 30, max_part_bytes=20 << 20).errors] == [
        "엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 20MB)."]


def test_a_row_may_not_reach_past_the_last_allowed_column():
    data = hostile.workbook()
    sheet = hostile.part(data, hostile.SHEET).replace('<c r="K2"', '<c r="AZ2"')
    assert [str(e) for e in parse(hostile.rezip(data, {hostile.SHEET: sheet})).errors] == [
        "2행 열이 너무 많습니다 (한 행에 최대 50칸). 양식에 없는 열을 지운 뒤 다시 올려 주세요."]
    declared = hostile.part(data, hostile.SHEET).replace('<dimension ref="A1:K2"/>', '<dimension ref="A1:XFD2"/>')
    assert [str(e) for e in parse(hostile.rezip(data, {hostile.SHEET: declared})).errors] == [
        "열이 너무 많습니다 (한 행에 최대 50칸). 양식에 없는 열을 지운 뒤 다시 올려 주세요."]


def test_cells_are_counted_over_the_whole_file():
    message = "칸이 너무 많습니다 (서식만 있는 빈 칸을 포함해 최대 30칸). 명단 밖의 칸을 지우거나 파일을 나누어 올려 주세요."
    assert [e.text for e in parse(hostile.workbook(rows=[hostile.ROW] * 2), max_cells=30).errors] == [message]
    assert [e.text for e in parse(csv_text(ROW1, ROW1), max_cells=30).errors] == [message]
    assert parse(csv_text(ROW1), max_cells=33).ok


def test_the_shared_string_table_holds_no_more_entries_than_cells():
    data = excel_style_xlsx(EXCEL_ROWS, SHARED * 2)
    assert [e.text for e in parse(data, max_cells=30).errors] == [
        "칸이 너무 많습니다 (서식만 있는 빈 칸을 포함해 최대 30칸). 명단 밖의 칸을 지우거나 파일을 나누어 올려 주세요."]


def test_a_workbook_with_too_many_xml_elements_is_refused():
    data = hostile.workbook()
    sheet = hostile.part(data, hostile.SHEET).replace("<sheetData>", "<sheetData>" + "<x/>" * 20_000)
    assert [e.text for e in parse(hostile.rezip(data, {hostile.SHEET: sheet}), max_cells=100).errors] == [
        "엑셀 파일의 구조가 너무 복잡합니다 (XML 요소 최대 10,500개). 명단만 새 통합 문서에 붙여 넣어 저장한 뒤 "
        "다시 올려 주세요."]


def test_empty_rows_count_towards_the_row_number_limit():
    assert parse(hostile.csv_far_below(lines=100), max_row_number=102).ok
    parsed = parse(hostile.csv_far_below(lines=100), max_row_number=101)
    assert [e.text for e in parsed.errors] == ["행이 너무 많습니다 (빈 행을 포함해 최대 101행). 명단 아래의 빈 행을 "
                                               "지우거나 파일을 나누어 올려 주세요."]


def test_a_workbook_of_a_few_sheets_is_read_from_its_first_with_a_warning():
    parsed = parse(hostile.many_sheets(5), "list.xlsx")
    assert parsed.ok and [r.name for r in parsed.rows] == ["김민수"]
    assert [str(w) for w in parsed.warnings] == [
        "시트가 5개 있어 첫 워크시트 'Sheet'만 읽었습니다. 다른 시트의 명단은 따로 올려 주세요."]
    assert parse(hostile.workbook(), "list.xlsx").warnings == []


def test_limits_come_from_the_configuration(app):
    app.config.update(IMPORT_MAX_ROW_NUMBER=1, IMPORT_MAX_COLUMNS=11)
    parsed = parse_with_config(GOOD_CSV.encode(), "list.csv", app.config, TODAY)
    assert [e.text for e in parsed.errors] == ["행이 너무 많습니다 (빈 행을 포함해 최대 1행). 명단 아래의 빈 행을 지우거나 "
                                               "파일을 나누어 올려 주세요."]
    assert ReadLimits.from_config(app.config) == replace(LIMITS, max_row_number=1, max_columns=11)


# --- Repeats ---

def register(name="김민수", birth_year=1968, birth_date=date(1968, 3, 2), district="중앙동", on=date(2021, 4, 1),
             **values):
    return register_household(by=None, head=HeadOfHousehold(name=name, birth_year=birth_year, birth_date=birth_date),
                              district=district, address="경기도 동두천시 중앙로 1", discovery_route="본인 신청",
                              discovered_on=on, **values)


def test_row_matching_a_registered_household_is_flagged_with_its_case_number(app):
    existing = register()
    register(name="이영희", birth_year=1975, birth_date=None, district="생연1동")  # year only: matches by year
    register(name="박철호", birth_date=date(1952, 1, 1), birth_year=1952, district="보산동")  # other date
    register(name="최은정", birth_year=1983, birth_date=date(1983, 1, 5), district="중앙동")  # other district
    db.session.commit()
    repeats = find_repeats(parse(GOOD_CSV).rows)
    assert set(repeats) == {2, 3}
    assert repeats[2] == Repeat("existing", existing.id, existing.case_number, None, "discovered")
    assert repeats[3].kind == "existing" and repeats[3].case_number == "2021-0002"


def test_identical_rows_in_one_file_are_flagged_with_the_first_row(app):
    rows = parse(csv_text(ROW1, ROW1.replace("김민수", "홍길동"), ROW1, ROW1.replace("1968-03-02", "1968"))).rows
    repeats = find_repeats(rows)
    assert repeats == {4: Repeat("file", None, "", 2), 5: Repeat("file", None, "", 2)}


def test_repeat_of_a_repeat_names_the_registered_household(app):
    existing = register()
    db.session.commit()
    repeats = find_repeats(parse(csv_text(ROW1, ROW1)).rows)
    assert repeats[2].kind == "existing"
    assert repeats[3] == Repeat("file", existing.id, existing.case_number, 2, "discovered")


def test_merge_updates_the_registered_household(app, coordinator):
    existing = register(crisis_signals="단전", phone="", note="독거", extraction_round="2020-4")
    db.session.commit()
    row = with_row(추출회차="2021-2", 위기정보="단전;단수", 비고="재추출")
    result = import_rows(parse(row).rows, {2: "merge"}, by=coordinator, discovered_on=TODAY)
    db.session.commit()
    assert result.created == [] and [h.id for h in result.merged] == [existing.id]
    household = db.session.get(Household, existing.id)
    assert household.extraction_round == "2021-2"
    assert household.crisis_signals == "단전;단수"
    assert household.phone == "010-2345-6789"
    assert household.note == "독거\n재추출"
    assert household_count() == 1
    merge = db.session.execute(select(AuditEvent).where(AuditEvent.action == "household.merge")).scalar_one()
    assert merge.object_id == str(existing.id) and merge.actor_id == coordinator.id
    assert "010-2345-6789" not in merge.details and "재추출" not in merge.details


def test_merge_keeps_a_phone_already_there_and_does_not_repeat_a_note(app, coordinator):
    existing = register(phone="010-1111-2222", note="재추출", extraction_round="2021-1", crisis_signals="단수")
    db.session.commit()
    import_rows(parse(with_row(추출회차="", 발굴경로="본인 신청", 비고="재추출")).rows, {"2": "merge"},
                by=coordinator, discovered_on=TODAY)
    db.session.commit()
    household = db.session.get(Household, existing.id)
    assert (household.phone, household.note, household.extraction_round) == ("010-1111-2222", "재추출", "2021-1")
    assert household.crisis_signals == "단수;단전;건강보험료 체납"


def test_keep_registers_a_new_household(app, coordinator):
    existing = register()
    db.session.commit()
    result = import_rows(parse(with_row()).rows, {2: "keep"}, by=coordinator, discovered_on=TODAY)
    db.session.commit()
    assert result.merged == [] and len(result.created) == 1
    assert result.created[0].id != existing.id
    assert household_count() == 2


def test_merge_within_the_file_goes_to_the_household_of_the_first_row(app, coordinator):
    text = csv_text(ROW1, ROW1.replace("단전;건강보험료 체납", "단수").replace(",,", ",,").rstrip(",") + ",다시 나옴")
    rows = parse(text).rows
    result = import_rows(rows, {3: "merge"}, by=coordinator, discovered_on=TODAY)
    db.session.commit()
    assert len(result.created) == 1 and result.merged == [] and result.merged_rows == [3]
    assert result.by_row[2] is result.by_row[3]
    household = db.session.get(Household, result.created[0].id)
    assert household.crisis_signals == "단전;건강보험료 체납;단수" and household.note == "다시 나옴"
    assert household_count() == 1


def test_missing_decision_raises_and_saves_nothing(app, coordinator):
    register()
    db.session.commit()
    counter_before = db.session.get(CaseNumberCounter, 2021).last_seq
    rows = parse(csv_text(ROW1, ROW1.replace("김민수", "홍길동"), ROW1.replace("김민수", "홍길동"))).rows
    with app.test_request_context(method="POST"), pytest.raises(RuleError) as raised:  # as the confirm view
        import_rows(rows, {2: "merge", 4: "later"}, by=coordinator, discovered_on=date(2021, 5, 1))
    assert raised.value.field == "decisions" and "4" in str(raised.value.message)
    assert not db.session.new and not db.session.dirty
    db.session.rollback()
    assert household_count() == 1
    assert db.session.get(CaseNumberCounter, 2021).last_seq == counter_before
    assert audit_actions() == ["household.create"]


def test_case_numbers_are_consecutive_per_year_and_the_import_is_audited_once(app, coordinator):
    register(name="다른사람", on=date(2021, 2, 1))
    register(name="다른사람", on=date(2020, 2, 1))
    db.session.commit()
    result = import_rows(parse(GOOD_CSV).rows, {}, by=coordinator, discovered_on=date(2021, 6, 1),
                         filename="2021-1.csv")
    db.session.commit()
    assert [h.case_number for h in result.created] == [f"2021-{n:04d}" for n in range(2, 7)]
    assert db.session.get(CaseNumberCounter, 2021).last_seq == 6
    assert audit_actions() == ["household.create"] * 7 + ["household.import"]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "household.import")).scalar_one()
    assert '"created": 5' in event.details and '"filename": "2021-1.csv"' in event.details
    assert event.actor_id == coordinator.id
    heads = db.session.execute(select(Member).where(Member.is_head.is_(True)).order_by(Member.id)).scalars().all()
    assert [m.name for m in heads][-5:] == ["김민수", "이영희", "박철호", "최은정", "정대현"]
    assert heads[-5].birth_date == date(1968, 3, 2) and heads[-5].sex == "남"


# --- The command ---

def write(tmp_path, data, name="list.csv"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_cli_imports_and_prints_case_numbers(app, cli, tmp_path):
    result = cli(write(tmp_path, GOOD_CSV.encode("cp949")))
    assert result.exit_code == 0, result.output
    year = today_local().year
    assert f"{year}-0001, {year}-0002, {year}-0003, {year}-0004, {year}-0005" in result.output
    assert household_count() == 5
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "household.import")).scalar_one()
    assert event.actor_name == "cli" and event.actor_id is None and '"filename": "list.csv"' in event.details


def test_cli_as_user_and_xlsx(app, cli, coordinator, tmp_path):
    rows = [line.split(",") for line in GOOD_CSV.splitlines()[1:]]
    result = cli(write(tmp_path, xlsx_bytes(rows), "명단.xlsx"), "--as", "COORD1")
    assert result.exit_code == 0, result.output
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "household.import")).scalar_one()
    assert event.actor_id == coordinator.id
    assert cli(write(tmp_path, GOOD_CSV), "--as", "nobody").exit_code == 1


@pytest.mark.parametrize("case", ["rrn-birth", "missing-column", "xls-signature", "utf16-bytes", "header-only",
                                  "round-missing"])
def test_cli_errors_exit_1_with_row_numbered_lines_and_write_nothing(app, cli, tmp_path, case):
    data, expected, fragment = BAD_INPUTS[case]
    result = cli(write(tmp_path, data))
    assert result.exit_code == 1
    row, column = expected[0]
    prefix = "파일: " if row == 0 else f"{row}행 [{column}] "
    assert prefix + fragment in result.output or (prefix in result.output and fragment in result.output)
    assert "아무것도 가져오지 않았습니다" in result.output
    assert "1234567" not in result.output
    assert household_count() == 0 and audit_actions() == []


def test_cli_imports_the_verbatim_sample(app, cli, tmp_path):
    result = cli(write(tmp_path, SAMPLE_CSV))
    assert result.exit_code == 0, result.output
    assert household_count() == 5


def test_cli_refuses_a_route_that_is_not_configured(app, cli, tmp_path):
    app.config["DISCOVERY_ROUTE_ALIASES"] = {}
    result = cli(write(tmp_path, SAMPLE_CSV))
    assert result.exit_code == 1
    assert "6행 [발굴경로] '이웃 제보'은(는) 설정된 발굴경로가 아닙니다" in result.output
    assert household_count() == 0


def test_cli_file_over_the_configured_limit(app, cli, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 200
    result = cli(write(tmp_path, GOOD_CSV))
    assert result.exit_code == 1 and "파일: 파일이 너무 큽니다 (최대 200B)." in result.output
    assert household_count() == 0


HOSTILE = {  # the review's files: name → (builder, file name, the message the command prints)
    "row-20-million": (hostile.row_far_below, "list.xlsx", "파일: 행이 너무 많습니다 (빈 행을 포함해 최대 25,000행)."),
    "two-million-cells": (hostile.wide_row, "list.xlsx", "파일: 엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 32MB)."),
    "twenty-thousand-cells": (lambda: hostile.wide_row(20_000), "list.xlsx",
                              "2행 열이 너무 많습니다 (한 행에 최대 50칸)."),
    "gigabyte-part": (hostile.gigabyte_part, "list.xlsx", "파일: 엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 32MB)."),
    "ten-sheets": (hostile.many_sheets, "list.xlsx", "파일: 시트가 너무 많습니다 (최대 5개)."),
    "csv-far-below": (hostile.csv_far_below, "list.csv", "파일: 행이 너무 많습니다 (빈 행을 포함해 최대 25,000행)."),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_cli_refuses_a_hostile_file_exits_1_and_writes_nothing(app, cli, tmp_path, case):
    build, name, message = HOSTILE[case]
    result = cli(write(tmp_path, build(), name))
    assert result.exit_code == 1
    assert message in result.output
    assert "오류 1건: 아무것도 가져오지 않았습니다." in result.output
    assert household_count() == 0 and audit_actions() == []


def test_cli_dry_run_writes_nothing_and_masks_names(app, cli, tmp_path):
    result = cli(write(tmp_path, GOOD_CSV), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "새 가구 5건" in result.output and "김○○" in result.output and "김민수" not in result.output
    assert household_count() == 0 and audit_actions() == []
    assert db.session.execute(select(func.count()).select_from(CaseNumberCounter)).scalar_one() == 0


def test_cli_duplicates_stop_merge_keep(app, cli, tmp_path):
    path = write(tmp_path, GOOD_CSV)
    assert cli(path).exit_code == 0
    year = today_local().year

    stopped = cli(path)
    assert stopped.exit_code == 1
    assert f"2행: 이미 등록된 가구 {year}-0001와(과) 같은 사람입니다." in stopped.output
    assert "--duplicates merge" in stopped.output
    assert household_count() == 5

    dry = cli(path, "--dry-run", "--duplicates", "merge")
    assert dry.exit_code == 0 and "합치기 5건" in dry.output and household_count() == 5

    merged = cli(write(tmp_path, GOOD_CSV.replace("2021-1,", "2021-2,"), "next.csv"), "--duplicates", "merge")
    assert merged.exit_code == 0, merged.output
    assert f"합친 행 5건 / merged 5 row(s) into: {year}-0001, {year}-0002" in merged.output
    assert household_count() == 5
    rounds = set(db.session.execute(select(Household.extraction_round)).scalars())
    assert rounds == {"2021-2"}

    kept = cli(path, "--duplicates", "keep")
    assert kept.exit_code == 0 and f"{year}-0010" in kept.output
    assert household_count() == 10


# --- Volume ---

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = "민수영희철호은정대현지훈서연하준도윤수빈예린건우"


def generated_csv(count, offset=0):
    lines = [HEADER]
    for i in range(offset, offset + count):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[i // len(SURNAMES) % len(GIVEN)] + GIVEN[i // 7 % len(GIVEN)]
        born = date(1930, 1, 1) + timedelta(days=5 * i)  # distinct: no repeats
        district = Defaults.DISTRICTS[i % len(Defaults.DISTRICTS)]
        route = Defaults.DISCOVERY_ROUTES[i % len(Defaults.DISCOVERY_ROUTES)]
        lines.append(f"2021-{1 + i % 4},{district},{name},{born.isoformat()},{'남여'[i % 2]},"
                     f"010-{1000 + i % 9000}-{i % 10000:04d},경기도 동두천시 {district}로 {i},{1 + i % 6},"
                     f"단전;건강보험료 체납,{route},")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_five_thousand_rows_parse_and_import(app, coordinator):
    parsed = parse(generated_csv(5000).encode("cp949"))
    assert parsed.ok, [str(e) for e in parsed.errors[:5]]
    assert len(parsed.rows) == 5000
    assert find_repeats(parsed.rows) == {}
    result = import_rows(parsed.rows, {}, by=coordinator, discovered_on=date(2021, 6, 1))
    db.session.commit()
    assert len(result.created) == 5000
    assert household_count() == 5000
    assert [h.case_seq for h in result.created] == list(range(1, 5001))
    assert audit_actions().count("household.import") == 1
