"""The case register: list, quarterly counts, case file and its edits."""
from datetime import timedelta
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from conference import audit
from conference.cases import queries, services
from conference.cases.forms import (CaseFilterForm, ConsentForm, HouseholdForm, MemberForm, MonitoringForm, StatusForm,
                                    WithdrawConsentForm, assessment_form_class)
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.models import Household
from conference.shared import pagecache, permissions
from conference.shared.paging import paginate
from conference.shared.permissions import (can_edit_case, can_register_cases, can_see_identity, can_view_case,
                                           is_case_staff, require)
from conference.shared.webforms import active_agencies, commit_change, one_or_404, page_number

bp = Blueprint("cases", __name__, url_prefix="/cases")
permissions.case_work_only(bp)

#: Highest page number of the case list that is looked up.



def get_case(household_id: int, *, edit: bool = False, loader=queries.load_case_file) -> Household:
    """Load a case file and check the user may see (or change) it: 404 if not visible, 403 if read-only."""
    household = loader(household_id)
    if household is None or not can_view_case(current_user, household):
        abort(404)
    if edit:
        require(can_edit_case(current_user, household))
    return household


@bp.get("")
def index():
    require(is_case_staff(current_user))
    form = CaseFilterForm(queries.coordinators(), request.args)
    filters = queries.CaseFilters()
    if form.validate():
        filters = queries.CaseFilters(**{k: (v or filters.__dict__[k]) for k, v in form.data.items()})
    # Bounded: a huge number would overflow the database's OFFSET.
    page = page_number()
    cases = queries.case_page(current_user, filters, page=page, per_page=current_app.config["CASE_LIST_PAGE_SIZE"])
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("cases/index.html", form=form, cases=cases, args=args, today=today_local())


@bp.get("/checks")
def checks_due():
    """Cases whose 다음 점검일 is today or earlier (or within a week)."""
    require(is_case_staff(current_user))
    today = today_local()
    page = page_number()
    cases = paginate(queries.checks_due_query(current_user, today + timedelta(days=7)), page=page,
                             per_page=current_app.config["CASE_LIST_PAGE_SIZE"], rows=queries.case_rows)
    return render_template("cases/checks.html", cases=cases, today=today)


@bp.route("/<int:household_id>/monitoring", methods=["POST"])
def monitoring(household_id):
    household = get_case(household_id, edit=True)
    form = MonitoringForm()
    if form.validate_on_submit() and commit_change(
            partial(services.record_monitoring, household, by=current_user, contacted_on=form.contacted_on.data,
                    method=form.method.data, content=form.content.data or "",
                    next_check_on=form.next_check_on.data, today=today_local()),
            success=_("점검 기록을 남겼습니다."), form=form):
        return redirect(url_for("cases.detail", household_id=household_id) + "#monitoring")
    household = get_case(household_id, edit=True)
    return render_template("cases/monitoring_form.html", form=form, household=household)


@bp.get("/stats")
def stats():
    require(is_case_staff(current_user))
    year = request.args.get("year", today_local().year, type=int)
    if not 2000 <= year <= 2100:
        year = today_local().year
    rows = queries.quarterly_counts(current_user, year, current_app.config["DISCOVERY_ROUTES"])
    return render_template("cases/stats.html", rows=rows, totals=queries.total_counts(rows), year=year)


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_register_cases(current_user))
    form = HouseholdForm(active_agencies(), queries.coordinators())
    if form.validate_on_submit():
        household = services.register_household(by=current_user, head=form.head(), **form.values())
        db.session.commit()
        flash(_("사례 %(number)s을(를) 등록했습니다.", number=household.case_number), "success")
        return redirect(url_for("cases.detail", household_id=household.id))
    return render_template("cases/form.html", form=form, household=None)


# GET /<int:household_id> (cases.detail) is added in meetings/case_page.py: it serves this case file to case staff
# and a partner agency's part of a packet to others, and packets are the meetings feature's.

def case_file(household: Household):
    """The case file, for case staff who may see ``household``: kept until what it shows changes; each view recorded."""
    page = pagecache.rendered(lambda: _case_file_page(household.id))
    audit.record_access("household.view", household,
                        details={"identity": "full" if can_see_identity(current_user, household) else "masked"})
    return page


def _case_file_page(household_id: int) -> str:
    household = queries.load_case_file(household_id)
    assessments = household.assessments
    comparison = services.compare_assessments(assessments[0], assessments[1] if len(assessments) > 1 else None) \
        if assessments else []
    return render_template(
        "cases/detail.html", household=household, consent=services.current_consent(household),
        comparison=comparison, full_identity=can_see_identity(current_user, household),
        can_edit=can_edit_case(current_user, household), today=today_local(), monitoring_form=MonitoringForm(),
        next_stages=services.next_stages(household))


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
def edit(household_id):
    household = get_case(household_id, edit=True)
    form = HouseholdForm(active_agencies(), queries.coordinators(), signals_level=household.signals_level)
    if not form.is_submitted():
        form.fill_from(household)
    if form.validate_on_submit():
        services.update_household(household, by=current_user, head=form.head(), **form.values())
        db.session.commit()
        flash(_("사례 정보를 저장했습니다."), "success")
        return redirect(url_for("cases.detail", household_id=household.id))
    return render_template("cases/form.html", form=form, household=household)


