"""Actions a meeting decides (실행계획), what happens to them afterwards, and later meetings' reviews of them."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import UTCDateTime
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.disclosure import disclosure_column
from conference.models.labels import LabelledEnum


class ActionStatus(LabelledEnum):
    PLANNED = "planned", _l("확정 전")
    OPEN = "open", _l("진행 전")
    IN_PROGRESS = "in_progress", _l("진행 중")
    DONE = "done", _l("완료")
    CHANGED = "changed", _l("상황 변화")
    NOT_DONE = "not_done", _l("미이행")

#: How an action still open is shown once its agency proposed it done, until the coordinator confirms (완료 확인).
PROPOSED_LABEL = _l("완료 제안됨")


#: Open or in progress: the actions an agency still works on.
ACTIVE_STATUSES = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)
#: The same as the partial index's condition (see ``ActionItem.is_active``).
ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{status}'" for status in ACTIVE_STATUSES))


def shown_status_label(status: str, proposed: bool):
    """The status an action is shown with: 완료 제안됨 while a completion proposal waits, else its status."""
    if proposed and status in ACTIVE_STATUSES:
        return PROPOSED_LABEL
    return ActionStatus(status).label


#: Outcomes a meeting records for an earlier action.
REVIEW_OUTCOMES = (ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.CHANGED, ActionStatus.NOT_DONE)


class ActionItem(db.Model):
    """실행계획: what is to be done for a household, in which domain, by which agency and whom, by when."""

    __tablename__ = "action_item"
    __table_args__ = (
        #: An agency's list by status picks its page of ids from this index alone (conference/actions/queries.py),
        #: the household included for the consent check (permissions.visible_actions).
        Index("ix_action_item_agency_status_due", "agency_id", "status", "due_on", "household_id"),
        #: An agency's active actions in the list's order (due date, id): its first page and its capped counts stop
        #: after a page's worth of rows however many actions the agency holds. The statuses are written out (the
        #: queries say ``ACTIVE_SQL``) so that both databases see that the query's condition implies the index's.
        Index("ix_action_item_active_agency_due", "agency_id", "due_on", "id",
              sqlite_where=text(ACTIVE_SQL), postgresql_where=text(ACTIVE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    task: Mapped[str] = mapped_column(Text)
    task_level: Mapped[str] = disclosure_column()
    domain: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    person: Mapped[str] = mapped_column(String(50), default="")
    due_on: Mapped[date] = mapped_column(Date, index=True)
    #: Linked resource: public (True) or private (False), and its type; empty when none.
    resource_public: Mapped[bool | None] = mapped_column()
    resource_kind: Mapped[str] = mapped_column(String(100), default="")
    #: Why the action goes to an agency the household's consent does not cover; empty when it covers it.
    consent_override_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: planned until the minutes are finalised, then open → in_progress → done / changed / not_done.
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.PLANNED.value)
    #: When the responsible agency reported it done; the coordinator then confirms.
    completion_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = timestamp_column()

    agency = relationship("Agency", lazy="raise")
    events: Mapped[list["ActionEvent"]] = relationship(
        back_populates="action", order_by="ActionEvent.id", cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise")
    household = relationship("Household", lazy="raise")
    meeting = relationship("Meeting", lazy="raise")

    @classmethod
    def is_active(cls):
        """SQL: open or in progress, the statuses written as literals: bound parameters would hide from the planner
        that a query with this condition may read the partial index ``ix_action_item_active_agency_due``."""
        return cls.status.in_([literal_column(f"'{status}'") for status in ACTIVE_STATUSES])

    @property
    def action_status(self) -> ActionStatus:
        return ActionStatus(self.status)

    @property
    def shown_status_label(self):
        """완료 제안됨 while the agency's completion proposal waits for the coordinator, else the status."""
        return shown_status_label(self.status, self.completion_proposed_at is not None)

    @property
    def resource_text(self) -> str:
        if not self.resource_kind:
            return ""
        return f"{'공공' if self.resource_public else '민간'} · {self.resource_kind}"


class ActionEvent(db.Model):
    """What happened to an action after the meeting: a progress check (점검 기록), a completion proposal or
    confirmation, or a due-date change with its reason."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = parent_key("action_item")
    #: progress, proposal, confirmation or due_change
    kind: Mapped[str] = mapped_column(String(20))
    happened_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    old_due: Mapped[date | None] = mapped_column(Date)
    new_due: Mapped[date | None] = mapped_column(Date)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = timestamp_column()

    action: Mapped[ActionItem] = relationship(back_populates="events", lazy="raise")
    by = relationship("User", lazy="raise")


ACTION_EVENT_LABELS = {"progress": _l("점검"), "proposal": _l("완료 제안"), "confirmation": _l("완료 확인"),
                       "due_change": _l("기한 변경")}


class ActionReview(db.Model):
    """A meeting's review of an earlier open action: its outcome and why it is unfinished."""

    __tablename__ = "action_review"
    __table_args__ = (UniqueConstraint("meeting_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = parent_key("meeting")
    action_id: Mapped[int] = parent_key("action_item")
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[ActionItem] = relationship(lazy="raise")
