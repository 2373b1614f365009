"""Pure rules of meeting preparation: deadlines and the consent gate (need-to-know lives in conference.shared.disclosure)."""
from datetime import date, timedelta




def working_days_before(day: date, count: int, holidays: frozenset[date] = frozenset()) -> date:
    """The date ``count`` working days (Mon–Fri, not a holiday) before ``day``."""
    current = day
    while count > 0:
        current -= timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            count -= 1
    return current


def uncovered_agencies(invited_ids: set[int], consent) -> set[int]:
    """Invited agencies the household's current consent does not cover (all of them without consent)."""
    if consent is None or consent.is_withdrawn:
        return set(invited_ids)
    return set(invited_ids) - {agency.id for agency in consent.agencies}
