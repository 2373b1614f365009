"""Korean ways of writing dates and times, used by pages and documents alike."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
WEEKDAYS = "월화수목금토일"


def today_local() -> date:
    """The city's calendar day. The server may run on UTC; between 00:00 and 09:00 KST its date is yesterday's."""
    return datetime.now(KST).date()


def korean_date(day: date | datetime) -> str:
    """2021. 3. 24."""
    if isinstance(day, datetime):
        day = day.astimezone(KST).date()
    return f"{day.year}. {day.month}. {day.day}."


def korean_datetime(moment: datetime) -> str:
    """2021. 3. 24.(수) 14:00 in Korean time."""
    local = moment.astimezone(KST)
    return f"{korean_date(local.date())}({WEEKDAYS[local.weekday()]}) {local:%H:%M}"
