"""Reading and checking a quarterly discovery list (복지사각지대 발굴시스템 추출 명단).

Pure: no database, no request, no ``current_app``. The caller passes the configuration values, so
the web upload, its preview and the ``import-households`` command all check a file the same way::

    parsed = parse_extraction(data, filename, districts=..., routes=..., extraction_route=...,
                              limits=ReadLimits.from_config(config), today=today_local())
    if parsed.ok: ...            # parsed.rows are valid ImportRow objects
    else: ...                    # parsed.errors: RowError(row, column, message), all of them

Accepted: .xlsx (detected by content; the first worksheet; a formula is read as its text and never
evaluated) and CSV in UTF-8, UTF-8 with BOM (Excel's "CSV UTF-8") or CP949 (Excel's plain "CSV" on a
Korean Windows). Legacy .xls is refused with a hint. Row numbers are those a spreadsheet shows: the
header is row 1 and empty rows still count. Reading (conference/cases/reading.py) stops at the first
limit a file passes (size, rows, row numbers, columns, cells, and for .xlsx its parts and sheets).

Resident registration numbers (주민등록번호) are refused wherever they appear, and the value is dropped
at once: it is kept in no row, no message and no warning.
"""
from __future__ import annotations

import difflib
import json
import re
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial

from conference.cases.reading import FileProblem, ReadLimits, read_table, size_text
from conference.core.i18n import lazy_gettext as _l

#: Free-text columns: a value that looks like a formula is kept as written, with a warning.
FREE_TEXT_COLUMNS = ("주소", "위기정보", "비고")
FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_NAME = 50
MAX_ADDRESS = 200
MAX_NOTE = 1000
MAX_SIGNALS = 1000
MAX_PHONE = 20
MAX_HOUSEHOLD_SIZE = 30
MIN_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class Column:
    """A column of the form: its name (the header cell), whether a row needs it, what it holds and an example
    that the checks below accept. The import page's format table and the downloadable templates come from here."""

    name: str
    required: object  # a lazy string: 필수, 선택 …
    format: object
    example: str
    #: "districts" or "routes": the value must be one of the city's configured list (and the example is one).
    choices: str = ""


REQUIRED = _l("필수")
OPTIONAL = _l("선택")

#: The form's columns in order, each as the checks in ``_RowChecker`` read it (the one place they are described).
FORM_COLUMNS = (
    Column("추출회차", _l("발굴경로가 발굴시스템 추출이면 필수"),
           _l("연도-회차 (회차는 1~12). 엑셀이 날짜로 바꾸지 않도록 셀 서식을 '텍스트'로 두세요."), "2024-1"),
    Column("행정동", REQUIRED, _l("설정된 행정동 이름 그대로"), "중앙동", "districts"),
    Column("성명", REQUIRED, _l("%(max)s자 이하. =, +, -, @ 로 시작할 수 없습니다.", max=MAX_NAME), "김민수"),
    Column("생년월일", REQUIRED, _l("YYYY-MM-DD (1968.03.02, 19680302도 됩니다) 또는 태어난 해 YYYY"), "1968-03-02"),
    Column("성별", OPTIONAL, _l("남 또는 여 (남자, 여자도 됩니다)"), "남"),
    Column("연락처", OPTIONAL, _l("숫자와 하이픈(-)만, 숫자 9~13자리"), "010-2345-6789"),
    Column("주소", REQUIRED, _l("%(max)s자 이하", max=MAX_ADDRESS), "경기도 동두천시 중앙로 101 2층"),
    Column("가구원수", REQUIRED, _l("1에서 %(max)s 사이의 정수", max=MAX_HOUSEHOLD_SIZE), "3"),
    Column("위기정보", OPTIONAL, _l("위기 신호를 세미콜론(;)으로 나누어 적습니다. %(max)s자 이하.", max=f"{MAX_SIGNALS:,}"), "단전;건강보험료 체납"),
    Column("발굴경로", REQUIRED, _l("설정된 발굴경로 이름 그대로"), "복지사각지대 발굴시스템", "routes"),
    Column("비고", OPTIONAL, _l("%(max)s자 이하", max=f"{MAX_NOTE:,}"), "독거"),
)
COLUMNS = [column.name for column in FORM_COLUMNS]


