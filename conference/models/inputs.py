"""Agency input per agenda item (기관 의견) and its revisions."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import UTCDateTime
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.disclosure import disclosure_column
from conference.models.labels import LabelledEnum


class InputState(LabelledEnum):
    DRAFT = "draft", _l("작성 중")
    SUBMITTED = "submitted", _l("제출")


class AgencyInput(db.Model):
    """What one invited agency knows and thinks about one case on a meeting's agenda."""

    __tablename__ = "agency_input"
    __table_args__ = (UniqueConstraint("agenda_item_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = parent_key("agenda_item")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=InputState.DRAFT.value)
    #: 보유 정보: facts from the agency's own records.
    facts: Mapped[str] = mapped_column(Text, default="")
    facts_level: Mapped[str] = disclosure_column()
    #: 기관 의견: the agency's professional opinion.
    opinion: Mapped[str] = mapped_column(Text, default="")
    opinion_level: Mapped[str] = disclosure_column()
    #: Need domains concerned, comma-separated NeedDomain values.
    domains: Mapped[str] = mapped_column(String(200), default="")
    risk_concerns: Mapped[str] = mapped_column(Text, default="")
    risk_level: Mapped[str] = disclosure_column()
    #: What was withheld from this input and why (e.g. 상담 내용: 본인 미동의).
    withheld: Mapped[str] = mapped_column(Text, default="")
    #: A part only the coordinator reads; never shown to other agencies.
    coordinator_note: Mapped[str] = mapped_column(Text, default="")
    #: Incremented on every save; a save based on an older version is refused (no silent overwrite). The UPDATE
    #: also checks it (``version_id_col``), so of two saves running at once only the first is stored.
    version: Mapped[int] = mapped_column(default=0)
    #: Last saved after the agency's deadline.
    is_late: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = timestamp_column()
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    agenda_item = relationship("AgendaItem", lazy="raise")
    agency = relationship("Agency", lazy="raise")
    updated_by = relationship("User", lazy="raise")
    resources: Mapped[list["OfferedResource"]] = relationship(
        back_populates="agency_input", cascade="all, delete-orphan", order_by="OfferedResource.id", lazy="raise")
    revisions: Mapped[list["InputRevision"]] = relationship(
        back_populates="agency_input", cascade="all, delete-orphan", order_by="InputRevision.version.desc()",
        lazy="raise")

    @property
    def input_state(self) -> InputState:
        return InputState(self.state)

    @property
    def domain_list(self) -> list[str]:
        return [d for d in self.domains.split(",") if d]


class OfferedResource(db.Model):
    """A service or resource the agency can offer the household (public or private, of a type)."""

    __tablename__ = "offered_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_input_id: Mapped[int] = parent_key("agency_input")
    is_public: Mapped[bool] = mapped_column(default=True)
    #: 긴급복지 생계지원, 후원물품, 자원봉사 …
    kind: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")

    agency_input: Mapped[AgencyInput] = relationship(back_populates="resources", lazy="raise")


class InputRevision(db.Model):
    """A saved version of an agency input: who, when, and the full text then (JSON)."""

    __tablename__ = "input_revision"
    __table_args__ = (UniqueConstraint("agency_input_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_input_id: Mapped[int] = parent_key("agency_input")
    version: Mapped[int] = mapped_column()
    saved_at: Mapped[datetime] = timestamp_column()
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: JSON snapshot of the fields after this save.
    snapshot: Mapped[str] = mapped_column(Text)
    #: Comma-separated names of the fields this save changed.
    changed: Mapped[str] = mapped_column(String(200), default="")

    agency_input: Mapped[AgencyInput] = relationship(back_populates="revisions", lazy="raise")
    saved_by = relationship("User", lazy="raise")
