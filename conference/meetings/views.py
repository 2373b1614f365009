"""Meetings: schedule, invite, build the agenda, need-to-know, pledge, packets and calendar files."""
from datetime import datetime, UTC
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from conference import audit
from conference.cases.queries import load_case_file
from conference.core.downloads import DOCUMENT_FORMATS, attachment
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.core.ids import record_id
from conference.extensions import db
from conference.meetings import calendar, packets, queries, services
from conference.meetings.forms import (AgendaItemForm, DownloadForm, InvitationForm, InviteForm, MeetingForm,
                                       NewAgendaItemForm, PledgeForm, StatusForm)
from conference.meetings.packet_docx import build_packet_docx, build_packet_hwpx
from conference.models import MeetingStatus, PacketSection, Role
from conference.shared import pagecache, permissions
from conference.shared.permissions import (PLEDGE_NEEDED, REFUSED, can_manage_meetings, can_read_minutes, can_view_case,
                                           can_view_meeting, has_pledged, require)
from conference.shared.webforms import (ButtonForm, active_agencies, attach_error, commit_change, one_or_404,
                                        page_number)

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
permissions.case_work_only(bp)



def get_meeting(meeting_id: int, *, manage: bool = False, loader=packets.load_meeting):
    """Load a meeting with its agenda and check access: 404 when the user may not see it, 403 to change it."""
    meeting = loader(meeting_id)
    if meeting is None or not can_view_meeting(current_user, meeting):
        abort(404)
    if manage:
        require(can_manage_meetings(current_user))
    return meeting


def _meeting_form(**kwargs):
    return MeetingForm(queries.people(Role.CHAIR),
                       queries.people(Role.COORDINATOR), **kwargs)


@bp.get("")
def index():
    meetings = queries.meeting_page(current_user, page_number(), current_app.config["MEETING_LIST_PAGE_SIZE"])
    return render_template("meetings/index.html", meetings=meetings,
                           can_manage=can_manage_meetings(current_user))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_manage_meetings(current_user))
    form = _meeting_form()
    agencies = active_agencies()
    if not form.is_submitted():
        form.coordinator_id.data = current_user.id
    if form.validate_on_submit():
        created = commit_change(
            partial(services.create_meeting, by=current_user, kind=form.kind.data, starts_at=form.starts_at(),
                    place=form.place.data, duration_minutes=form.duration_minutes.data,
                    number=form.number.data or None, chair_id=form.chair_id.data or None,
                    coordinator_id=form.coordinator_id.data, agency_ids=request.form.getlist("agency_ids", type=int)),
            success=lambda meeting: _("%(title)s을(를) 만들었습니다.", title=meeting.title),
            form=form, fields={"starts_at": "day"})
        if created:
            return redirect(url_for("meetings.detail", meeting_id=created.result.id))
    return render_template("meetings/form.html", form=form, meeting=None, agencies=agencies,
                           chosen=set(request.form.getlist("agency_ids", type=int)))


@bp.get("/<int:meeting_id>")
def detail(meeting_id):
    """The meeting page for those who run meetings; others open the meeting on what its status calls for."""
    if not can_manage_meetings(current_user):
        meeting = get_meeting(meeting_id, loader=packets.load_meeting_access)
        return redirect(_reading_page(meeting))
    meeting = get_meeting(meeting_id, loader=packets.load_meeting_access)
    return pagecache.rendered(lambda: _meeting_page(meeting))


def _reading_page(meeting) -> str:
    """The minutes once the user may read them (sent for review or approved: the chair to approve), else the
    packet."""
    if can_read_minutes(current_user, meeting):
        return url_for("minutes.minutes_page", meeting_id=meeting.id)
    return url_for("meetings.packet", meeting_id=meeting.id)


