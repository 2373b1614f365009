"""The audit-trail export: plain rows in, .xlsx bytes out (no request, no database)."""
from datetime import datetime

from conference.core.formatting import KST, korean_datetime
from conference.documents import xlsx_kit

HEADERS = ["순번", "일시(한국 시간)", "계정", "IP", "행위", "대상", "대상 번호", "내용"]
#: An Excel cell holds at most 32,767 characters.
CELL_LIMIT = 32_000


def build_audit_xlsx(events: list, *, exported_by: str, exported_at: datetime, purpose: str,
                     filters: list[tuple[str, str]]) -> bytes:
    """A sheet saying who exported what, when and why (with the filters as labelled pairs), then the events.

    ``events`` are rows of (chain_seq, occurred_at, actor_name, ip, action, object_type, object_id, details).
    """
    workbook, sheet = xlsx_kit.new_workbook("감사 기록")
    about = [("내려받은 사람", exported_by), ("내려받은 때", korean_datetime(exported_at)), ("목적", purpose),
             ("건수", f"{len(events):,}"), *filters]
    row = xlsx_kit.add_table(sheet, 1, "내려받기 정보", ["항목", "내용"], about)
    xlsx_kit.add_table(sheet, row, f"감사 기록 {len(events):,}건", HEADERS, (
        [seq if seq is not None else "", _local(occurred_at), actor, ip, action, object_type, object_id,
         details[:CELL_LIMIT]]
        for seq, occurred_at, actor, ip, action, object_type, object_id, details in events))
    for column, width in zip("ABCDEFGH", (9, 20, 14, 16, 20, 14, 12, 80), strict=True):
        sheet.column_dimensions[column].width = width
    return xlsx_kit.to_bytes(workbook)


def _local(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")
