"""Reading an uploaded list into numbered rows of text, within limits: CSV, or the first worksheet of an .xlsx.

Pure: no database, no request. ``read_table(data, limits)`` gives the source format and an iterator of
``(row number, [cell text, ...])``; it may raise ``FileProblem`` before the first row or halfway through, with a
message that names the limit. Row numbers are those a spreadsheet shows (empty rows count); rows without cells may
be left out.

Each limit is checked before the work it bounds, so a file is refused as soon as it passes one:

- .xlsx, before anything is unpacked: how many parts the zip holds, each part's declared unpacked size, their total,
  and how far a large part claims to shrink when packed. Then, reading: how many sheets the workbook has (only the
  first worksheet is read), the worksheet's declared ``<dimension>``, each row's number, the cells of each row and
  of the sheet, and the XML elements of every part read. A part is never unpacked beyond its declared size.
- CSV: the file size (the caller's ``max_bytes``), then each row's number and cells while reading.

The parts of an .xlsx are parsed with expat as they unpack and nothing else is touched. openpyxl's read-only mode
is no guard: it yields every missing row up to the highest row number (twenty million for one ``<row r="20000000">``)
and builds all the cells of a row before handing it over. Its helpers still decide what a number format means
(dates, durations) and translate shared formulas, so values read as openpyxl would read them.
"""
from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from xml.parsers import expat

from conference.core.i18n import N_, lazy_gettext as _l

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

#: Bytes unpacked and handed to the XML parser at a time.
CHUNK = 64 * 1024
#: XML elements the parts read may hold together, per cell allowed (``max_cells``): a cell with its value is 2 or 3
#: elements (and a shared string 2 more), a row of 11 cells 23 to 34.
ELEMENTS_PER_CELL = 5
#: Parts smaller than this are not checked for their packing ratio (tiny parts pack unevenly and cost nothing).
RATIO_FLOOR = 1024 * 1024

E_XLS = _l("예전 엑셀 형식(.xls)은 읽을 수 없습니다. 엑셀에서 '다른 이름으로 저장'을 눌러 "
           "Excel 통합 문서(.xlsx)나 CSV로 저장한 뒤 다시 올려 주세요.")
E_XLSX_BROKEN = _l("엑셀 파일(.xlsx)을 열 수 없습니다. 파일이 손상되었거나 엑셀 통합 문서가 아닙니다.")
E_NO_SHEET = _l("엑셀 파일에 워크시트가 없습니다.")
E_ENCODING = _l("파일의 글자 인코딩을 알 수 없습니다. CSV는 UTF-8이나 CP949(엑셀의 'CSV (쉼표로 분리)')로 "
                "저장하거나 엑셀 통합 문서(.xlsx)를 올려 주세요.")
E_UTF16 = _l("유니코드 텍스트(UTF-16) 파일은 읽을 수 없습니다. 엑셀에서 'CSV UTF-8 (쉼표로 분리)'이나 "
             "Excel 통합 문서(.xlsx)로 저장한 뒤 다시 올려 주세요.")


def _csv_broken():
    return _l("CSV 형식이 올바르지 않습니다. 따옴표가 닫히지 않았거나 한 칸의 값이 너무 깁니다.")


#: What a file past a counted limit is told; ``_past_limit`` fills in the limit as people write it (20,000).
TOO_MANY_ROW_NUMBERS = N_("행이 너무 많습니다 (빈 행을 포함해 최대 %(limit)s행). 명단 아래의 빈 행을 지우거나 파일을 "
                          "나누어 올려 주세요.")
TOO_MANY_COLUMNS = N_("열이 너무 많습니다 (한 행에 최대 %(limit)s칸). 양식에 없는 열을 지운 뒤 다시 올려 주세요.")
TOO_MANY_CELLS = N_("칸이 너무 많습니다 (서식만 있는 빈 칸을 포함해 최대 %(limit)s칸). 명단 밖의 칸을 지우거나 파일을 "
                    "나누어 올려 주세요.")
