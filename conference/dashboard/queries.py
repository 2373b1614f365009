"""Dashboard figures: every number is one aggregate query (no loop over rows), filtered by what the user may see."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select

from conference.cases.queries import RouteCounts, quarterly_counts, total_counts
from conference.extensions import db
from conference.models import (ActionItem, ActionStatus, Agency, Assessment, DomainRating, Household, Meeting,
                               MeetingStatus, NeedDomain, Stage)
from conference.permissions import visible_actions, visible_households, visible_meetings


@dataclass
class AgencyActions:
    agency: str
    total: int
    done: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class Dashboard:
    year: int
    routes: list[RouteCounts]
    route_totals: RouteCounts
    by_stage: dict[str, int]
    by_classification: dict[str, int]
    #: need domain → number of households whose latest assessment rates it 위기 or 취약
    needs: dict[str, int]
    meetings_held: dict[str, int]
    actions_by_status: dict[str, int]
    actions_by_agency: list[AgencyActions] = field(default_factory=list)


def build(user, year: int, config, today: date) -> Dashboard:
    routes = quarterly_counts(user, year, config["DISCOVERY_ROUTES"])
    return Dashboard(
        year=year, routes=routes, route_totals=total_counts(routes),
        by_stage=_grouped(user, Household.status),
        by_classification=_grouped(user, Household.classification, Household.classification != ""),
        needs=_needs(user, config["ASSESSMENT_SCALE"][:2]),
        meetings_held=_meetings(user, year),
        actions_by_status=_actions_by_status(user),
        actions_by_agency=_actions_by_agency(user, today))


def _grouped(user, column, *conditions) -> dict[str, int]:
    query = visible_households(user, select(column, func.count()).where(*conditions).group_by(column))
    return dict(db.session.execute(query).all())


def _needs(user, severe: list[str]) -> dict[str, int]:
    latest = (select(func.max(Assessment.id)).group_by(Assessment.household_id)).scalar_subquery()
    query = (select(DomainRating.domain, func.count())
             .join(Assessment, Assessment.id == DomainRating.assessment_id)
             .join(Household, Household.id == Assessment.household_id)
             .where(Assessment.id.in_(latest), DomainRating.rating.in_(severe))
             .group_by(DomainRating.domain))
    counts = dict(db.session.execute(visible_households(user, query)).all())
    return {domain.value: counts.get(domain.value, 0) for domain in NeedDomain}


def _meetings(user, year: int) -> dict[str, int]:
    query = visible_meetings(user, select(Meeting.kind, func.count()).where(
        Meeting.year == year, Meeting.status == MeetingStatus.FINALISED.value).group_by(Meeting.kind))
    return dict(db.session.execute(query).all())


def _actions_by_status(user) -> dict[str, int]:
    query = visible_actions(user, select(ActionItem.status, func.count())
                            .where(ActionItem.status != ActionStatus.PLANNED.value).group_by(ActionItem.status))
    return dict(db.session.execute(query).all())


def _actions_by_agency(user, today: date) -> list[AgencyActions]:
    active = ActionItem.status.in_([ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value])
    query = (select(Agency.name, func.count(),
                    func.count(case((ActionItem.status == ActionStatus.DONE.value, 1))),
                    func.count(case((active & (ActionItem.due_on < today), 1))))
             .join(Agency, Agency.id == ActionItem.agency_id)
             .where(ActionItem.status != ActionStatus.PLANNED.value)
             .group_by(Agency.name).order_by(Agency.name))
    return [AgencyActions(*row) for row in db.session.execute(visible_actions(user, query)).all()]


def stage_order() -> list[str]:
    return [s.value for s in Stage]
