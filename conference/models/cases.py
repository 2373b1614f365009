"""Households (cases), their members, status history, consent and needs assessments."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, and_, func, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import now_utc
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.disclosure import disclosure_column
from conference.models.labels import LabelledEnum


class Stage(LabelledEnum):
    """Stages of 통합사례관리 a household moves through."""

    DISCOVERED = "discovered", _l("발굴")
    COUNSELLING = "counselling", _l("초기상담")
    INTAKE = "intake", _l("접수")
    ASSESSMENT = "assessment", _l("욕구조사")
    SELECTED = "selected", _l("선정")
    NOT_SELECTED = "not_selected", _l("비선정")
    CLOSED = "closed", _l("종결")
    AFTERCARE = "aftercare", _l("사후관리")


class Track(LabelledEnum):
    """What selection means for the household."""

    CASE_MANAGEMENT = "case_management", _l("사례관리 대상가구")
    SERVICE_LINK = "service_link", _l("서비스연계 대상가구")


class NeedDomain(LabelledEnum):
    """The ten need domains (욕구 영역) in their customary order, and 기타."""

    SAFETY = "safety", _l("안전")
    HEALTH = "health", _l("건강")
    DAILY_LIVING = "daily_living", _l("일상생활유지")
    FAMILY = "family", _l("가족관계")
    SOCIAL = "social", _l("사회적 관계")
    ECONOMY = "economy", _l("경제")
    EDUCATION = "education", _l("교육")
    EMPLOYMENT = "employment", _l("고용")
    ENVIRONMENT = "environment", _l("생활환경")
    LEGAL = "legal", _l("법률 및 권익보장")
    OTHER = "other", _l("기타")


class CaseNumberCounter(db.Model):
    """The last case number handed out per year; rows are locked while a number is taken."""

    __tablename__ = "case_number_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)


def case_number(year: int, seq: int) -> str:
    """사례번호 as shown and searched: 2021-0043."""
    return f"{year}-{seq:04d}"


class CaseLabels:
    """What a household and a line of a case list show alike, from their case_year, case_seq and status."""

    __slots__ = ()

    @property
    def case_number(self) -> str:
        return case_number(self.case_year, self.case_seq)

    @property
    def stage(self) -> Stage:
        return Stage(self.status)


class Household(CaseLabels, db.Model):
    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("case_year", "case_seq"),
        Index("ix_household_discovered_on", "discovered_on"),
        #: Quarterly counts by route (dashboard, 분기별 실적).
        Index("ix_household_discovered_route", "discovered_on", "discovery_route"),
        Index("ix_household_status_case", "status", "case_year", "case_seq"),
        #: The case list filtered by stage and 행정동 together: in case order, or sorted by 발굴일 from the index
        #: alone (and its capped count).
        Index("ix_household_status_district_case", "status", "district", "case_year", "case_seq", "discovered_on"),
        #: The case list filtered or sorted by 행정동, in case order within it.
        Index("ix_household_district_case", "district", "case_year", "case_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Case number parts: shown as "2021-0043".
    case_year: Mapped[int] = mapped_column()
    case_seq: Mapped[int] = mapped_column()
    district: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), default="")
    #: 가구원수 as reported (may exceed the members recorded here).
    household_size: Mapped[int] = mapped_column(default=1)
    discovery_route: Mapped[str] = mapped_column(String(40), index=True)
    discovered_on: Mapped[date] = mapped_column(Date)
    #: 추출회차 "YYYY-N" of the national discovery system, if it came from there.
    extraction_round: Mapped[str] = mapped_column(String(10), default="")
    #: Crisis signals (단전, 단수, 건강보험료 체납 …), separated by ";".
    crisis_signals: Mapped[str] = mapped_column(Text, default="")
    #: Disclosure of the crisis signals as typed (위기정보).
    signals_level: Mapped[str] = disclosure_column()
    referring_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=Stage.DISCOVERED.value)
    #: Set when selected: 사례관리 or 서비스연계.
    track: Mapped[str] = mapped_column(String(20), default="")
    classification: Mapped[str] = mapped_column(String(20), default="", index=True)
    closure_reason: Mapped[str] = mapped_column(String(40), default="")
    #: 다음 점검일: when the coordinator next checks on the household.
    next_check_on: Mapped[date | None] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column(onupdate=now_utc)

    members: Mapped[list["Member"]] = relationship(
        back_populates="household", order_by=lambda: [Member.is_head.desc(), Member.id],
        cascade="all, delete-orphan", lazy="raise")
    head: Mapped["Member | None"] = relationship(
        primaryjoin=lambda: and_(Member.household_id == Household.id, Member.is_head.is_(True)),
        viewonly=True, uselist=False, lazy="raise")
    coordinator = relationship("User", foreign_keys=[coordinator_id], lazy="raise")
    referring_agency = relationship("Agency", foreign_keys=[referring_agency_id], lazy="raise")
    status_changes: Mapped[list["StatusChange"]] = relationship(
        back_populates="household", order_by="StatusChange.id.desc()", lazy="raise")
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="household", order_by="Consent.id.desc()", lazy="raise")
    assessments: Mapped[list["Assessment"]] = relationship(
        back_populates="household", order_by="Assessment.id.desc()", lazy="raise")
    actions = relationship("ActionItem", order_by="ActionItem.due_on", viewonly=True, lazy="raise")
    monitoring: Mapped[list["MonitoringEntry"]] = relationship(
        back_populates="household", order_by="MonitoringEntry.contacted_on.desc(), MonitoringEntry.id.desc()",
        lazy="raise")

    @property
    def signals(self) -> list[str]:
        return [s for s in self.crisis_signals.split(";") if s]

    def __repr__(self):
        return f"<Household {self.case_number}>"


class Member(db.Model):
    """A person in the household; exactly one is the head (세대주/대상자)."""

    __tablename__ = "household_member"
    __table_args__ = (
        Index("ix_member_name_birth", "name", "birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = parent_key("household")
    is_head: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(50))
    #: 관계 to the head: 본인, 배우자, 자녀, 부, 모 …
    relation: Mapped[str] = mapped_column(String(20), default="")
    birth_year: Mapped[int] = mapped_column()
    #: Full birth date when known; never a resident registration number.
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(2), default="")
    has_disability: Mapped[bool] = mapped_column(default=False)

    household: Mapped[Household] = relationship(back_populates="members", lazy="raise")

    def age(self, today: date) -> int:
        if self.birth_date is not None:
            return today.year - self.birth_date.year - (
                (today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        return today.year - self.birth_year

    def is_child(self, today: date) -> bool:
        return self.age(today) < 18

    def is_older(self, today: date) -> bool:
        return self.age(today) >= 65

    def flags(self, today: date) -> list[str]:
        """아동 / 노인 / 장애, as shown next to the member."""
        flags = []
        if self.is_child(today):
            flags.append(_l("아동"))
        if self.is_older(today):
            flags.append(_l("노인"))
        if self.has_disability:
            flags.append(_l("장애"))
        return flags

    @property
    def birth_text(self) -> str:
        return self.birth_date.isoformat() if self.birth_date else str(self.birth_year)


#: A name search finds any part of a head's name (민수 finds 김민수) by reading one range of an index for each place
#: the text may start at: the name lowered from its 1st, 2nd, … character on. The index of a place holds the heads
#: whose name reaches it, so those of the later places (foreign-born heads' longer names) are small. Names longer
#: still have an index of their own (``cases.queries``). The 1st place's also serves the list sorted by name. On
#: PostgreSQL each expression has statistics too (migration 0025): a partial index's are not used.
NAME_SEARCH_PLACES = 8


def head_name_from(place: int):
    """SQL: the member's name in lower case from its ``place``-th character on (1: the whole name), written as the
    index ``ix_member_head_name_from_<place>`` is, with the place as a literal so that SQLite matches the two."""
    lowered = func.lower(Member.name)
    return lowered if place == 1 else func.substr(lowered, literal_column(str(place)))


def _reaches(place: int) -> str:
    """The condition of the place's partial index, written out: the name has a ``place``-th character."""
    return f"length(name) >= {place}"