TOO_MANY_SHEETS = N_("시트가 너무 많습니다 (최대 %(limit)s개). 명단이 있는 시트만 남겨 저장한 뒤 다시 올려 주세요.")
TOO_MANY_PARTS = N_("엑셀 파일을 이루는 부분이 너무 많습니다 (최대 %(limit)s개). 명단만 새 통합 문서에 붙여 넣어 저장한 "
                    "뒤 다시 올려 주세요.")
PACKED_TOO_TIGHTLY = N_("엑셀 파일이 보통 파일보다 지나치게 많이 압축되어 있습니다 (최대 %(limit)s배). 엑셀에서 다시 저장한 "
                        "뒤 올려 주세요.")
TOO_COMPLEX = N_("엑셀 파일의 구조가 너무 복잡합니다 (XML 요소 최대 %(limit)s개). 명단만 새 통합 문서에 붙여 넣어 "
                 "저장한 뒤 다시 올려 주세요.")


def _past_limit(message: str, limit: int):
    """``message`` (one of the above) with its limit, translated when shown."""
    return _l(message, limit=f"{limit:,}")


def _part_too_big(limit: int):
    return _l("엑셀 파일 안의 한 부분이 압축을 풀면 너무 큽니다 (최대 %(limit)s).", limit=size_text(limit))


def _unpacked_too_big(limit: int):
    return _l("엑셀 파일의 압축을 풀면 너무 큽니다 (최대 %(limit)s).", limit=size_text(limit))


def _other_sheets(count: int, name: str):
    return _l("시트가 %(count)s개 있어 첫 워크시트 '%(name)s'만 읽었습니다. 다른 시트의 명단은 따로 올려 주세요.",
              count=count, name=name)


def size_text(n: int) -> str:
    """A byte count as people write it: 5MB, 100KB, 200B."""
    mib, kib = 1024 * 1024, 1024
    if n >= mib:
        return f"{n / mib:.1f}".rstrip("0").rstrip(".") + "MB"
    if n >= kib:
        return f"{n / kib:.1f}".rstrip("0").rstrip(".") + "KB"
    return f"{n}B"


class FileProblem(Exception):
    """The file cannot be read as a list: ``message`` says why (a lazy string), ``row`` where (0 = the whole file)."""

    def __init__(self, message, row: int = 0):
        super().__init__(str(message))
        self.message = message
        self.row = row


@dataclass(frozen=True)
class ReadLimits:
    """How much of an upload is read: see the IMPORT_* settings in conference.config for the meaning of each."""

    max_bytes: int
    max_rows: int
    max_row_number: int
    max_columns: int
    max_cells: int
    max_sheets: int
    max_parts: int
    max_part_bytes: int
    max_unpacked_bytes: int
    max_ratio: int

    @classmethod
    def from_config(cls, config) -> ReadLimits:
        """The limits from the app configuration mapping (``IMPORT_MAX_BYTES`` …)."""
        return cls(max_bytes=config["IMPORT_MAX_BYTES"], max_rows=config["IMPORT_MAX_ROWS"],
                   max_row_number=config["IMPORT_MAX_ROW_NUMBER"], max_columns=config["IMPORT_MAX_COLUMNS"],
                   max_cells=config["IMPORT_MAX_CELLS"], max_sheets=config["IMPORT_XLSX_MAX_SHEETS"],
                   max_parts=config["IMPORT_XLSX_MAX_PARTS"], max_part_bytes=config["IMPORT_XLSX_MAX_PART_BYTES"],
                   max_unpacked_bytes=config["IMPORT_XLSX_MAX_UNPACKED_BYTES"],
                   max_ratio=config["IMPORT_XLSX_MAX_RATIO"])

    @property
    def max_elements(self) -> int:
        return ELEMENTS_PER_CELL * self.max_cells + 10_000


Rows = Iterator[tuple[int, list[str]]]


