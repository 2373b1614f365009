"""Hostile discovery-list files, built in memory: for the upload-limit tests and bench/bench_import_limits.py.

Each builder returns the file's bytes. The .xlsx ones start from a valid workbook written by openpyxl and then
change its parts the way an attacker would: the zip is rewritten, never hand-assembled from scratch, so only the
change under test is unusual.
"""
import io
import re
import struct
import zipfile

import openpyxl

COLUMNS = ["추출회차", "행정동", "성명", "생년월일", "성별", "연락처", "주소", "가구원수", "위기정보", "발굴경로", "비고"]
ROW = ["2021-1", "중앙동", "김민수", "1968-03-02", "남", "010-2345-6789", "경기도 동두천시 중앙로 101 2층", "3",
       "단전;건강보험료 체납", "복지사각지대 발굴시스템", ""]
SHEET = "xl/worksheets/sheet1.xml"
#: One cell of the wide row: an inline string, as the review's 223 KB file had two million of them.
INLINE_CELL = b'<c t="inlineStr"><is><t>x</t></is></c>'


def workbook(rows=(ROW,), sheets=1) -> bytes:
    """A valid .xlsx: the header and ``rows`` on the first of ``sheets`` sheets."""
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    for row in rows:
        book.active.append(row)
    for number in range(2, sheets + 1):
        book.create_sheet(f"Sheet{number}").append(["메모"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name).decode("utf-8")


def rezip(data: bytes, changed: dict | None = None, compresslevel: int = 6) -> bytes:
    """The package with some parts replaced or added (``{name: str, bytes or a function writing to a file}``)."""
    changed = dict(changed or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as target:
        names = [info.filename for info in source.infolist()]
        for name in names + [name for name in changed if name not in names]:
            content = changed.get(name, source.read(name) if name in names else b"")
            if callable(content):
                with target.open(name, "w", force_zip64=True) as stream:
                    content(stream)
            else:
                target.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return out.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The package with the unpacked size ``name`` declares (local header and central directory) set to ``size``.

    The content stays as it is: this is what a reader sees before it unpacks anything.
    """
    out = bytearray(data)
    raw = name.encode()
    # (signature, offset of the unpacked size, offset of the name length, offset of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = out.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", out, at + length_at)[0]
            if out[at + name_at:at + name_at + length] == raw:
                struct.pack_into("<I", out, at + size_at, size)
            at = out.find(signature, at + 4)
    return bytes(out)


def row_far_below(declared: bool = True) -> bytes:
    """The review's 1.7 KB file: the header, then one data row numbered 20,000,000.

    ``declared``: the sheet's ``<dimension>`` says so too (A1:K20000000); otherwise it still says A1:K2.
    """
    data = workbook()
    sheet = part(data, SHEET)
    sheet = re.sub(r'(<row r=")2(")', r"\g<1>20000000\2", sheet)
    sheet = re.sub(r'(<c r="[A-K])2(")', r"\g<1>20000000\2", sheet)
    if declared:
        sheet = sheet.replace('<dimension ref="A1:K2"/>', '<dimension ref="A1:K20000000"/>')
    assert 'r="20000000"' in sheet
    return rezip(data, {SHEET: sheet})


def wide_row(cells: int = 2_000_000) -> bytes:
    """The header, then one row of ``cells`` inline-string cells (the review's file: 2,000,000, 223 KB packed)."""
    data = workbook(rows=())
    head, tail = part(data, SHEET).split("</sheetData>")

    def write(stream):
        stream.write(head.encode() + b'<row r="2">')
        block = INLINE_CELL * 1000
        for _ in range(cells // 1000):
            stream.write(block)
        stream.write(INLINE_CELL * (cells % 1000) + b"</row></sheetData>" + tail.encode())

    return rezip(data, {SHEET: write}, compresslevel=1)


def gigabyte_part() -> bytes:
    """A valid list whose worksheet declares 1 GiB unpacked (the size fields forged; the content is the real one)."""
    return declare_size(workbook(), SHEET, 1 << 30)


def zip_bomb(megabytes: int = 8) -> bytes:
    """A valid list carrying an 'image' of ``megabytes`` zeros: it packs about 1000 : 1."""
    return rezip(workbook(), {"xl/media/image1.png": b"\0" * (megabytes << 20)})


def understated_part() -> bytes:
    """A worksheet holding 10 MB of rows that declares only 64 KB: unpacking must stop at 64 KB (and the CRC fails)."""
    data = workbook(rows=())
    head, tail = part(data, SHEET).split("</sheetData>")
    sheet = head.encode() + b"<row/>" * ((10 << 20) // 6) + b"</sheetData>" + tail.encode()
    return declare_size(rezip(data, {SHEET: sheet}, compresslevel=1), SHEET, 64 * 1024)


def many_sheets(count: int = 10) -> bytes:
    """A valid list on the first of ``count`` sheets."""
    return workbook(sheets=count)


def many_parts(count: int = 101) -> bytes:
    """A valid list with tiny extra parts, ``count`` parts in all."""
    data = workbook()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        present = len(archive.infolist())
    return rezip(data, {f"customXml/item{i}.xml": "<a/>" for i in range(count - present)})


def entity_expansion() -> bytes:
    """The 'billion laughs': a worksheet whose document type declares entities that expand a thousandfold each."""
    data = workbook()
    sheet = part(data, SHEET)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE worksheet [<!ENTITY l0 "ha">{laughs}]>'
    sheet = sheet.replace("<worksheet", doctype + "<worksheet", 1).replace("<t>", "<t>&l9;", 1)
    return rezip(data, {SHEET: sheet})


def csv_far_below(lines: int = 25_001) -> bytes:
    """A CSV: the header, a row, then ``lines`` empty lines and one more row."""
    return ("\n".join([",".join(COLUMNS), ",".join(ROW)]) + "\n" * lines + ",".join(ROW) + "\n").encode()


def csv_wide_row(cells: int = 100_000) -> bytes:
    """A CSV: the header, then one line of ``cells`` fields."""
    return (",".join(COLUMNS) + "\n" + "," * (cells - 1) + "x\n").encode()


def rows_past_the_limit(rows: int = 20_001) -> bytes:
    """The header and ``rows`` rows of 11 small numbers: refused only at the last one, the slowest refusal."""
    return workbook(rows=[[i % 10] * 11 for i in range(rows)])


def element_flood(count: int = 1_600_000) -> bytes:
    """A worksheet whose sheetData holds ``count`` empty elements that are no cells, spaced at random so that the
    part packs about 20 : 1 (under the ratio limit): refused at the element budget."""
    import random

    data = workbook()
    head, tail = part(data, SHEET).split("<sheetData>")
    pick = random.Random(1).choices
    spaced = [b"<x/>" + b" " * n for n in range(4)]

    def write(stream):
        stream.write(head.encode() + b"<sheetData>")
        for _ in range(count // 10_000):
            stream.write(b"".join(pick(spaced, k=10_000)))
        stream.write(tail.encode())

    return rezip(data, {SHEET: write})