def _meeting_page(meeting) -> str:
    """The meeting page (``meeting`` is completed first: the session holds it while the view does)."""
    packets.load_meeting_outline(meeting.id)
    invited = {i.agency_id for i in meeting.invitations}
    history = packets.earlier_discussions(meeting)
    return render_template(
        "meetings/detail.html", meeting=meeting,
        repeats={h for h, lines in history.items() if packets.is_repeat(meeting, lines)},
        with_children={i.household_id for i in meeting.agenda_items if services.has_children(i.household)},
        invite_form=InviteForm([a for a in active_agencies() if a.id not in invited]),
        today=today_local(), statuses=list(MeetingStatus), steps=services.status_steps(meeting),
        preparing=meeting.status in services.PREPARATION, meeting_day=services.is_meeting_day(meeting, today_local()),
        status_form=StatusForm(), needs_reason=services.needs_reason,
        pledged={p.user_id for p in meeting.pledges}, pledges=sorted(meeting.pledges, key=lambda p: p.accepted_at))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id):
    meeting = get_meeting(meeting_id, manage=True)
    form = _meeting_form()
    if not form.is_submitted():
        local = meeting.starts_at.astimezone(services.KST)
        form.kind.data, form.number.data, form.place.data = meeting.kind, meeting.number, meeting.place
        form.day.data, form.start_time.data = local.date(), local.time()
        form.duration_minutes.data = meeting.duration_minutes
        form.chair_id.data, form.coordinator_id.data = meeting.chair_id or 0, meeting.coordinator_id
    if form.validate_on_submit():
        if commit_change(partial(services.update_meeting, meeting, by=current_user, starts_at=form.starts_at(),
                                 place=form.place.data, number=form.number.data or meeting.number,
                                 duration_minutes=form.duration_minutes.data, chair_id=form.chair_id.data or None,
                                 coordinator_id=form.coordinator_id.data),
                         success=_("회의 정보를 저장했습니다."), form=form, fields={"starts_at": "day"}):
            return redirect(url_for("meetings.detail", meeting_id=meeting_id))
        meeting = get_meeting(meeting_id, manage=True)
    return render_template("meetings/form.html", form=form, meeting=meeting, agencies=[], chosen=set())