def read_table(data: bytes, limits: ReadLimits, notes: list) -> tuple[str, Rows]:
    """The source format ("xlsx", "csv-utf-8" …) and the rows of ``data``; file-wide remarks are appended to ``notes``.

    The caller checks ``limits.max_bytes`` and the data rows (``max_rows``); everything else is checked here.
    """
    if data.startswith(XLS_MAGIC):
        raise FileProblem(E_XLS)
    if data.startswith(XLSX_MAGIC):
        return "xlsx", _read_xlsx(data, limits, notes)
    return _read_csv(data, limits)


# --- CSV ---

def _read_csv(data: bytes, limits: ReadLimits) -> tuple[str, Rows]:
    if data.startswith(UTF16_BOMS):
        raise FileProblem(E_UTF16)
    encodings = ["utf-8-sig"] if data.startswith(UTF8_BOM) else ["utf-8", "cp949"]
    text = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise FileProblem(E_ENCODING)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    return "csv-" + encoding, _csv_rows(text, delimiter, limits)


def _csv_rows(text: str, delimiter: str, limits: ReadLimits) -> Rows:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = cells = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number > limits.max_row_number:
                raise FileProblem(_past_limit(TOO_MANY_ROW_NUMBERS, limits.max_row_number))
            if len(record) > limits.max_columns:
                raise FileProblem(_past_limit(TOO_MANY_COLUMNS, limits.max_columns), row=number)
            cells += len(record)
            if cells > limits.max_cells:
                raise FileProblem(_past_limit(TOO_MANY_CELLS, limits.max_cells))
            yield number, [cell.strip() for cell in record]
    except csv.Error:
        raise FileProblem(_csv_broken(), row=number + 1) from None


# --- XLSX: the package ---

#: Relationship types, by the last part of their URI (transitional and strict OOXML differ only before it).
OFFICE_DOCUMENT, WORKSHEET, SHARED_STRINGS, STYLES = "officeDocument", "worksheet", "sharedStrings", "styles"


class _Stop(Exception):
    """Raised by a part's handler when it has read all it needs from the part."""


def _read_xlsx(data: bytes, limits: ReadLimits, notes: list) -> Rows:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise FileProblem(E_XLSX_BROKEN) from error
    with archive:
        try:
            package = _Package(archive, limits)
            book = package.workbook()
            if book.sheet_count > 1:
                notes.append(_other_sheets(book.sheet_count, _short(book.sheet_name)))
            strings = package.shared_strings(book.strings_part)
            date_styles, duration_styles = package.number_styles(book.styles_part)
            sheet = _SheetReader(strings, date_styles, duration_styles, book.epoch, limits)
            for _ in package.parse(book.sheet_part, sheet):
                yield from sheet.take_rows()
            yield from sheet.take_rows()
        except FileProblem:
            raise
        except (zipfile.BadZipFile, expat.ExpatError, KeyError, ValueError, IndexError, OverflowError, OSError,
                EOFError, NotImplementedError, RuntimeError) as error:
            raise FileProblem(E_XLSX_BROKEN) from error


class _Part:
    """What ``_Package.parse`` feeds: counts the elements (too many refuse the file) and passes them on without
    their prefix to ``opened`` and ``closed``."""

    def __init__(self, limits: ReadLimits):
        self.max_elements = limits.max_elements
        self.elements = 0

    def start(self, name, attrs):
        self.elements += 1
        if self.elements > self.max_elements:
            raise FileProblem(_past_limit(TOO_COMPLEX, self.max_elements))
        self.opened(_local(name), attrs)

    def end(self, name):
        self.closed(_local(name))

    def text(self, data):
        pass

    def opened(self, local: str, attrs: dict):
        pass

    def closed(self, local: str):
        pass


@dataclass
class _Book:
    sheet_part: str
    sheet_name: str
    sheet_count: int
    strings_part: str | None
    styles_part: str | None
    epoch: datetime


