"""Read-side queries for minutes."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from conference.extensions import db
from conference.minutes.services import ReviewSummary, review_summary
from conference.models import Meeting, Minutes, MinutesStatus, ReviewResponse
from conference.shared.permissions import can_approve_minutes, visible_meetings


@dataclass
class AwaitingApproval:
    """A chair's 결재 queue row: minutes in review, with how many reviews are in."""

    meeting: Meeting
    minutes: Minutes
    reviews: ReviewSummary


def approval_queue(user) -> list[AwaitingApproval]:
    """The minutes in review of the meetings ``user`` chairs (the ones they approve), oldest meeting first."""
    query = visible_meetings(user, select(Meeting).join(Minutes, Minutes.meeting_id == Meeting.id).where(
        Minutes.status == MinutesStatus.REVIEW.value)).options(
        contains_eager(Meeting.minutes).selectinload(Minutes.responses).joinedload(ReviewResponse.user),
        selectinload(Meeting.attendees)).order_by(Meeting.starts_at, Meeting.id)
    meetings = db.session.execute(query).unique().scalars().all()
    return [AwaitingApproval(m, m.minutes, review_summary(m)) for m in meetings if can_approve_minutes(user, m)]