@bp.post("/<int:meeting_id>/status")
def status(meeting_id):
    meeting = get_meeting(meeting_id, manage=True)
    form = StatusForm()
    to_status = request.form.get("to", "")
    if form.validate_on_submit():
        if to_status == MeetingStatus.IN_PROGRESS.value and meeting.status == MeetingStatus.SHARING.value:
            # a start, with its rule for another day than the meeting's (confirmed on the run page)
            change = partial(services.start_meeting, meeting, by=current_user, today=today_local())
        else:
            change = partial(services.change_status, meeting, by=current_user, to_status=to_status,
                             reason=form.reason.data or "")
        refused = commit_change(
            change,
            success=lambda _result: _("회의 상태를 '%(status)s'(으)로 바꿨습니다.", status=meeting.meeting_status.label),
            quiet=True).error
        if refused is not None and refused.field == "reason":
            attach_error(form, "reason", refused.message)
            return render_template("meetings/status_reason.html", meeting=get_meeting(meeting_id, manage=True),
                                   form=form, step=MeetingStatus(request.form["to"]))
        if refused is not None:
            flash(refused.message, "error")
        if refused is not None and refused.field == "confirm_day":
            return redirect(url_for("minutes.run", meeting_id=meeting_id, _anchor="start"))
    return redirect(url_for("meetings.detail", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/invitations")
def invite(meeting_id):
    meeting = get_meeting(meeting_id, manage=True)
    form = InviteForm(active_agencies())
    if form.validate_on_submit():
        commit_change(partial(services.invite_agency, meeting, by=current_user, agency_id=form.agency_id.data,
                              deadline=form.deadline.data, invitees=form.invitees.data or ""),
                      success=_("기관을 초대했습니다."))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#invitations")


@bp.route("/<int:meeting_id>/invitations/<int:invitation_id>", methods=["GET", "POST"])
def invitation_edit(meeting_id, invitation_id):
    meeting = get_meeting(meeting_id, manage=True)
    invitation = one_or_404(meeting.invitations, invitation_id)
    form = InvitationForm(obj=invitation)
    if form.validate_on_submit():
        if commit_change(partial(services.update_invitation, invitation, by=current_user, deadline=form.deadline.data,
                                 invitees=form.invitees.data or ""),
                         success=_("정보 요청을 저장했습니다."), form=form):
            return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#invitations")
        meeting = get_meeting(meeting_id, manage=True)
        invitation = one_or_404(meeting.invitations, invitation_id)
    return render_template("meetings/invitation_form.html", form=form, meeting=meeting, invitation=invitation)


@bp.post("/<int:meeting_id>/invitations/<int:invitation_id>/delete")
def invitation_delete(meeting_id, invitation_id):
    meeting = get_meeting(meeting_id, manage=True)
    invitation = one_or_404(meeting.invitations, invitation_id)
    if ButtonForm().validate_on_submit():
        commit_change(partial(services.withdraw_invitation, invitation, by=current_user), success=_("초대를 취소했습니다."))
    return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#invitations")


@bp.route("/<int:meeting_id>/agenda/new", methods=["GET", "POST"])
def agenda_new(meeting_id):
    meeting = get_meeting(meeting_id, manage=True)
    form = NewAgendaItemForm(active_agencies())
    search = (request.args.get("q") or "").strip()[:50]
    candidates = queries.candidate_households(current_user, search) if search else []
    household = None
    household_id = request.values.get("household_id", type=record_id)
    waiting = None if search or household_id else queries.waiting_households(current_user, meeting)
    if household_id:
        household = load_case_file(household_id)
        if household is None or not can_view_case(current_user, household):
            abort(404)
    if form.validate_on_submit() and household is not None:
        if commit_change(partial(services.add_agenda_item, meeting, by=current_user, household=household,
                                 key_question=form.key_question.data or "",
                                 key_question_level=form.key_question_level.data,
                                 presenting_agency_id=form.presenting_agency_id.data or None,
                                 minutes_allotted=form.minutes_allotted.data,
                                 consent_override_reason=form.consent_override_reason.data or ""),
                         success=_("사례 %(number)s을(를) 안건에 올렸습니다.", number=household.case_number), form=form):
            return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#agenda")
        meeting = get_meeting(meeting_id, manage=True)
        household = load_case_file(household_id)
    return render_template("meetings/agenda_new.html", form=form, meeting=meeting, search=search,
                           candidates=candidates, waiting=waiting, household=household)


@bp.route("/<int:meeting_id>/agenda/<int:item_id>", methods=["GET", "POST"])
def agenda_edit(meeting_id, item_id):
    meeting = get_meeting(meeting_id, manage=True)
    item = one_or_404(meeting.agenda_items, item_id)
    form = AgendaItemForm(active_agencies(), obj=item)
    if not form.is_submitted():
        form.presenting_agency_id.data = item.presenting_agency_id or 0
    if form.validate_on_submit():
        sections = {i.agency_id: set(request.form.getlist(f"sections-{i.agency_id}")) for i in meeting.invitations}

        def save():
            services.update_agenda_item(item, by=current_user, key_question=form.key_question.data or "",
                                        key_question_level=form.key_question_level.data,
                                        presenting_agency_id=form.presenting_agency_id.data or None,
                                        minutes_allotted=form.minutes_allotted.data)
            services.set_sections(item, by=current_user, sections_by_agency=sections)

        if commit_change(save, success=_("안건을 저장했습니다."), form=form):
            return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#agenda")
        meeting = get_meeting(meeting_id, manage=True)
        item = one_or_404(meeting.agenda_items, item_id)
    return render_template("meetings/agenda_edit.html", form=form, meeting=meeting, item=item,
                           sections=list(PacketSection),
                           visible={v.agency_id: v.section_set for v in item.visibility})


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/<any(delete, up, down):action>")
def agenda_change(meeting_id, item_id, action):
    meeting = get_meeting(meeting_id, manage=True)
    item = one_or_404(meeting.agenda_items, item_id)
    if ButtonForm().validate_on_submit():
        if action == "delete":
            change = partial(services.remove_agenda_item, item, by=current_user,
                             confirmed=request.form.get("confirm") == "1")
        else:
            change = partial(services.move_agenda_item, item, by=current_user, offset=-1 if action == "up" else 1)
        try:
            commit_change(change)
        except services.InputsWouldBeLost as lost:
            return render_template("meetings/agenda_remove.html", meeting=meeting, item=item,
                                   agencies=lost.agencies, form=ButtonForm())
    return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#agenda")


@bp.post("/<int:meeting_id>/agenda/children-first")
def agenda_children_first(meeting_id):
    meeting = get_meeting(meeting_id, manage=True)
    if ButtonForm().validate_on_submit():
        commit_change(partial(services.put_children_first, meeting, by=current_user),
                      success=_("아동이 있는 가구를 앞으로 옮겼습니다."))
    return redirect(url_for("meetings.detail", meeting_id=meeting_id) + "#agenda")


@bp.route("/<int:meeting_id>/pledge", methods=["GET", "POST"])
def pledge(meeting_id):
    meeting = get_meeting(meeting_id)
    form = PledgeForm()
    if form.validate_on_submit():
        services.accept_pledge(meeting, user=current_user, ip=audit.client_ip())
        db.session.commit()
        flash(_("비밀유지 서약을 기록했습니다."), "success")
        return redirect(url_for("meetings.packet", meeting_id=meeting.id))
    return render_template("meetings/pledge.html", form=form, meeting=meeting,
                           pledged=has_pledged(meeting, current_user))


def _packet_for_request(meeting_id, *, loader=packets.load_meeting):
    """The meeting and the copy of its packet the request reads: 404 when there is none; a partner who has not
    pledged confidentiality for the meeting is sent to the pledge first."""
    meeting = get_meeting(meeting_id, loader=loader)
    copy = packets.packet_for_reader(meeting, current_user, request.values.get("agency", type=int),
                                     coordinator_notes=can_manage_meetings(current_user), today=today_local())
    if copy is REFUSED:
        abort(404)
    if copy is PLEDGE_NEEDED:
        abort(redirect(url_for("meetings.pledge", meeting_id=meeting.id)))
    return meeting, copy


@bp.get("/<int:meeting_id>/packet")
def packet(meeting_id):
    """A reader's copy of the packet: kept until what it shows changes; each view recorded."""
    meeting, copy = _packet_for_request(meeting_id, loader=packets.load_meeting_access)
    page, cases = pagecache.rendered(lambda: _packet_page(copy))
    audit.record_access("packet.view", meeting, details={"agency_id": copy.agency_id, "cases": cases})
    return page


def _packet_page(copy) -> tuple[str, list[str]]:
    """The packet page and the case numbers it shows (``copy``'s meeting is completed first)."""
    packets.complete_for_packet(copy.meeting)
    data = copy.packet
    page = render_template("meetings/packet.html", meeting=copy.meeting, packet=data, download_form=DownloadForm(),
                           can_manage=can_manage_meetings(current_user))
    return page, [c.case_number for c in data.cases]


@bp.post("/<int:meeting_id>/packet.docx")
def packet_docx(meeting_id):
    meeting, copy = _packet_for_request(meeting_id)
    form = DownloadForm()
    if not form.validate_on_submit():
        for message in (*form.purpose.errors, *form.file_format.errors):
            flash(message, "error")
        return redirect(url_for("meetings.packet", meeting_id=meeting.id, agency=copy.agency_id or None))
    data, file_format = copy.packet, form.file_format.data
    build = build_packet_hwpx if file_format == "hwpx" else build_packet_docx
    content = build(data, font=current_app.config["DOCX_FONT"], author=current_user.agency.name,
                    generated_at=datetime.now(UTC))
    filename = f"{meeting.title} 사전공유자료 {data.agency_name or '전체'}.{file_format}"  # before the commit
    audit.record("packet.download", meeting, details={"agency_id": copy.agency_id, "purpose": form.purpose.data,
                                                      "format": file_format, "cases": [c.case_number for c in data.cases]})
    db.session.commit()
    return attachment(content, filename, DOCUMENT_FORMATS[file_format])


@bp.get("/<int:meeting_id>/invitation.ics")
def invitation_ics(meeting_id):
    meeting = get_meeting(meeting_id)
    content = calendar.meeting_ics(meeting, host=request.host)
    return attachment(content.encode("utf-8"), f"{meeting.title}.ics", "text/calendar")  # Werkzeug adds the charset
