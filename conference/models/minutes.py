"""What a meeting decided: attendance, per-case records, and the minutes."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import UTCDateTime
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.disclosure import disclosure_column
from conference.models.labels import LabelledEnum


class Attendee(db.Model):
    """A person present at a meeting (name, agency and position as written on the attendance list)."""

    __tablename__ = "attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    name: Mapped[str] = mapped_column(String(50))
    agency_name: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(50), default="")


class CaseRecord(db.Model):
    """The meeting's record of one agenda item: discussion, root causes, decisions."""

    __tablename__ = "case_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = parent_key("agenda_item", unique=True)
    discussion: Mapped[str] = mapped_column(Text, default="")
    discussion_level: Mapped[str] = disclosure_column()
    decisions: Mapped[str] = mapped_column(Text, default="")
    #: Disclosure of the decisions and goals as written (the stage and classification decided are shared).
    decisions_level: Mapped[str] = disclosure_column()
    goals: Mapped[str] = mapped_column(Text, default="")
    #: Classification decided (empty: unchanged); applied to the household when the minutes are finalised.
    classification: Mapped[str] = mapped_column(String(20), default="")
    #: Stage decided (선정 or 종결; empty: unchanged), applied when the minutes are finalised.
    status_to: Mapped[str] = mapped_column(String(20), default="")
    track: Mapped[str] = mapped_column(String(20), default="")
    closure_reason: Mapped[str] = mapped_column(String(40), default="")
    #: Bumped on every save; a save from an older version is refused. The UPDATE also checks it
    #: (``version_id_col``), so of two saves running at once only the first is stored.
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = timestamp_column()

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    root_causes: Mapped[list["RootCause"]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="RootCause.id", lazy="raise")


class RootCause(db.Model):
    """근본원인: a cause found in one need domain."""

    __tablename__ = "root_cause"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = parent_key("case_record")
    domain: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = disclosure_column()

    record: Mapped[CaseRecord] = relationship(back_populates="root_causes", lazy="raise")


class MinutesStatus(LabelledEnum):
    DRAFT = "draft", _l("초안")
    REVIEW = "review", _l("검토 요청")
    FINAL = "final", _l("확정")


class Minutes(db.Model):
    """회의록 of a meeting: draft → review → final (locked, hashed); a correction is a new revision."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting", unique=True)
    status: Mapped[str] = mapped_column(String(20), default=MinutesStatus.DRAFT.value)
    revision: Mapped[int] = mapped_column(default=1)
    review_deadline: Mapped[date | None] = mapped_column(Date)
    next_meeting: Mapped[date | None] = mapped_column(Date)
    next_check: Mapped[date | None] = mapped_column(Date)
    #: SHA-256 of the finalised content (the JSON snapshot).
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    #: JSON of the finalised content, so the approved text never changes with later data.
    snapshot: Mapped[str] = mapped_column(Text, default="")
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    revisions: Mapped[list["MinutesRevision"]] = relationship(
        back_populates="minutes", order_by="MinutesRevision.revision.desc()", lazy="raise")
    responses: Mapped[list["ReviewResponse"]] = relationship(
        back_populates="minutes", order_by="ReviewResponse.id", lazy="raise")
    approved_by = relationship("User", lazy="raise")

    @property
    def minutes_status(self) -> MinutesStatus:
        return MinutesStatus(self.status)


class MinutesRevision(db.Model):
    """A finalised version kept when the minutes are corrected, with the reason for the correction."""

    __tablename__ = "minutes_revision"
    __table_args__ = (UniqueConstraint("minutes_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = parent_key("minutes")
    revision: Mapped[int] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    corrected_at: Mapped[datetime] = timestamp_column()

    minutes: Mapped[Minutes] = relationship(back_populates="revisions", lazy="raise")


class ReviewResponse(db.Model):
    """An attendee's answer to a review request: confirmed, or a comment."""

    __tablename__ = "review_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = parent_key("minutes")
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed: Mapped[bool] = mapped_column(default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = timestamp_column()

    minutes: Mapped[Minutes] = relationship(back_populates="responses", lazy="raise")
    user = relationship("User", lazy="raise")
