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
from conference.models import (ActionEvent, ActionItem, ActionReview, ActionStatus, Agency, Assessment, DomainRating,
                               Household, Meeting, MeetingKind, MeetingStatus, NeedDomain, Stage, StatusChange)
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


def _needs(user, severe: list[str], as_of: date | None = None) -> dict[str, int]:
    """Households per domain rated ``severe`` in their latest assessment (the latest made by ``as_of``)."""
    newer = aliased(Assessment)
    newer_made, made = ([newer.assessed_on <= as_of], [Assessment.assessed_on <= as_of]) if as_of else ([], [])
    is_latest = ~select(newer.id).where(newer.household_id == Assessment.household_id,
                                        newer.id > Assessment.id, *newer_made).exists()
    query = (select(DomainRating.domain, func.count())
             .join(Assessment, Assessment.id == DomainRating.assessment_id)
             .join(Household, Household.id == Assessment.household_id)
             .where(is_latest, *made, DomainRating.rating.in_(severe))
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
    active = ActionItem.is_active()
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


#: Review outcomes that end an action (a later meeting found it done, or ended it as 상황 변화 / 미이행).
CLOSING_OUTCOMES = (ActionStatus.DONE.value, ActionStatus.CHANGED.value, ActionStatus.NOT_DONE.value)


def period_report(user, year: int, quarter: int | None, config, today: date, author: str) -> PeriodReport:
    """The figures of a period as they stood on its 기준일 (its last day, or today while it runs), whatever the day
    of the download: meetings and actions of the period, actions done or overdue on that day by their recorded
    history, each case's stage and latest assessment on that day. Each table is one aggregate query."""
    start, end = period_bounds(year, quarter)
    as_of = min(end, today)
    since, until = _utc(start), _utc(end + timedelta(days=1))
    quarters = [quarter - 1] if quarter else [0, 1, 2, 3]
    routes = quarterly_counts(user, year, config["DISCOVERY_ROUTES"])
    route_rows = [(r.route, sum(r.discovered[q] for q in quarters), sum(r.selected[q] for q in quarters))
                  for r in routes]
    meetings = visible_meetings(user, select(Meeting.kind, func.count()).where(
        Meeting.starts_at >= since, Meeting.starts_at < until,
        Meeting.status == MeetingStatus.FINALISED.value).group_by(Meeting.kind))
    meeting_rows = [(str(MeetingKind(kind).label), n) for kind, n in db.session.execute(meetings).all()]
    action_rows = _actions_as_of(user, since, until, as_of)
    stages = _stages_as_of(user, as_of)
    stage_rows = [(str(s.label), stages.get(s.value, 0)) for s in Stage]
    needs = _needs(user, config["ASSESSMENT_SCALE"][:2], as_of=as_of)
    need_rows = [(str(d.label), needs[d.value]) for d in NeedDomain]
    title = f"{year}년 {quarter}분기 통합사례관리 실적" if quarter else f"{year}년 통합사례관리 실적"
    done, total = sum(a.done for a in action_rows), sum(a.total for a in action_rows)
    return PeriodReport(
        title=title, year=year, quarter=quarter, start=start, end=end, as_of=as_of, author=author,
        written_on=today, tables=[
            ReportTable("발굴경로별 발굴·선정 가구", ["발굴경로", "발굴", "선정"], route_rows, _total(route_rows)),
            ReportTable("확정된 회의", ["회의 유형", "횟수"], meeting_rows, _total(meeting_rows)),
            ReportTable("기관별 실행과제(기준일 현재)", ["담당기관", "과제", "완료", "완료율", "기한 지남"],
                        [(a.agency, a.total, a.done, a.completion_rate, a.overdue) for a in action_rows],
                        ("합계", total, done, done / total if total else 0.0, sum(a.overdue for a in action_rows))),
            ReportTable("기준일 단계별 사례", ["단계", "가구"], stage_rows, _total(stage_rows)),
            ReportTable("욕구 영역별 위기·취약 가구(기준일 최근 조사)", ["욕구 영역", "가구"], need_rows,
                        _total(need_rows, "합계(영역 중복 포함)")),
        ])


def _total(rows: list[tuple], label: str = "합계") -> tuple:
    """The 합계 row of a table whose first column is a label and the others counts."""
    width = len(rows[0]) if rows else 2
    return (label, *(sum(row[column] for row in rows) for column in range(1, width)))


def _actions_as_of(user, since: datetime, until: datetime, as_of: date) -> list[AgencyActions]:
    """Per agency, the actions of the meetings held in [since, until): how many, how many were done on ``as_of``,
    and how many were overdue that day (due before it, by the due date it had then, and not yet ended).

    An action is done on a day by its coordinator's confirmation (완료 확인) or a finalised later meeting's review
    saying so on or before that day; a review ending it as 상황 변화 or 미이행 ends it too. Today's status alone says
    nothing of the day: the 2021 report downloaded in 2026 counts as in 2021."""
    day_after = _utc(as_of + timedelta(days=1))

    def confirmed():
        return select(ActionEvent.id).where(ActionEvent.action_id == ActionItem.id,
                                            ActionEvent.kind == "confirmation", ActionEvent.happened_on <= as_of)

    def reviewed(outcomes):
        return (select(ActionReview.id).join(Meeting, Meeting.id == ActionReview.meeting_id)
                .where(ActionReview.action_id == ActionItem.id, ActionReview.outcome.in_(outcomes),
                       Meeting.status == MeetingStatus.FINALISED.value, Meeting.starts_at < day_after))

    done = (ActionItem.status == ActionStatus.DONE.value) & (
        confirmed().exists() | reviewed([ActionStatus.DONE.value]).exists())
    ended = ActionItem.status.in_(CLOSING_OUTCOMES) & (confirmed().exists() | reviewed(CLOSING_OUTCOMES).exists())
    #: The due date on ``as_of``: the first later change's old date, else today's.
    later_change = (select(ActionEvent.old_due).where(ActionEvent.action_id == ActionItem.id,
                                                      ActionEvent.kind == "due_change", ActionEvent.happened_on > as_of)
                    .order_by(ActionEvent.happened_on, ActionEvent.id).limit(1).scalar_subquery())
    due_then = func.coalesce(later_change, ActionItem.due_on)
    query = (select(Agency.name, func.count(), func.count(case((done, 1))),
                    func.count(case((~ended & (due_then < as_of), 1))))
             .join(Agency, Agency.id == ActionItem.agency_id).join(Meeting, Meeting.id == ActionItem.meeting_id)
             .where(ActionItem.status != ActionStatus.PLANNED.value, Meeting.starts_at >= since,
                    Meeting.starts_at < until)
             .group_by(Agency.name).order_by(Agency.name))
    return [AgencyActions(*row) for row in db.session.execute(visible_actions(user, query)).all()]


def _stages_as_of(user, as_of: date) -> dict[str, int]:
    """Households discovered by ``as_of``, by the stage their last status change before the end of that day set
    (발굴 when none was recorded by then)."""
    latest = (select(StatusChange.to_status).where(StatusChange.household_id == Household.id,
                                                   StatusChange.changed_at < _utc(as_of + timedelta(days=1)))
              .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc()).limit(1).scalar_subquery())
    per_household = visible_households(user, select(
        func.coalesce(latest, Stage.DISCOVERED.value).label("stage")).where(Household.discovered_on <= as_of))
    stage = per_household.subquery().c.stage
    return dict(db.session.execute(select(stage, func.count()).group_by(stage)).all())


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), KST).astimezone(UTC)