@dataclass(frozen=True)
class ColumnGuide:
    """A form column as one city's import page explains it: its configured values listed, an example they hold."""

    column: Column
    example: str
    choices: list[str]


def column_guide(*, districts, routes, extraction_route: str) -> list[ColumnGuide]:
    """``FORM_COLUMNS`` with the city's lists: 행정동 and 발굴경로 show the configured values, and the example row
    (the downloadable templates' second row) passes ``parse_extraction`` with the same lists."""
    lists = {"districts": list(districts), "routes": list(routes)}
    examples = {"districts": lists["districts"][0] if lists["districts"] else "", "routes": extraction_route}
    return [ColumnGuide(column, examples.get(column.choices, column.example), lists.get(column.choices, []))
            for column in FORM_COLUMNS]


#: 6 digits, an optional hyphen (or dash, or space), 7 digits — not part of a longer number.
RRN_PATTERN = re.compile(r"(?<!\d)\d{6}\s*[-‐‑‒–—―－]?\s*\d{7}(?!\d)")
ROUND_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")
YEAR_PATTERN = re.compile(r"^(\d{4})$")
#: 1968-03-02, 1968.03.02, 1968/3/2 and Excel's Korean display "1968. 3. 2."
DATE_PATTERN = re.compile(r"^(\d{4})\s*([-./])\s*(\d{1,2})\s*\2\s*(\d{1,2})\s*\.?$")
COMPACT_DATE_PATTERN = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
PHONE_PATTERN = re.compile(r"^[0-9-]+$")
SEXES = {"남": "남", "여": "여", "남자": "남", "여자": "여"}

# --- Messages (Korean source strings; translated through flask_babel when rendered) ---
E_EMPTY = _l("파일이 비어 있습니다.")
E_HEADER_ONLY = _l("머리글(첫 행)만 있고 데이터 행이 없습니다.")
E_RRN = _l("주민등록번호는 저장할 수 없습니다. 이 칸에서 지운 뒤 다시 올려 주세요.")
E_REQUIRED = _l("필수 항목이 비어 있습니다.")
E_EXTRA_CELLS = _l("머리글에 없는 칸에 값이 있습니다. 쉼표(,)가 들어간 값은 큰따옴표로 감싸야 합니다.")
E_ROUND_FORMAT = _l("추출회차는 '연도-회차' 형식이어야 합니다 (예: 2021-1, 회차는 1~12).")
E_ROUND_FUTURE = _l("추출회차의 연도가 올해보다 뒤입니다.")
E_NAME_FORMULA = _l("성명은 =, +, -, @ 로 시작할 수 없습니다.")
E_BIRTH_FORMAT = _l("생년월일은 YYYY-MM-DD(예: 1968-03-02)나 태어난 해(YYYY)로 적어 주세요.")
E_BIRTH_INVALID = _l("생년월일이 달력에 없는 날짜입니다.")
E_BIRTH_FUTURE = _l("생년월일이 오늘보다 뒤입니다.")
E_SEX = _l("성별은 '남'이나 '여'로 적거나 비워 두세요.")
E_PHONE = _l("연락처는 숫자와 하이픈(-)으로만, 숫자 9~13자리로 적어 주세요.")
W_FORMULA = _l("수식처럼 보이는 값은 글자 그대로 저장합니다.")


def _too_big(limit: int):
    return _l("파일이 너무 큽니다 (최대 %(limit)s).", limit=size_text(limit))


def _too_many_rows(limit: int):
    return _l("행이 너무 많습니다 (최대 %(limit)s행). 파일을 나누어 올려 주세요.", limit=f"{limit:,}")


def _missing_column(column: str):
    return _l("'%(column)s' 열이 없습니다. 첫 행의 열 이름은 양식대로 적어야 합니다: %(expected)s",
              column=column, expected=", ".join(COLUMNS))


