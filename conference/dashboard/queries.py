"""Dashboard figures: every number is one aggregate query (no loop over rows), filtered by what the user may see."""
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from conference.cases.queries import RouteCounts, quarterly_counts, total_counts
from conference.core.database import now_utc
from conference.core.formatting import KST
from conference.dashboard.report import PeriodReport, ReportTable
from conference.extensions import db
from conference.models import (ActionItem, ActionStatus, Agency, Assessment, DomainRating, Household, Meeting,
                               MeetingKind, MeetingStatus, NeedDomain, Stage)
from conference.shared import freshness
from conference.shared.permissions import visibility_scope, visible_actions, visible_households, visible_meetings


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
    computed_at: datetime
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
    """The figures ``user`` may see, computed again only when the counted data has changed."""
    return freshness.cached_figures((*visibility_scope(user), year, today), lambda: _compute(user, year, config, today))


def _compute(user, year: int, config, today: date) -> Dashboard:
    routes = quarterly_counts(user, year, config["DISCOVERY_ROUTES"])
    return Dashboard(
        year=year, computed_at=now_utc(), routes=routes, route_totals=total_counts(routes),
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
    newer = aliased(Assessment)
    is_latest = ~select(newer.id).where(newer.household_id == Assessment.household_id,
                                        newer.id > Assessment.id).exists()
    query = (select(DomainRating.domain, func.count())
             .join(Assessment, Assessment.id == DomainRating.assessment_id)
             .join(Household, Household.id == Assessment.household_id)
             .where(is_latest, DomainRating.rating.in_(severe))
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



def period_bounds(year: int, quarter: int | None) -> tuple[date, date]:
    """First and last day of a quarter, or of the whole year."""
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end - timedelta(days=1)


def period_report(user, year: int, quarter: int | None, config, today: date, author: str) -> PeriodReport:
    """The figures of a period, each table one aggregate query (or a fold of the dashboard's)."""
    start, end = period_bounds(year, quarter)
    quarters = [quarter - 1] if quarter else [0, 1, 2, 3]
    routes = quarterly_counts(user, year, config["DISCOVERY_ROUTES"])
    route_rows = [(r.route, sum(r.discovered[q] for q in quarters), sum(r.selected[q] for q in quarters))
                  for r in routes]
    route_rows.append(("합계", sum(r[1] for r in route_rows), sum(r[2] for r in route_rows)))
    meetings = visible_meetings(user, select(Meeting.kind, func.count()).where(
        Meeting.starts_at >= _utc(start), Meeting.starts_at < _utc(end + timedelta(days=1)),
        Meeting.status == MeetingStatus.FINALISED.value).group_by(Meeting.kind))
    active = ActionItem.status.in_([ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value])
    actions = visible_actions(user, (
        select(Agency.name, func.count(), func.count(case((ActionItem.status == ActionStatus.DONE.value, 1))),
               func.count(case((active & (ActionItem.due_on < today), 1))))
        .join(Agency, Agency.id == ActionItem.agency_id).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.status != ActionStatus.PLANNED.value, Meeting.starts_at >= _utc(start),
               Meeting.starts_at < _utc(end + timedelta(days=1)))
        .group_by(Agency.name).order_by(Agency.name)))
    action_rows = [AgencyActions(*row) for row in db.session.execute(actions).all()]
    needs = _needs(user, config["ASSESSMENT_SCALE"][:2])
    stages = _grouped(user, Household.status)
    title = f"{year}년 {quarter}분기 통합사례관리 실적" if quarter else f"{year}년 통합사례관리 실적"
    return PeriodReport(title=title, start=start, end=end, author=author, tables=[
        ReportTable("발굴경로별 발굴·선정 가구", ["발굴경로", "발굴", "선정"], route_rows),
        ReportTable("확정된 회의", ["회의 유형", "횟수"],
                    [(str(MeetingKind(kind).label), n) for kind, n in db.session.execute(meetings).all()]),
        ReportTable("기관별 실행과제", ["담당기관", "과제", "완료", "완료율(%)", "기한 지남"],
                    [(a.agency, a.total, a.done, round(a.completion_rate * 100), a.overdue) for a in action_rows]),
        ReportTable("현재 단계별 사례", ["단계", "가구"], [(str(s.label), stages.get(s.value, 0)) for s in Stage]),
        ReportTable("욕구 영역별 위기·취약 가구(최근 조사)", ["욕구 영역", "가구"],
                    [(str(d.label), needs[d.value]) for d in NeedDomain]),
    ])


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), KST).astimezone(UTC)