def name_reaches(place: int):
    """SQL: the member's name has a ``place``-th character, as ``_reaches`` says it (the place a literal)."""
    return func.length(Member.name) >= literal_column(str(place))


def _heads_where(*conditions: str) -> dict:
    return {"sqlite_where": text(" AND ".join(("is_head IS 1", *conditions))),
            "postgresql_where": text(" AND ".join(("is_head IS true", *conditions)))}


for _place in range(1, NAME_SEARCH_PLACES + 1):
    Index(f"ix_member_head_name_from_{_place}", head_name_from(_place), Member.household_id,
          **_heads_where(*([_reaches(_place)] if _place > 1 else [])))
Index("ix_member_head_long_name", Member.household_id, **_heads_where(_reaches(NAME_SEARCH_PLACES + 1)))


class StatusChange(db.Model):
    """Every change of stage, track or classification: who, when and why."""

    __tablename__ = "household_status_change"
    #: Selections per quarter (dashboard, 분기별 실적).
    __table_args__ = (Index("ix_status_change_to_status_at", "to_status", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = parent_key("household")
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), index=True)
    track: Mapped[str] = mapped_column(String(20), default="")
    classification: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = timestamp_column(index=True)

    household: Mapped[Household] = relationship(back_populates="status_changes", lazy="raise")
    changed_by = relationship("User", lazy="raise")