@bp.route("/<int:household_id>/members/new", methods=["GET", "POST"])
def member_new(household_id):
    household = get_case(household_id, edit=True)
    form = MemberForm()
    if form.validate_on_submit() and commit_change(
            partial(services.add_member, household, by=current_user, **form.values()),
            success=_("가구원을 추가했습니다."), form=form):
        return redirect(url_for("cases.detail", household_id=household_id) + "#members")
    return render_template("cases/member_form.html", form=form, household=household, member=None)


@bp.route("/<int:household_id>/members/<int:member_id>", methods=["GET", "POST"])
def member_edit(household_id, member_id):
    household = get_case(household_id, edit=True)
    member = one_or_404(household.members, member_id)
    form = MemberForm()
    if not form.is_submitted():
        form.name.data, form.relation.data, form.birth.data = member.name, member.relation, member.birth_text
        form.sex.data, form.has_disability.data = member.sex, member.has_disability
    if form.validate_on_submit() and commit_change(
            partial(services.update_member, member, by=current_user, **form.values()),
            success=_("가구원 정보를 저장했습니다."), form=form):
        return redirect(url_for("cases.detail", household_id=household_id) + "#members")
    return render_template("cases/member_form.html", form=form, household=household, member=member)


@bp.post("/<int:household_id>/members/<int:member_id>/delete")
def member_delete(household_id, member_id):
    household = get_case(household_id, edit=True)
    member = one_or_404(household.members, member_id)
    commit_change(partial(services.remove_member, member, by=current_user), success=_("가구원을 삭제했습니다."))
    return redirect(url_for("cases.detail", household_id=household_id) + "#members")


@bp.route("/<int:household_id>/status", methods=["GET", "POST"])
def status(household_id):
    household = get_case(household_id, edit=True)
    form = StatusForm(household, services.next_stages(household))
    if form.validate_on_submit():
        if commit_change(partial(services.change_status, household, by=current_user, to_status=form.to_status.data,
                                 reason=form.reason.data, track=form.track.data,
                                 classification=form.classification.data, closure_reason=form.closure_reason.data),
                         success=_("단계를 기록했습니다."), form=form):
            return redirect(url_for("cases.detail", household_id=household_id) + "#status")
        household = get_case(household_id, edit=True)
    return render_template("cases/status_form.html", form=form, household=household)


@bp.route("/<int:household_id>/consents/new", methods=["GET", "POST"])
def consent_new(household_id):
    household = get_case(household_id, edit=True)
    form = ConsentForm(active_agencies())
    if form.validate_on_submit():
        if commit_change(partial(services.record_consent, household, by=current_user,
                                 consented_on=form.consented_on.data, agency_ids=form.agency_ids.data,
                                 covers_sensitive=form.covers_sensitive.data, note=form.note.data or ""),
                         success=_("정보제공 동의를 기록했습니다."), form=form):
            return redirect(url_for("cases.detail", household_id=household_id) + "#consent")
        household = get_case(household_id, edit=True)
    return render_template("cases/consent_form.html", form=form, household=household)


@bp.route("/<int:household_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
def consent_withdraw(household_id, consent_id):
    household = get_case(household_id, edit=True)
    consent = one_or_404(household.consents, consent_id)
    form = WithdrawConsentForm()
    if form.validate_on_submit():
        if commit_change(partial(services.withdraw_consent, consent, by=current_user,
                                 withdrawn_on=form.withdrawn_on.data),
                         success=_("동의 철회를 기록했습니다."), form=form):
            return redirect(url_for("cases.detail", household_id=household_id) + "#consent")
        household = get_case(household_id, edit=True)
        consent = one_or_404(household.consents, consent_id)
    return render_template("cases/withdraw_form.html", form=form, household=household, consent=consent)


@bp.route("/<int:household_id>/assessments/new", methods=["GET", "POST"])
def assessment_new(household_id):
    household = get_case(household_id, edit=True)
    form = assessment_form_class(current_app.config["ASSESSMENT_SCALE"])()
    previous = household.assessments[0] if household.assessments else None
    if not form.is_submitted() and previous is not None:
        form.fill_from(previous)
    if form.validate_on_submit():
        if commit_change(partial(services.record_assessment, household, by=current_user,
                                 assessed_on=form.assessed_on.data, ratings=form.ratings(),
                                 notes_levels=form.notes_levels(), summary=form.summary.data or "",
                                 summary_level=form.summary_level.data),
                         success=_("욕구 및 위기도 조사를 기록했습니다."), form=form):
            return redirect(url_for("cases.detail", household_id=household_id) + "#assessment")
        household = get_case(household_id, edit=True)
    return render_template("cases/assessment_form.html", form=form, household=household, previous=previous)