class _Package:
    """The zip package of a workbook, checked on what its directory declares before anything is unpacked.

    Its parts are read through ``parse`` only, and share one budget of XML elements (``limits.max_elements``).
    """

    def __init__(self, archive: zipfile.ZipFile, limits: ReadLimits):
        self.archive, self.limits = archive, limits
        parts = archive.infolist()
        if len(parts) > limits.max_parts:
            raise FileProblem(_past_limit(TOO_MANY_PARTS, limits.max_parts))
        total = 0
        for part in parts:
            if part.file_size > limits.max_part_bytes:
                raise FileProblem(_part_too_big(limits.max_part_bytes))
            total += part.file_size
            if total > limits.max_unpacked_bytes:
                raise FileProblem(_unpacked_too_big(limits.max_unpacked_bytes))
            if part.file_size >= RATIO_FLOOR and part.file_size > limits.max_ratio * max(part.compress_size, 1):
                raise FileProblem(_past_limit(PACKED_TOO_TIGHTLY, limits.max_ratio))
        self.names = {part.filename for part in parts}
        self.elements = 0

    def parse(self, name: str, handler: _Part) -> Iterator[None]:
        """Feed one part to ``handler`` chunk by chunk as it unpacks; yield after each chunk.

        Never unpacks more than the part declares, which the constructor has bounded: zipfile stops there and checks
        the CRC, and the count below would refuse the part should it not. Document type declarations are refused: a
        spreadsheet has none, and they are how entity expansion attacks begin.
        """
        info = self.archive.getinfo(name)
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_doctype
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text
        handler.elements = self.elements
        read = 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    read += len(chunk)
                    if read > info.file_size:
                        raise FileProblem(E_XLSX_BROKEN)
                    parser.Parse(chunk, False)
                    yield
                parser.Parse(b"", True)
        except _Stop:
            pass
        finally:
            self.elements = handler.elements

    def read(self, name: str, handler: _Part) -> _Part:
        for _ in self.parse(name, handler):
            pass
        return handler

    def part_named(self, source: str, target: str | None) -> str | None:
        """The part a relationship of ``source`` points to, if the package has it."""
        found = _resolve(source, target) if target else None
        return found if found in self.names else None

    def relationships(self, source: str) -> _Relationships:
        rels = _Relationships(self.limits)
        name = _rels_name(source)
        return self.read(name, rels) if name in self.names else rels

    def workbook(self) -> _Book:
        """Find the workbook, count its sheets and find its first worksheet, shared strings and styles."""
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        book_part = self.part_named("", self.relationships("").by_type.get(OFFICE_DOCUMENT) or "xl/workbook.xml")
        if not book_part:
            raise FileProblem(E_XLSX_BROKEN)
        book = self.read(book_part, _WorkbookPart(self.limits))
        rels = self.relationships(book_part)
        for sheet_name, rel_id in book.sheets:
            kind, target = rels.by_id.get(rel_id or "", ("", ""))
            sheet_part = self.part_named(book_part, target)
            if kind == WORKSHEET and sheet_part:
                return _Book(sheet_part=sheet_part, sheet_name=sheet_name, sheet_count=len(book.sheets),
                             strings_part=self.part_named(book_part, rels.by_type.get(SHARED_STRINGS)),
                             styles_part=self.part_named(book_part, rels.by_type.get(STYLES)),
                             epoch=CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900)
        raise FileProblem(E_NO_SHEET)

    def shared_strings(self, part: str | None) -> list[str]:
        return self.read(part, _SharedStrings(self.limits)).strings if part else []

    def number_styles(self, part: str | None) -> tuple[set[int], set[int]]:
        """The cell styles whose number format shows a date or time, and those that show a duration."""
        from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format

        styles = self.read(part, _Styles(self.limits)) if part else _Styles(self.limits)
        dates, durations = set(), set()
        for index, format_id in enumerate(styles.cell_formats):
            code = styles.custom[format_id] if format_id in styles.custom else builtin_format_code(format_id)
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return dates, durations