def _unknown_column(column: str):
    return _l("'%(column)s'은(는) 양식에 없는 열입니다. 열 이름을 양식과 같게 고치거나 열을 지워 주세요.",
              column=column)


def _duplicate_column(column: str):
    return _l("'%(column)s' 열이 두 번 이상 나옵니다.", column=column)


# --- Results ---

@dataclass
class RowError:
    """A problem found in the file: ``row`` as a spreadsheet numbers it (header = 1; 0 = the whole file)."""

    row: int
    column: str
    message: object  # a lazy string; str() it for text

    @property
    def text(self) -> str:
        return str(self.message)

    def __str__(self) -> str:
        if self.row == 0:
            return str(self.message)
        if self.column:
            return f"{self.row}행 [{self.column}] {self.message}"
        return f"{self.row}행 {self.message}"


@dataclass
class ImportRow:
    """One valid household line of the list."""

    row: int
    extraction_round: str
    district: str
    name: str
    birth_year: int
    birth_date: date | None
    sex: str
    phone: str
    address: str
    household_size: int
    crisis_signals: list[str]
    discovery_route: str
    note: str

    def to_json(self) -> dict:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> ImportRow:
        values = dict(data)
        values["birth_date"] = date.fromisoformat(values["birth_date"]) if values.get("birth_date") else None
        values["crisis_signals"] = list(values.get("crisis_signals") or [])
        return cls(**values)


def rows_to_json(rows: list[ImportRow]) -> str:
    """The rows as one JSON text (for ImportBatch.payload between preview and confirm)."""
    return json.dumps([r.to_json() for r in rows], ensure_ascii=False)


def rows_from_json(text: str) -> list[ImportRow]:
    return [ImportRow.from_json(item) for item in json.loads(text or "[]")]


@dataclass
class ParsedFile:
    #: Rows without errors, in file order (all data rows when ``ok``).
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    #: "xlsx", "csv-utf-8-sig", "csv-utf-8", "csv-cp949" or "" when the file could not be read.
    source_format: str = ""
    #: Data rows found (valid or not), empty rows not counted.
    row_count: int = 0
    #: The one error is about the file as a whole (its size, format or a limit): no row was checked.
    file_problem: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# --- Reading ---

def parse_extraction(data: bytes, filename: str, *, districts, routes, extraction_route: str, limits: ReadLimits,
                     today: date, route_aliases: dict | None = None) -> ParsedFile:
    """Read and check a discovery list; every problem in the rows is collected, none stops the check early.

    A file past one of the ``limits`` (conference/cases/reading.py) is refused at once with that one error.
    ``filename`` is only a hint (the content decides the format). ``route_aliases`` maps other spellings of a
    route (이웃 제보) to the configured one (이웃·주민 제보). The result's ``rows`` hold only rows without
    errors; import only when ``ok``.
    """
    result = ParsedFile()
    notes: list = []
    try:
        header_at, header, body = _read(data, limits, result, notes)
    except FileProblem as problem:
        result.errors.append(RowError(problem.row, "", problem.message))
        result.file_problem = True
        return result
    finally:
        result.warnings.extend(RowError(0, "", note) for note in notes)

    positions, ignored = _check_header(header, header_at, result)
    result.row_count = len(body)
    if len(positions) < len(COLUMNS):
        return result  # without every column the rows cannot be checked
    if not body:
        result.errors.append(RowError(0, "", E_HEADER_ONLY))
        result.file_problem = True
        return result

    # Unknown or repeated columns are already errors; the rows are still checked, ignoring those columns.
    checker = _RowChecker(list(districts), list(routes), extraction_route, today,
                          strict_width=result.source_format.startswith("csv"), route_aliases=route_aliases or {})
    for number, cells in body:
        row = checker.check(number, cells, positions, ignored, len(header), result)
        if row is not None:
            result.rows.append(row)
    return result