consent_agency = db.Table(
    "consent_agency",
    db.Column("consent_id", db.ForeignKey("consent.id", ondelete="CASCADE"), primary_key=True),
    db.Column("agency_id", db.ForeignKey("agency.id"), primary_key=True),
)


class Consent(db.Model):
    """정보제공 동의: which agencies may receive the household's information, and whether sensitive data too."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = parent_key("household")
    consented_on: Mapped[date] = mapped_column(Date)
    #: Covers sensitive information (health, mental health) as well.
    covers_sensitive: Mapped[bool] = mapped_column(default=False)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = timestamp_column()

    household: Mapped[Household] = relationship(back_populates="consents", lazy="raise")
    agencies = relationship("Agency", secondary=consent_agency, order_by="Agency.name", lazy="raise")

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_on is not None


class Assessment(db.Model):
    """욕구 및 위기도 조사: one rating per need domain; a reassessment is a new row, history kept."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = parent_key("household")
    assessed_on: Mapped[date] = mapped_column(Date)
    #: 종합 소견, shown in the case summary of packets and minutes as its level allows.
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_level: Mapped[str] = disclosure_column()
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = timestamp_column()

    household: Mapped[Household] = relationship(back_populates="assessments", lazy="raise")
    ratings: Mapped[list["DomainRating"]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", lazy="raise")
    assessed_by = relationship("User", lazy="raise")

    def rating_map(self) -> dict[str, "DomainRating"]:
        return {r.domain: r for r in self.ratings}


class DomainRating(db.Model):
    __tablename__ = "assessment_rating"
    __table_args__ = (UniqueConstraint("assessment_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = parent_key("assessment")
    domain: Mapped[str] = mapped_column(String(20))
    #: A value of ASSESSMENT_SCALE, or "" when the domain was not rated.
    rating: Mapped[str] = mapped_column(String(20), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_level: Mapped[str] = disclosure_column()

    assessment: Mapped[Assessment] = relationship(back_populates="ratings", lazy="raise")


class MonitoringEntry(db.Model):
    """모니터링: a contact with the household — when, how (방문/전화/내방/기관 연계), what, by whom."""

    __tablename__ = "monitoring_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = parent_key("household")
    contacted_on: Mapped[date] = mapped_column(Date)
    #: A value of MONITORING_METHODS.
    method: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = timestamp_column()

    household: Mapped[Household] = relationship(back_populates="monitoring", lazy="raise")
    by = relationship("User", lazy="raise")


MONITORING_METHODS = {"visit": _l("방문"), "phone": _l("전화"), "office": _l("내방"), "agency": _l("기관 연계")}


class ImportBatch(db.Model):
    """An uploaded discovery list waiting for the coordinator to confirm its preview; emptied once used."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(200))
    #: JSON of the validated rows; cleared when imported or cancelled.
    payload: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = timestamp_column()