def _refuse_doctype(*args):
    raise FileProblem(E_XLSX_BROKEN)


_LOCAL: dict[str, str] = {}


def _local(name: str) -> str:
    """An element or attribute name without its namespace prefix ("x:row" → "row")."""
    local = _LOCAL.get(name)
    if local is None:
        local = name.rpartition(":")[2]
        if len(_LOCAL) < 10_000:
            _LOCAL[name] = local
    return local


def _rel_id(attrs: dict) -> str | None:
    """The ``r:id`` of an element, whatever the prefix of the relationships namespace is called."""
    for key, value in attrs.items():
        if key.endswith(":id"):
            return value
    return None


def _resolve(source: str, target: str) -> str:
    """A relationship's target as a part name, relative to the part whose relationships name it."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


class _Relationships(_Part):
    def __init__(self, limits: ReadLimits):
        super().__init__(limits)
        self.by_id: dict[str, tuple[str, str]] = {}
        self.by_type: dict[str, str] = {}

    def opened(self, local, attrs):
        if local == "Relationship" and attrs.get("TargetMode") != "External" and "Target" in attrs:
            kind = attrs.get("Type", "").rpartition("/")[2]
            self.by_id.setdefault(attrs.get("Id", ""), (kind, attrs["Target"]))
            self.by_type.setdefault(kind, attrs["Target"])


class _WorkbookPart(_Part):
    """``<workbookPr date1904>`` and the ``<sheets>`` in order; stops after them."""

    def __init__(self, limits: ReadLimits):
        super().__init__(limits)
        self.max_sheets = limits.max_sheets
        self.date1904 = False
        self.sheets: list[tuple[str, str | None]] = []

    def opened(self, local, attrs):
        if local == "sheet":
            if len(self.sheets) >= self.max_sheets:
                raise FileProblem(_past_limit(TOO_MANY_SHEETS, self.max_sheets))
            self.sheets.append((attrs.get("name", ""), _rel_id(attrs)))
        elif local == "workbookPr":
            self.date1904 = attrs.get("date1904", "").strip().lower() in ("1", "true")

    def closed(self, local):
        if local == "sheets":
            raise _Stop


class _SharedStrings(_Part):
    """The ``<si>`` texts: their ``<t>`` and those of their runs, not the phonetic guide (``<rPh>``)."""

    def __init__(self, limits: ReadLimits):
        super().__init__(limits)
        self.max_strings = limits.max_cells
        self.strings: list[str] = []
        self.parts: list[str] | None = None
        self.collect: list[str] | None = None
        self.phonetic = 0

    def opened(self, local, attrs):
        if local == "si":
            if len(self.strings) >= self.max_strings:
                raise FileProblem(_past_limit(TOO_MANY_CELLS, self.max_strings))
            self.parts, self.phonetic = [], 0
        elif local == "rPh":
            self.phonetic += 1
        elif local == "t" and self.parts is not None and not self.phonetic:
            self.collect = self.parts

    def closed(self, local):
        if local == "si" and self.parts is not None:
            self.strings.append("".join(self.parts).replace("x005F_", ""))  # as openpyxl reads them
            self.parts = None
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "t":
            self.collect = None

    def text(self, data):
        if self.collect is not None:
            self.collect.append(data)


class _Styles(_Part):
    """The number format of each cell style (``<cellXfs>``); stops after them."""

    def __init__(self, limits: ReadLimits):
        super().__init__(limits)
        self.custom: dict[int, str] = {}
        self.cell_formats: list[int] = []
        self.in_num_fmts = self.in_cell_xfs = False

    def opened(self, local, attrs):
        if local == "numFmts":
            self.in_num_fmts = True
        elif local == "numFmt" and self.in_num_fmts:
            self.custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            self.cell_formats.append(int(attrs.get("numFmtId", "0")))

    def closed(self, local):
        if local == "numFmts":
            self.in_num_fmts = False
        elif local == "cellXfs":
            raise _Stop


# --- XLSX: the worksheet ---

CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _SheetReader(_Part):
    """The rows of a worksheet's ``<sheetData>`` as text, each value as openpyxl's reader gives it (``data_only=False``:
    a formula as its text), checked against the limits as the elements arrive.

    Elements are dispatched by name through two small tables: this is the hot path of a 20,000-row upload.
    """

    OPEN = {"row": "_open_row", "c": "_open_cell", "v": "_open_value", "f": "_open_formula", "is": "_open_inline",
            "t": "_open_text", "rPh": "_open_phonetic", "dimension": "_check_dimension"}
    CLOSE = {"row": "_close_row", "c": "_close_cell", "v": "_close_value", "f": "_close_formula",
             "is": "_close_inline", "t": "_close_text", "rPh": "_close_phonetic", "sheetData": "_close_sheet_data"}

    def __init__(self, strings: list[str], date_styles: set[int], duration_styles: set[int], epoch: datetime,
                 limits: ReadLimits):
        super().__init__(limits)
        self.strings, self.date_styles, self.duration_styles, self.epoch = strings, date_styles, duration_styles, epoch
        self.max_row_number, self.max_columns, self.max_cells = (limits.max_row_number, limits.max_columns,
                                                                 limits.max_cells)
        self.openers: dict[str, object] = {}
        self.closers: dict[str, object] = {}
        self.columns: dict[str, int] = {}
        self.done: list[tuple[int, list[str]]] = []
        self.row_number = self.column = self.row_cells = self.cells = 0
        self.row: dict[int, str] | None = None
        self.in_cell = False
        self.kind, self.style, self.value, self.formula, self.formula_text = "n", None, None, None, ""
        self.inline: list[str] | None = None
        self.inline_text: str | None = None
        self.phonetic = 0
        self.collect: list[str] | None = None
        self.shared_formulas: dict[str, object] = {}

    def take_rows(self) -> list[tuple[int, list[str]]]:
        rows, self.done = self.done, []
        return rows

    def _action(self, table: dict, names: dict, name: str):
        action = getattr(self, names[_local(name)]) if _local(name) in names else None
        if len(table) < 1000:  # element names are few; a file inventing millions gains nothing
            table[name] = action
        return action

    def start(self, name, attrs):
        self.elements += 1
        if self.elements > self.max_elements:
            raise FileProblem(_past_limit(TOO_COMPLEX, self.max_elements))
        action = self.openers[name] if name in self.openers else self._action(self.openers, self.OPEN, name)
        if action is not None:
            action(attrs)

    def end(self, name):
        action = self.closers[name] if name in self.closers else self._action(self.closers, self.CLOSE, name)
        if action is not None:
            action()

    def text(self, data):
        if self.collect is not None:
            self.collect.append(data)

    def _check_dimension(self, attrs):
        match = CELL_REFERENCE.match(attrs.get("ref", "").rpartition(":")[2].strip())
        if not match:
            return  # a hint only; the rows say what is there
        if int(match.group(2)) > self.max_row_number:
            raise FileProblem(_past_limit(TOO_MANY_ROW_NUMBERS, self.max_row_number))
        if _column_number(match.group(1)) > self.max_columns:
            raise FileProblem(_past_limit(TOO_MANY_COLUMNS, self.max_columns))

    def _open_row(self, attrs):
        number = attrs.get("r")
        number = int(float(number)) if number else self.row_number + 1
        if number <= self.row_number:
            raise ValueError("rows out of order")
        if number > self.max_row_number:
            raise FileProblem(_past_limit(TOO_MANY_ROW_NUMBERS, self.max_row_number))
        self.row_number, self.row, self.row_cells, self.column = number, {}, 0, 0

    def _close_row(self):
        if self.row:
            row = self.row
            self.done.append((self.row_number, [row.get(i, "") for i in range(1, max(row) + 1)]))
        self.row = None

    def _open_cell(self, attrs):
        if self.row is None:
            return
        self.row_cells += 1
        if self.row_cells > self.max_columns:
            raise FileProblem(_past_limit(TOO_MANY_COLUMNS, self.max_columns), row=self.row_number)
        self.cells += 1
        if self.cells > self.max_cells:
            raise FileProblem(_past_limit(TOO_MANY_CELLS, self.max_cells))
        reference = attrs.get("r")
        if reference:
            letters = reference.rstrip("0123456789")
            column = self.columns.get(letters)
            if column is None:
                match = CELL_REFERENCE.match(reference)
                if not match:
                    raise ValueError(f"bad cell reference {reference!r}")
                column = _column_number(match.group(1))
                if column <= self.max_columns:
                    self.columns[letters] = column
            self.column = column
        else:
            self.column += 1
        if self.column > self.max_columns:
            raise FileProblem(_past_limit(TOO_MANY_COLUMNS, self.max_columns), row=self.row_number)
        self.in_cell = True
        self.kind, self.style = attrs.get("t", "n"), attrs.get("s")
        self.value = self.formula = self.inline_text = None

    def _close_cell(self):
        if self.in_cell:
            self.in_cell = False
            text = self._text()
            if text:
                self.row[self.column] = text

    def _open_value(self, attrs):
        if self.in_cell:
            self.collect = []

    def _close_value(self):
        if self.in_cell and self.collect is not None:
            self.value, self.collect = "".join(self.collect), None

    def _open_formula(self, attrs):
        if self.in_cell:
            self.formula, self.collect = attrs, []

    def _close_formula(self):
        if self.in_cell and self.collect is not None:
            self.formula_text, self.collect = "".join(self.collect), None

    def _open_inline(self, attrs):
        if self.in_cell:
            self.inline, self.phonetic = [], 0

    def _close_inline(self):
        if self.inline is not None:
            self.inline_text, self.inline = "".join(self.inline), None

    def _open_text(self, attrs):
        if self.inline is not None and not self.phonetic:
            self.collect = self.inline

    def _close_text(self):
        if self.inline is not None:
            self.collect = None

    def _open_phonetic(self, attrs):
        self.phonetic += 1

    def _close_phonetic(self):
        self.phonetic -= 1

    def _close_sheet_data(self):
        raise _Stop

    def _text(self) -> str:
        """The finished cell's value as text."""
        if self.formula is not None:
            return self._formula_text()
        kind, value = self.kind, self.value
        if kind == "inlineStr":
            return (self.inline_text or "").strip()
        if not value:
            return ""
        if kind == "s":
            return self.strings[int(value)].strip()
        if kind == "n":
            number = float(value) if ("." in value or "e" in value or "E" in value) else int(value)
            style = int(self.style) if self.style else 0
            if style in self.date_styles:
                from openpyxl.utils.datetime import from_excel

                try:
                    return cell_text(from_excel(number, self.epoch, timedelta=style in self.duration_styles))
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return cell_text(number)
        if kind == "b":
            return cell_text(bool(int(value)))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return cell_text(from_ISO8601(value))
        return value.strip()  # "str", "e" (an error such as #N/A) and anything unknown: the text as stored

    def _formula_text(self) -> str:
        from openpyxl.formula.translate import Translator

        formula = "=" + self.formula_text
        self.formula_text = ""
        if self.formula.get("t") == "shared":
            index = self.formula.get("si")
            here = f"{_column_letters(self.column)}{self.row_number}"
            if index in self.shared_formulas:
                return self.shared_formulas[index].translate_formula(here).strip()
            if formula != "=":
                self.shared_formulas[index] = Translator(formula, here)
        return formula.strip()


def cell_text(value) -> str:
    """A cell's value as the text a person sees: 3.0 → "3", a date → "YYYY-MM-DD"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"
