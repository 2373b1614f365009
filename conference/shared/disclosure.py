"""Need-to-know: what a reader may read of a case discussed at a meeting. Every output asks here.

A ``Grant`` says, for one reader and one case on one meeting's agenda, whether the case may be seen at all, which
packet sections, and whether sensitive data (health, mental health) too. It comes from the household's current
consent (agencies covered, sensitive data covered, withdrawn), the coordinator's per-case section settings for the
agency (or its sector's defaults), and a recorded consent override. Each piece of free text carries a
``Disclosure`` level chosen by its writer; ``Grant.may_read`` decides a piece from its level and section. The city
(coordinators, and the meeting's chair) reads everything; an agency always reads what it wrote itself.
"""
from dataclasses import dataclass

from conference.core.formatting import today_local
from conference.core.i18n import lazy_gettext as _l
from conference.models.accounts import Sector
from conference.models.cases import NeedDomain
from conference.models.disclosure import Disclosure
from conference.models.meetings import PacketSection

#: Need domains whose content is sensitive information (health, mental health).
SENSITIVE_DOMAINS = frozenset({NeedDomain.HEALTH.value})
#: Agencies whose every word about a household is sensitive by default.
SENSITIVE_SECTORS = frozenset({Sector.MENTAL_HEALTH.value, Sector.HEALTH_CENTRE.value})
ALL_SECTIONS = frozenset(s.value for s in PacketSection)

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


def default_level(*, domain: str | None = None, sector: str | None = None) -> Disclosure:
    """The level new text starts at: 민감정보 in a sensitive domain or from a health agency, else 참석기관 공유."""
    if domain in SENSITIVE_DOMAINS or sector in SENSITIVE_SECTORS:
        return Disclosure.SENSITIVE
    return Disclosure.SHARED


#: The answer to a 공개 범위 that is not one of the levels (a tampered form, a wrong call).
UNKNOWN_LEVEL = _l("공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요.")


def is_level(value) -> bool:
    """Whether ``value`` names a Disclosure level."""
    return value in {level.value for level in Disclosure}


def level_of(value: str | None) -> Disclosure:
    """A stored level; anything unknown (an older snapshot without levels) reads as 민감정보."""
    try:
        return Disclosure(value)
    except ValueError:
        return Disclosure.SENSITIVE


@dataclass(frozen=True)
class Grant:
    """What one reader may read of one case in one meeting."""

    #: The city: coordinators and the chair read everything.
    full: bool = False
    #: The case may be shown at all (beyond its agenda line): consent covers the agency, or an override was recorded.
    visible: bool = False
    sections: frozenset[str] = frozenset()
    #: The household's consent covers sensitive data for this agency.
    sensitive: bool = False

    def shows(self, section: str) -> bool:
        return self.full or (self.visible and section in self.sections)

    def may_read(self, level: str | None, section: str | None = None, *, writer: int | None = None,
                 reader: int | None = None) -> bool:
        """May the reader read a text of ``level`` (in ``section``, when it belongs to one)? An agency always reads
        what it wrote (``writer`` is the reader's agency)."""
        if self.full or (writer is not None and writer == reader):
            return True
        if not self.visible or (section is not None and section not in self.sections):
            return False
        level = level_of(level)
        if level == Disclosure.INTERNAL:
            return False
        return level == Disclosure.SHARED or self.sensitive

    def may_read_domain(self, domain: str) -> bool:
        """A need rating in a sensitive domain is itself sensitive."""
        return self.full or domain not in SENSITIVE_DOMAINS or self.sensitive

    def stricter(self, other: "Grant | None") -> "Grant":
        """What both grants allow (a frozen grant against today's consent: the stricter wins)."""
        if other is None:
            return self
        if self.full and other.full:
            return self
        if self.full:
            return other
        if other.full:
            return self
        return Grant(visible=self.visible and other.visible, sections=self.sections & other.sections,
                     sensitive=self.sensitive and other.sensitive)

    def to_dict(self) -> dict:
        return {"visible": self.visible, "sections": sorted(self.sections), "sensitive": self.sensitive}

    @classmethod
    def from_dict(cls, raw: dict) -> "Grant":
        return cls(visible=bool(raw.get("visible")), sections=frozenset(raw.get("sections", ())),
                   sensitive=bool(raw.get("sensitive")))


FULL = Grant(full=True, visible=True, sections=ALL_SECTIONS, sensitive=True)
NOTHING = Grant()


def kept_grant(grants: dict[int, Grant], agency_id: int, today: Grant | None = None) -> Grant:
    """What an agency reads of a case in a kept document (a frozen packet, approved minutes): the grant kept with
    it, narrowed by today's (the stricter wins); today's alone for a document kept before grants were."""
    if not grants:
        return today or NOTHING
    return grants.get(agency_id, NOTHING).stricter(today)


class Reading:
    """One reader going through one case under a grant: keeps what may be read, counts what is withheld."""

    def __init__(self, grant: Grant, reader: int):
        self.grant, self.reader, self.not_shown = grant, reader, 0

    def keep(self, text, level: str, section: str | None = None, writer: int | None = None):
        """``text`` when the reader may read it, else an empty one of its kind (counted)."""
        if not text or self.grant.may_read(level, section, writer=writer, reader=self.reader):
            return text
        self.not_shown += 1
        return type(text)()

    def withhold(self) -> None:
        """Count a piece left out whole (a need row, another agency's input)."""
        self.not_shown += 1


def case_grant(item, agency_id: int | None, consent) -> Grant:
    """The grant of one agenda item for one invited agency (None: the city's full view).

    ``item`` needs its meeting's invitations (with agencies), its ``visibility`` rows and its household's members
    loaded; ``consent`` is the household's current consent (``cases.services.current_consent``).
    """
    if agency_id is None:
        return FULL
    invitation = next((i for i in item.meeting.invitations if i.agency_id == agency_id), None)
    if invitation is None:
        return NOTHING
    covered = consent is not None and not consent.is_withdrawn and any(a.id == agency_id for a in consent.agencies)
    if not covered and not item.consent_override_reason:
        return NOTHING
    row = next((v for v in item.visibility if v.agency_id == agency_id), None)
    if row is not None:
        sections = frozenset(row.section_set)
    else:  # no setting saved: the sector's default
        today = today_local()
        children = any(m.is_child(today) for m in item.household.members)
        sections = frozenset(default_sections(invitation.agency.sector, has_children=children))
    return Grant(visible=True, sections=sections, sensitive=covered and consent.covers_sensitive)


def agency_grants(item, consent) -> dict[int, Grant]:
    """The grant of every agency invited to the item's meeting."""
    return {i.agency_id: case_grant(item, i.agency_id, consent) for i in item.meeting.invitations}
