"""Pure rules of meeting preparation: deadlines, need-to-know defaults, the consent gate."""
from datetime import date, timedelta

from conference.models.accounts import Sector
from conference.models.meetings import PacketSection

#: What each kind of agency needs to know about a case by default; the coordinator can change it per case.
DEFAULT_SECTIONS = {
    Sector.WELFARE_DIVISION: set(PacketSection),
    Sector.CASE_MANAGEMENT_CENTRE: set(PacketSection),
    Sector.COMMUNITY_CENTRE: set(PacketSection),
    Sector.MENTAL_HEALTH: set(PacketSection),
    Sector.DREAM_START: {PacketSection.SUMMARY, PacketSection.HOUSEHOLD, PacketSection.NEEDS, PacketSection.HISTORY,
                         PacketSection.INPUTS},
    Sector.HEALTH_CENTRE: {PacketSection.SUMMARY, PacketSection.HOUSEHOLD, PacketSection.NEEDS},
    Sector.POLICE: {PacketSection.SUMMARY, PacketSection.NEEDS},
    Sector.SCHOOL: {PacketSection.SUMMARY, PacketSection.HOUSEHOLD},
    Sector.DISABILITY: {PacketSection.SUMMARY, PacketSection.HOUSEHOLD, PacketSection.NEEDS},
    Sector.PRIVATE: {PacketSection.SUMMARY, PacketSection.HOUSEHOLD},
    Sector.OTHER: {PacketSection.SUMMARY},
}

#: Sectors that only need a case when it has children, unless the coordinator adds them.
CHILD_FOCUSED = {Sector.DREAM_START, Sector.SCHOOL}


def default_sections(sector: str, *, has_children: bool) -> set[str]:
    """The packet sections an agency of ``sector`` sees for a case by default."""
    sections = DEFAULT_SECTIONS.get(Sector(sector), {PacketSection.SUMMARY})
    if Sector(sector) in CHILD_FOCUSED and not has_children:
        sections = {PacketSection.SUMMARY}
    return {s.value for s in sections}


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
