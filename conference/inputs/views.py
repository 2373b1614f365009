"""Agency input pages: my agency's cases at a meeting, the input form with revisions, the coordinator's matrix."""
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from conference import audit
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.inputs import services
from conference.inputs.forms import AgencyInputForm
from conference.meetings import packets
from conference.models import AgendaItem, Household
from conference.shared import permissions
from conference.shared.permissions import (REFUSED, can_manage_meetings, can_view_meeting, input_agency_for, require,
                                           visible_households)
from conference.shared.webforms import ButtonForm, commit_change, one_or_404

bp = Blueprint("inputs", __name__, url_prefix="/meetings/<int:meeting_id>/inputs")
permissions.case_work_only(bp)



def _meeting(meeting_id):
    meeting = packets.load_meeting(meeting_id)
    if meeting is None or not can_view_meeting(current_user, meeting):
        abort(404)
    return meeting


def _open_items(meeting) -> list[AgendaItem]:
    """Agenda items whose case the user may see (consent and invitation checked in SQL)."""
    ids = [item.household_id for item in meeting.agenda_items]
    if not ids:
        return []
    visible = set(db.session.execute(
        visible_households(current_user, select(Household.id).where(Household.id.in_(ids)))).scalars())
    return [item for item in meeting.agenda_items if item.household_id in visible]


@bp.get("")
def index(meeting_id):
    meeting = _meeting(meeting_id)
    today = today_local()
    inputs = services.meeting_inputs(meeting)
    if can_manage_meetings(current_user):
        cells = services.input_matrix(meeting, inputs, today)
        counts = {state: sum(1 for c in cells.values() if c.state == state)
                  for state in ("missing", "draft", "submitted", "overdue")}
        return render_template("inputs/matrix.html", meeting=meeting, cells=cells, counts=counts,
                               remind_form=ButtonForm(), invitations=sorted(meeting.invitations,
                                                                            key=lambda i: i.agency.name))
    agency_id = input_agency_for(current_user, meeting, None)
    if agency_id is REFUSED:
        abort(404)
    mine = {i.agenda_item_id: i for i in inputs if i.agency_id == agency_id}
    items = _open_items(meeting)
    return render_template("inputs/mine.html", meeting=meeting, items=items, mine=mine,
                           questions=packets.key_questions(items, agency_id),
                           deadline=next(i.deadline for i in meeting.invitations if i.agency_id == agency_id),
                           today=today)


def _form_context(meeting, item, agency_id):
    invitation = next(i for i in meeting.invitations if i.agency_id == agency_id)
    reader = None if can_manage_meetings(current_user) else agency_id
    return {"meeting": meeting, "item": item, "agency": invitation.agency, "deadline": invitation.deadline,
            "today": today_local(), "key_question": packets.key_questions([item], reader)[item.id]}


def _reload(meeting_id, item_id):
    """The meeting and item again after a rollback (which expires every loaded relationship)."""
    meeting = _meeting(meeting_id)
    return meeting, one_or_404(_open_items(meeting), item_id)


@bp.route("/<int:item_id>", methods=["GET", "POST"])
def edit(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    agency_id = input_agency_for(current_user, meeting, request.values.get("agency", type=int))
    if agency_id is REFUSED:
        abort(404)
    item = next((i for i in _open_items(meeting) if i.id == item_id), None)
    if item is None:
        # Not on the agenda (any more) or outside the user's consent: the same answer either way, so that it does not
        # tell a case the agency may not see from one that is not there. A POST keeps the text that was written.
        if request.method == "POST":
            form = AgencyInputForm()
            form.form_errors.append(_(
                "이 사례는 회의 안건에서 빠졌거나 볼 수 없게 되었습니다. 적은 내용은 아래에 남아 있으니 "
                "복사해 두세요. 저장하지 않았습니다."))
            return render_template("inputs/orphan.html", form=form, meeting=meeting), 409
        abort(404)
    current = services.find_input(item, agency_id)
    agency = next(i.agency for i in meeting.invitations if i.agency_id == agency_id)
    form = AgencyInputForm(**services.input_levels(current, agency.sector))
    if not form.is_submitted() and current is not None:
        form.fill_from(current)
    conflict = None
    if form.validate_on_submit():
        try:
            saved = commit_change(
                partial(services.save_input, item, agency_id=agency_id, by=current_user, values=form.values(),
                        base_version=form.base_version(), submit=bool(request.form.get("submit")), today=today_local()),
                success=_("기관 의견을 제출했습니다.") if request.form.get("submit") else _("임시 저장했습니다."),
                form=form)
        except services.InputConflict:
            db.session.rollback()
            meeting, item = _reload(meeting_id, item_id)
            conflict = services.find_input(item, agency_id)
            form.version.data = str(conflict.version if conflict else 0)
            form.form_errors.append(_("다른 사람이 그사이 이 의견을 저장했습니다. 아래에서 저장된 내용과 비교한 뒤 "
                                      "다시 저장하세요. 적은 내용은 그대로 있습니다."))
            return render_template("inputs/form.html", form=form, current=conflict, conflict=True,
                                   **_form_context(meeting, item, agency_id)), 409
        if saved:
            return redirect(url_for("inputs.index", meeting_id=meeting_id))
        meeting, item = _reload(meeting_id, item_id)
        current = services.find_input(item, agency_id)
    page = render_template("inputs/form.html", form=form, current=current, conflict=conflict,
                           read_only=_read_only_reason(meeting, current) if request.method == "GET" else None,
                           can_enter=can_manage_meetings(current_user) and services.closed_reason(meeting) is None,
                           **_form_context(meeting, item, agency_id))
    audit.record_access("input.view", item.household, details={"meeting_id": meeting.id, "agency_id": agency_id})
    if request.method == "POST":
        db.session.commit()  # the form shown again with its errors: its access record is the only thing stored
    return page


def _read_only_reason(meeting, current):
    """Why the page shows the input without its form: it can no longer be changed, or the coordinator is reading
    what an agency wrote (the form only when they enter what the agency said at the meeting, ``?enter=1``)."""
    closed = services.closed_reason(meeting)
    if closed:
        return closed
    if can_manage_meetings(current_user) and current is not None and not request.args.get("enter"):
        return _("기관이 적은 의견입니다. 읽기 전용으로 보여 줍니다.")
    return None


@bp.get("/<int:item_id>/history")
def history(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    agency_id = input_agency_for(current_user, meeting, request.args.get("agency", type=int))
    item = next((i for i in _open_items(meeting) if i.id == item_id), None)
    if agency_id is REFUSED or item is None:
        abort(404)
    current = services.find_input(item, agency_id)
    return render_template("inputs/history.html", current=current, revisions=services.revisions(current),
                           **_form_context(meeting, item, agency_id))


@bp.post("/remind")
def remind(meeting_id):
    meeting = _meeting(meeting_id)
    require(can_manage_meetings(current_user))
    if ButtonForm().validate_on_submit():
        cells = services.input_matrix(meeting, services.meeting_inputs(meeting), today_local())
        told = services.remind_agencies(meeting, by=current_user, cells=cells)
        db.session.commit()
        flash(_("미제출 기관 실무자 %(n)s명에게 알림을 보냈습니다.", n=told), "success")
    return redirect(url_for("inputs.index", meeting_id=meeting.id))