def _read(data: bytes, limits: ReadLimits, result: ParsedFile, notes: list):
    """The header row's number and cells, and the data rows; stops at the first limit passed."""
    if len(data) > limits.max_bytes:
        raise FileProblem(_too_big(limits.max_bytes))
    if not data.strip():
        raise FileProblem(E_EMPTY)
    header_at, header = None, []
    body = []
    result.source_format, raw_rows = read_table(data, limits, notes)
    with closing(raw_rows):
        for number, cells in raw_rows:
            if not any(cells):
                continue
            if header_at is None:
                header_at, header = number, cells
                continue
            body.append((number, cells))
            if len(body) > limits.max_rows:
                raise FileProblem(_too_many_rows(limits.max_rows))
    if header_at is None:
        raise FileProblem(E_EMPTY)
    return header_at, header, body


def _check_header(header: list[str], header_at: int, result: ParsedFile) -> tuple[dict[str, int], dict[int, str]]:
    """Map each form column to its position and record missing, unknown and repeated columns.

    Returns the positions, and the unknown or repeated columns' labels by position.
    """
    positions: dict[str, int] = {}
    seen: set[str] = set()
    ignored: dict[int, str] = {}
    for index, raw in enumerate(header):
        name = raw.replace("\ufeff", "").strip()
        if not name:
            continue
        label = _safe_label(name)
        if name in seen:
            ignored[index] = label
            result.errors.append(RowError(header_at, label, _duplicate_column(label)))
        elif name in COLUMNS:
            positions[name] = index
        else:
            ignored[index] = label
            result.errors.append(RowError(header_at, label, _unknown_column(label)))
        seen.add(name)
    for column in COLUMNS:
        if column not in positions:
            result.errors.append(RowError(header_at, column, _missing_column(column)))
    return positions, ignored


def _safe_label(text: str) -> str:
    """A header cell shown back in a message: never an RRN, never long."""
    text = RRN_PATTERN.sub("(주민등록번호)", text)
    return text if len(text) <= 40 else text[:40] + "…"


def parse_with_config(data: bytes, filename: str, config, today: date) -> ParsedFile:
    """``parse_extraction`` with the city's lists and limits from the app configuration mapping."""
    return parse_extraction(data, filename, districts=config["DISTRICTS"], routes=config["DISCOVERY_ROUTES"],
                            extraction_route=config["EXTRACTION_ROUTE"], limits=ReadLimits.from_config(config),
                            today=today, route_aliases=config["DISCOVERY_ROUTE_ALIASES"])


def guide_with_config(config) -> list[ColumnGuide]:
    """``column_guide`` with the city's lists from the app configuration mapping."""
    return column_guide(districts=config["DISTRICTS"], routes=config["DISCOVERY_ROUTES"],
                        extraction_route=config["EXTRACTION_ROUTE"])


