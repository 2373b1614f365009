"""Meetings, their invitations, agendas, need-to-know settings and confidentiality pledges."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import UTCDateTime
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.disclosure import disclosure_column
from conference.models.labels import LabelledEnum


class MeetingKind(LabelledEnum):
    # The third text is the official (Korean) name in a meeting's numbered title, in every UI language and document.
    INTERNAL = "internal", _l("내부사례회의"), "내부사례회의"
    INTEGRATED = "integrated", _l("민관 통합사례회의"), "민관협력 통합사례회의"
    SOLUTION = "solution", _l("솔루션회의"), "솔루션회의"

    @property
    def title_label(self):
        """The name used in a meeting's numbered title."""
        return self.note


class MeetingStatus(LabelledEnum):
    PREPARING = "preparing", _l("준비")
    SHARING = "sharing", _l("자료 공유")
    IN_PROGRESS = "in_progress", _l("회의 중")
    MINUTES = "minutes", _l("회의록 작성")
    REVIEW = "review", _l("검토")
    FINALISED = "finalised", _l("확정")


class PacketSection(LabelledEnum):
    """Parts of a case in a pre-read packet that an agency may or may not see."""

    SUMMARY = "summary", _l("사례 개요")
    HOUSEHOLD = "household", _l("가구 구성")
    NEEDS = "needs", _l("욕구·위기도와 사례 구분")
    HISTORY = "history", _l("이전 회의와 실행과제")
    INPUTS = "inputs", _l("다른 기관 의견")


def meeting_title(year: int, number: int, kind: str) -> str:
    """2021년도 제3회 민관협력 통합사례회의: the official name, in every UI language and document."""
    return f"{year}년도 제{number}회 {MeetingKind(kind).title_label}"


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("kind", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: "YYYY년도 제N회": the year and the running number within the year and kind.
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    place: Mapped[str] = mapped_column(String(200))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.PREPARING.value, index=True)
    created_at: Mapped[datetime] = timestamp_column()

    chair = relationship("User", foreign_keys=[chair_id], lazy="raise")
    coordinator = relationship("User", foreign_keys=[coordinator_id], lazy="raise")
    invitations: Mapped[list["Invitation"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", lazy="raise")
    agenda_items: Mapped[list["AgendaItem"]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan", lazy="raise")
    pledges: Mapped[list["Pledge"]] = relationship(back_populates="meeting", lazy="raise")
    attendees = relationship("Attendee", order_by="Attendee.id", cascade="all, delete-orphan", passive_deletes=True,
                             lazy="raise")
    minutes = relationship("Minutes", uselist=False, cascade="all, delete-orphan", passive_deletes=True,
                           lazy="raise")
    packet_snapshot = relationship("PacketSnapshot", uselist=False, cascade="all, delete-orphan", passive_deletes=True,
                                   lazy="raise")
    reviews = relationship("ActionReview", order_by="ActionReview.id", cascade="all, delete-orphan", passive_deletes=True,
                           lazy="raise")

    @property
    def meeting_kind(self) -> MeetingKind:
        return MeetingKind(self.kind)

    @property
    def meeting_status(self) -> MeetingStatus:
        return MeetingStatus(self.status)

    @property
    def title(self) -> str:
        return meeting_title(self.year, self.number, self.kind)


class Invitation(db.Model):
    """An agency invited to a meeting, with its request for information (deadline)."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("meeting_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: 정보 요청 기한: the agency's input is due by the end of this day.
    deadline: Mapped[date] = mapped_column(Date)
    #: Named people of the agency, free text ("서마음 팀장"); optional.
    invitees: Mapped[str] = mapped_column(String(200), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="invitations", lazy="raise")
    agency = relationship("Agency", lazy="raise")


class AgendaItem(db.Model):
    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting")
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: 논의 요청사항: the question the meeting should answer for this case.
    key_question: Mapped[str] = mapped_column(Text, default="")
    key_question_level: Mapped[str] = disclosure_column()
    presenting_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    minutes_allotted: Mapped[int] = mapped_column(default=15)
    #: Why the case is shared with invited agencies its consent does not cover; empty when consent covers all.
    consent_override_reason: Mapped[str] = mapped_column(Text, default="")
    #: 보류 (다음 회의로): why the meeting put the case off; empty when it was not postponed. A postponed case needs no
    #: record for review and approval, and is proposed for the next meeting's agenda.
    postponed_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    postponed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = timestamp_column()

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items", lazy="raise")
    household = relationship("Household", lazy="raise")
    presenting_agency = relationship("Agency", lazy="raise")
    visibility: Mapped[list["SectionVisibility"]] = relationship(
        back_populates="agenda_item", cascade="all, delete-orphan", lazy="raise")
    inputs = relationship("AgencyInput", viewonly=True, lazy="raise")
    record = relationship("CaseRecord", uselist=False, cascade="all, delete-orphan", passive_deletes=True,
                          lazy="raise")
    actions = relationship("ActionItem", order_by="ActionItem.id", viewonly=True, lazy="raise")


class SectionVisibility(db.Model):
    """The packet sections one invited agency sees for one agenda item (need-to-know)."""

    __tablename__ = "section_visibility"
    __table_args__ = (UniqueConstraint("agenda_item_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = parent_key("agenda_item")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: Comma-separated PacketSection values.
    sections: Mapped[str] = mapped_column(String(200), default="")

    agenda_item: Mapped[AgendaItem] = relationship(back_populates="visibility", lazy="raise")

    @property
    def section_set(self) -> set[str]:
        return {s for s in self.sections.split(",") if s}


class Pledge(db.Model):
    """비밀유지 서약: a person's acceptance of confidentiality for one meeting."""

    __tablename__ = "pledge"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting")
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    accepted_at: Mapped[datetime] = timestamp_column()
    ip: Mapped[str] = mapped_column(String(45), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="pledges", lazy="raise")
    user = relationship("User", lazy="raise")


class PacketSnapshot(db.Model):
    """The full pre-read packet of a meeting as it stood when the meeting started (JSON, with each text's level
    and each agency's grant), so a past meeting's packets are shown as they were then, not rebuilt from today."""

    __tablename__ = "packet_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting", unique=True)
    content: Mapped[str] = mapped_column(Text)
    frozen_at: Mapped[datetime] = timestamp_column()