class _RowChecker:
    """Checks the data rows of one file against the city's lists; ``check`` walks ``COLUMN_CHECKS``."""

    def __init__(self, districts: list, routes: list, extraction_route: str, today: date, strict_width: bool,
                 route_aliases: dict):
        #: CSV: a row longer than the header is shifted. (XLSX rows may carry formatted empty cells.)
        self.strict_width = strict_width
        self.district_list = districts
        self.districts = set(districts)
        self.routes = routes
        self.route_set = set(routes)
        self.route_aliases = {alias: route for alias, route in route_aliases.items() if route in self.route_set}
        self.extraction_route = extraction_route
        self.today = today

    def check(self, number: int, cells: list[str], positions: dict[str, int], ignored: dict[int, str], width: int,
              result: ParsedFile) -> ImportRow | None:
        """The row as an ImportRow, or None; its errors and warnings are added to ``result`` in column order."""
        errors_before = len(result.errors)

        def error(column, message):
            result.errors.append(RowError(number, column, message))

        if self._misplaced_cells(cells, positions, ignored, width, error):
            return None
        values = self._values(cells, positions, error)
        for column in FREE_TEXT_COLUMNS:
            value = values.get(column)
            if value and value.startswith(FORMULA_PREFIXES):
                result.warnings.append(RowError(number, column, W_FORMULA))
        fields: dict = {"row": number, "birth_year": None, "birth_date": None, "crisis_signals": []}
        for column, check in self.COLUMN_CHECKS:
            value = values[column]
            if value is not None:
                check(self, value, fields, partial(error, column))
        if len(result.errors) > errors_before:
            return None
        return ImportRow(**fields)

    def _misplaced_cells(self, cells: list[str], positions: dict[str, int], ignored: dict[int, str], width: int,
                         error) -> bool:
        """Report cells beyond the header or under no column name; True when the row cannot be read at all.

        In CSV an unquoted comma shifts the rest of the line, so the other cells cannot be trusted either; only
        say so (and refuse any RRN)."""
        used = set(positions.values()) | set(ignored)
        for index, label in ignored.items():
            if index < len(cells) and RRN_PATTERN.search(cells[index]):
                error(label, E_RRN)
        if (self.strict_width and len(cells) > width) or any(
                cell and i not in used for i, cell in enumerate(cells)):
            error("", E_EXTRA_CELLS)
            if any(RRN_PATTERN.search(cell) for cell in cells):
                error("", E_RRN)
            return True
        return False

    @staticmethod
    def _values(cells: list[str], positions: dict[str, int], error) -> dict[str, str | None]:
        """Each column's text; None for a cell holding a resident registration number (refused and forgotten
        before anything else looks at the value)."""
        values: dict[str, str | None] = {}
        for column, index in positions.items():
            values[column] = cells[index] if index < len(cells) else ""
        for column, value in values.items():
            if RRN_PATTERN.search(value):
                error(column, E_RRN)
                values[column] = None
        return values

    # Each check reads one column's text (never an RRN), reports through ``error`` and sets its ImportRow fields.

    def _route(self, route: str, fields: dict, error):
        route = fields["discovery_route"] = self.route_aliases.get(route, route)
        if not route:
            error(E_REQUIRED)
        elif route not in self.route_set:
            guess = _closest(route, self.routes)
            if guess:
                error(_l("'%(value)s'은(는) 설정된 발굴경로가 아닙니다. '%(guess)s'을(를) 뜻했나요? "
                         "(설정: %(choices)s)", value=_short(route), guess=guess, choices=", ".join(self.routes)))
            else:
                error(_l("'%(value)s'은(는) 설정된 발굴경로가 아닙니다 (설정: %(choices)s).",
                         value=_short(route), choices=", ".join(self.routes)))

    def _round(self, extraction_round: str, fields: dict, error):
        fields["extraction_round"] = extraction_round
        if not extraction_round:
            if fields.get("discovery_route") == self.extraction_route:
                error(_l("발굴경로가 '%(route)s'인 행은 추출회차가 필요합니다 (예: 2021-1).", route=self.extraction_route))
            return
        match = ROUND_PATTERN.match(extraction_round)
        if not match or not 1 <= int(match.group(2)) <= 12:
            error(E_ROUND_FORMAT)
        elif int(match.group(1)) > self.today.year:
            error(E_ROUND_FUTURE)
        else:
            fields["extraction_round"] = f"{int(match.group(1))}-{int(match.group(2))}"

    def _district(self, district: str, fields: dict, error):
        fields["district"] = district
        if not district:
            error(E_REQUIRED)
        elif district not in self.districts:
            guess = _closest(district, self.district_list)
            if guess:
                error(_l("'%(value)s'은(는) 설정된 행정동이 아닙니다. '%(guess)s'을(를) 뜻했나요?",
                         value=_short(district), guess=guess))
            else:
                error(_l("'%(value)s'은(는) 설정된 행정동이 아닙니다.", value=_short(district)))

    def _name(self, name: str, fields: dict, error):
        fields["name"] = name
        if not name:
            error(E_REQUIRED)
        elif name.startswith(FORMULA_PREFIXES):
            error(E_NAME_FORMULA)
        elif len(name) > MAX_NAME:
            error(_l("성명은 %(max)s자 이하여야 합니다.", max=MAX_NAME))

    def _birth(self, birth: str, fields: dict, error):
        if not birth:
            error(E_REQUIRED)
            return
        outcome = self._birth_date(birth)
        if isinstance(outcome, tuple):
            fields["birth_year"], fields["birth_date"] = outcome
        else:
            error(outcome)

    def _sex(self, sex: str, fields: dict, error):
        if sex and sex not in SEXES:
            error(E_SEX)
        fields["sex"] = SEXES.get(sex, "")

    def _phone(self, phone: str, fields: dict, error):
        fields["phone"] = phone
        if phone:
            digits = sum(ch.isdigit() for ch in phone)
            if not PHONE_PATTERN.match(phone) or not 9 <= digits <= 13 or len(phone) > MAX_PHONE:
                error(E_PHONE)

    def _address(self, address: str, fields: dict, error):
        fields["address"] = address
        if not address:
            error(E_REQUIRED)
        elif len(address) > MAX_ADDRESS:
            error(_l("주소는 %(max)s자 이하여야 합니다.", max=MAX_ADDRESS))

    def _household_size(self, size: str, fields: dict, error):
        if not size:
            error(E_REQUIRED)
        elif not size.isascii() or not size.isdigit() or not 1 <= int(size) <= MAX_HOUSEHOLD_SIZE:
            error(_l("가구원수는 1에서 %(max)s 사이의 정수여야 합니다.", max=MAX_HOUSEHOLD_SIZE))
        else:
            fields["household_size"] = int(size)

    def _signals(self, text: str, fields: dict, error):
        if len(text) > MAX_SIGNALS:
            error(_l("위기정보는 %(max)s자 이하여야 합니다.", max=MAX_SIGNALS))
        signals = fields["crisis_signals"]
        for signal in text.split(";"):
            signal = signal.strip()
            if signal and signal not in signals:
                signals.append(signal)

    def _note(self, note: str, fields: dict, error):
        fields["note"] = note
        if len(note) > MAX_NOTE:
            error(_l("비고는 %(max)s자 이하여야 합니다.", max=MAX_NOTE))

    #: Each form column's check, in the order their messages are given: 발굴경로 first, as 추출회차 depends on it.
    COLUMN_CHECKS = (("발굴경로", _route), ("추출회차", _round), ("행정동", _district), ("성명", _name),
                     ("생년월일", _birth), ("성별", _sex), ("연락처", _phone), ("주소", _address),
                     ("가구원수", _household_size), ("위기정보", _signals), ("비고", _note))

    def _birth_date(self, text: str):
        """(year, date or None), or the message saying what is wrong."""
        match = YEAR_PATTERN.match(text)
        if match:
            year = int(match.group(1))
            if year < MIN_BIRTH_YEAR:
                return _l("생년월일은 %(year)s년 이후여야 합니다.", year=MIN_BIRTH_YEAR)
            if year > self.today.year:
                return E_BIRTH_FUTURE
            return year, None
        match = DATE_PATTERN.match(text) or COMPACT_DATE_PATTERN.match(text)
        if not match:
            return E_BIRTH_FORMAT
        parts = match.groups()
        year, month, day = int(parts[0]), int(parts[-2]), int(parts[-1])
        try:
            born = date(year, month, day)
        except ValueError:
            return E_BIRTH_INVALID
        if year < MIN_BIRTH_YEAR:
            return _l("생년월일은 %(year)s년 이후여야 합니다.", year=MIN_BIRTH_YEAR)
        if born > self.today:
            return E_BIRTH_FUTURE
        return year, born


def _closest(value: str, choices: list[str]) -> str:
    """The configured value a typo most likely meant ("이웃 제보" → "이웃·주민 제보"), or ""."""
    squeezed = re.sub(r"[\s·ㆍ.,]", "", value)
    for choice in choices:
        if re.sub(r"[\s·ㆍ.,]", "", choice) == squeezed:
            return choice
    found = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return found[0] if found else ""


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"
