"""Meeting day and minutes: attendance, one screen per case, review, approval, corrections, Word files."""
from datetime import UTC, datetime
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from conference import audit
from conference.core.downloads import DOCUMENT_FORMATS, attachment
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.meetings import services as meeting_services
from conference.meetings.packets import load_meeting_access
from conference.minutes import document, forms, services
from conference.models import REVIEW_OUTCOMES, Disclosure, MeetingStatus, NeedDomain
from conference.shared import pagecache, permissions
from conference.shared.permissions import (REFUSED, can_approve_minutes, can_export_full_names, can_manage_meetings,
                                           can_read_minutes, can_view_meeting, reader_agency_for, require)
from conference.shared.rules import RuleError, problems_of
from conference.shared.webforms import ButtonForm, active_agencies, attach_error, commit_change, one_or_404

bp = Blueprint("minutes", __name__, url_prefix="/meetings/<int:meeting_id>")
permissions.case_work_only(bp)



def get_meeting(meeting_id: int, *, run: bool = False, may=None, loader=services.load_for_minutes):
    """The meeting with its minutes: 404 when the user may not see it; 403 when ``run`` and the user does not run
    meetings, or when ``may(user, meeting)`` (``can_read_minutes`` …) says no."""
    meeting = loader(meeting_id)
    if meeting is None or not can_view_meeting(current_user, meeting):
        abort(404)
    if run:
        require(can_manage_meetings(current_user))
    if may is not None:
        require(may(current_user, meeting))
    return meeting


@bp.route("/run", methods=["GET", "POST"])
def run(meeting_id):
    """The meeting's attendance, schedule and agenda, for the coordinator during and after the meeting; before the
    meeting, its start."""
    meeting = get_meeting(meeting_id, run=True)
    schedule = forms.ScheduleForm(obj=meeting.minutes)
    if request.method == "POST" and schedule.validate_on_submit():
        rows = forms.attendance_rows(request.form)

        def save():
            services.record_attendance(meeting, by=current_user, rows=rows)
            services.set_schedule(meeting, by=current_user, next_meeting=schedule.next_meeting.data,
                                  next_check=schedule.next_check.data)

        saved = commit_change(save, success=_("참석자와 일정을 저장했습니다."), quiet=True)
        if saved:
            return redirect(url_for("minutes.run", meeting_id=meeting_id))
        return _run_page(get_meeting(meeting_id, run=True), schedule, error=saved.error.message,
                         rows=forms.posted_attendance(request.form))
    return _run_page(meeting, schedule)


def _run_page(meeting, schedule, *, error=None, rows=None, start_error=None):
    """The run page: the attendance rows as posted (``rows``), or those recorded, then the people expected (as
    suggestions to confirm) and blank rows."""
    if rows is None:
        rows = ([{"name": a.name, "agency_id": a.agency_id, "position": a.position, "source": "", "present": True}
                 for a in meeting.attendees]
                + [{**row._asdict(), "present": False} for row in services.attendance_suggestions(meeting)]
                + [{"name": "", "agency_id": None, "position": "", "source": "", "present": False}] * forms.BLANK_ROWS)
    return render_template("minutes/run.html", meeting=meeting, schedule=schedule, agencies=active_agencies(),
                           error=error, rows=rows, recording=meeting.status in services.RECORDING,
                           statuses=list(MeetingStatus), start_form=ButtonForm(), start_error=start_error,
                           preparing=meeting.status in meeting_services.PREPARATION,
                           meeting_day=meeting_services.is_meeting_day(meeting, today_local()),
                           sources=forms.SUGGESTION_SOURCES)


@bp.post("/run/start")
def start(meeting_id):
    """Start the meeting (회의 중) from the meeting-day screen; on another day only once confirmed."""
    meeting = get_meeting(meeting_id, run=True)
    if ButtonForm().validate_on_submit():
        started = commit_change(partial(meeting_services.start_meeting, meeting, by=current_user, today=today_local(),
                                        confirmed=request.form.get("confirm_day") == "1"),
                                success=_("회의를 시작했습니다. 참석자를 확인하고 안건별로 기록하세요."), quiet=True)
        if not started:
            meeting = get_meeting(meeting_id, run=True)
            return _run_page(meeting, forms.ScheduleForm(obj=meeting.minutes), start_error=started.error), 200
    return redirect(url_for("minutes.run", meeting_id=meeting_id))


def _case_context(meeting, item, earlier):
    agencies = active_agencies()
    return {"meeting": meeting, "item": item, "earlier": earlier, "agencies": agencies,
            "outside_consent": services.agencies_needing_override(item, {a.id for a in agencies}),
            "levels": list(Disclosure),
            "domains": list(NeedDomain), "outcomes": REVIEW_OUTCOMES, "blank_rows": forms.BLANK_ROWS,
            "config": current_app.config, "reviews": {r.action_id: r for r in meeting.reviews},
            "recording": meeting.status in services.RECORDING,
            "decision_choices": services.decision_choices(item.household)}


@bp.route("/run/<int:item_id>", methods=["GET", "POST"])
def run_case(meeting_id, item_id):
    """One screen per agenda item: inputs, earlier actions, discussion, root causes, decisions, new actions."""
    meeting = get_meeting(meeting_id, run=True)
    item = one_or_404(meeting.agenda_items, item_id)
    earlier = services.earlier_open_actions(meeting).get(item.household_id, [])
    context = _case_context(meeting, item, earlier)
    if request.method == "POST":
        form = request.form

        def save():
            services.save_case_record(item, forms.case_record_draft(form, [a.id for a in earlier]), by=current_user,
                                      base_version=forms._int(form.get("version")) or 0, earlier=earlier)

        try:
            saved = commit_change(save, quiet=True, success=lambda _result: _("사례 %(number)s 기록을 저장했습니다.",
                                                                              number=item.household.case_number))
        except services.RecordConflict:
            db.session.rollback()
            return render_template("minutes/run_case.html", values=form, conflict=True,
                                   error=_("다른 사람이 그사이 이 사례 기록을 저장했습니다. 적은 내용은 아래에 그대로 있습니다. "
                                           "새로 고쳐진 내용을 확인한 뒤 다시 저장하세요."),
                                   **_case_context(*_reloaded(meeting_id, item_id))), 409
        if not saved:
            return render_template("minutes/run_case.html", values=form, error=saved.error.message,
                                   error_field=saved.error.field, problems=problems_of(saved.error),
                                   posted_rows={"action": forms.row_count(form, "action"),
                                                "cause": forms.row_count(form, "cause")},
                                   **_case_context(*_reloaded(meeting_id, item_id))), 200
        return redirect(url_for("minutes.run_case", meeting_id=meeting_id, item_id=item_id))
    return render_template("minutes/run_case.html", values=None, error=None, **context)


def _reloaded(meeting_id, item_id):
    meeting = get_meeting(meeting_id, run=True)
    item = next(i for i in meeting.agenda_items if i.id == item_id)
    return meeting, item, services.earlier_open_actions(meeting).get(item.household_id, [])


def _reader(meeting):
    """Whose version of the minutes the request reads (None: the full version); 404 for nobody's."""
    require(can_read_minutes(current_user, meeting))
    agency_id = reader_agency_for(current_user, meeting, request.values.get("agency", type=int))
    if agency_id is REFUSED:
        abort(404)
    return agency_id


@bp.get("/minutes")
def minutes_page(meeting_id):
    """The minutes as this reader may read them: kept until what they show changes; each view recorded."""
    meeting = get_meeting(meeting_id, loader=load_meeting_access)
    agency_id = _reader(meeting)
    return _recorded(meeting, pagecache.rendered(lambda: _minutes_page(meeting, agency_id)))


def _recorded(meeting, shown: tuple[str, dict | None]) -> str:
    """The page of ``shown`` (the page, what it showed); its view goes to the access log when it showed minutes."""
    page, seen = shown
    if seen is not None:
        audit.record_access("minutes.view", meeting, details=seen)
    return page


def _minutes_page(meeting, agency_id, review_form=None) -> tuple[str, dict | None]:
    """The minutes page (``meeting`` is completed first) and what its access record says (None: nothing shown);
    ``review_form`` as posted, to show it again with what was typed and its errors."""
    services.load_for_reading(meeting)
    minutes = meeting.minutes
    try:
        data = services.reader_minutes(meeting, agency_id)
    except RuleError as problem:
        return render_template("minutes/not_held.html", meeting=meeting, message=problem.message), None
    page = render_template(
        "minutes/minutes.html", meeting=meeting, minutes=minutes, data=data, agency_id=agency_id,
        responses=services.visible_responses(minutes, agency_id), **_approval_context(meeting, agency_id),
        can_manage=can_manage_meetings(current_user), can_approve=can_approve_minutes(current_user, meeting),
        review_form=review_form or forms.ReviewRequestForm(), response_form=forms.ResponseForm(),
        correction_form=forms.CorrectionForm(), download_form=forms.MinutesDownloadForm(),
        full_names_allowed=can_export_full_names(current_user), decided_lines=document.decided_lines,
        meeting_time=document.meeting_time(data.starts_at, data.ends_at), sign_off=document.sign_off_steps(data))
    return page, {"revision": minutes.revision if minutes else 1, "cases": [c.case_number for c in data.cases]}


def _back(meeting_id):
    return redirect(url_for("minutes.minutes_page", meeting_id=meeting_id))


def _submitted(form, message) -> bool:
    """Whether ``form`` came back valid; if not, ``message`` is flashed for the minutes page to show."""
    if form.validate_on_submit():
        return True
    flash(message, "error")
    return False


@bp.post("/minutes/review")
def request_review(meeting_id):
    meeting = get_meeting(meeting_id, run=True)
    form = forms.ReviewRequestForm()
    if form.validate_on_submit():
        sent = commit_change(partial(services.request_review, meeting, by=current_user, deadline=form.deadline.data,
                                     today=today_local()),
                             success=_("참석자에게 회의록 검토를 요청했습니다."), quiet=True)
        if sent:
            return _back(meeting_id)
        if sent.error.field == "deadline":
            attach_error(form, "deadline", sent.error.message)
        else:
            flash(sent.error.message, "error")
    # Shown again with the deadline as typed, its problem beside it.
    meeting = get_meeting(meeting_id, run=True)
    return _recorded(meeting, _minutes_page(meeting, _reader(meeting), review_form=form))


@bp.post("/minutes/respond")
def respond(meeting_id):
    meeting = get_meeting(meeting_id, may=can_read_minutes)
    form = forms.ResponseForm()
    if form.validate_on_submit():
        commit_change(partial(services.respond, meeting, user=current_user, confirmed=form.confirmed.data,
                              comment=form.comment.data or ""),
                      success=_("검토 의견을 남겼습니다."))
    return _back(meeting_id)


def _approval_context(meeting, agency_id) -> dict:
    """For the city's reading of the minutes: what stops the approval (and who fixes it) and who has reviewed."""
    minutes = meeting.minutes
    if agency_id is not None:
        return {"problems": [], "summary": None}
    open_minutes = meeting.status in services.RECORDING and (minutes is None or minutes.status != "final")
    return {"problems": services.approval_problems(meeting) if open_minutes else [],
            "summary": services.review_summary(meeting) if minutes and minutes.status != "draft" else None}


@bp.post("/minutes/approve")
def approve(meeting_id):
    """결재. With reviews missing (or something only the coordinator can fix) the chair first gets a page saying
    what; approving with reviews missing needs the confirmation it asks for."""
    meeting = get_meeting(meeting_id, may=can_approve_minutes)
    form = forms.ApproveForm()
    minutes = meeting.minutes
    if minutes is not None and minutes.status == "review":
        context = _approval_context(meeting, None)
        confirmed = form.validate_on_submit() and form.confirm.data == forms.CONFIRMED
        form.confirm.data = forms.CONFIRMED  # what the page's button sends
        if context["problems"] or (context["summary"].missing and not confirmed):
            return render_template("minutes/approve.html", meeting=meeting, minutes=minutes, form=form, **context)
    outcome = commit_change(partial(services.finalise, meeting, by=current_user), quiet=True,
                            success=lambda minutes: _("결재했습니다. 회의록이 확정되었습니다 (해시 %(hash)s).",
                                                      hash=minutes.content_hash[:12]))
    if isinstance(outcome.error, services.NotReady):  # found wanting since the page above was shown
        meeting = get_meeting(meeting_id, may=can_approve_minutes)
        form.confirm.data = forms.CONFIRMED
        return render_template("minutes/approve.html", meeting=meeting, minutes=meeting.minutes, form=form,
                               **_approval_context(meeting, None))
    if outcome.error is not None:
        flash(outcome.error.message, "error")
    return _back(meeting_id)


@bp.post("/minutes/correct")
def correct(meeting_id):
    meeting = get_meeting(meeting_id, run=True)
    form = forms.CorrectionForm()
    if _submitted(form, _("정정 사유를 적으세요.")):
        commit_change(partial(services.correct, meeting, by=current_user, reason=form.reason.data),
                      success=_("정정본을 열었습니다. 고친 뒤 다시 검토와 결재를 받으세요."))
    return _back(meeting_id)


@bp.post("/minutes.docx")
def minutes_docx(meeting_id):
    """The minutes as the reader may read them, as a Word file or (the 한글 button) an HWPX file."""
    meeting = get_meeting(meeting_id)
    agency_id = _reader(meeting)
    form = forms.MinutesDownloadForm()
    if not form.validate_on_submit():
        for message in (*form.purpose.errors, *form.file_format.errors):
            flash(message, "error")
        return _back(meeting_id)
    full_names = bool(form.full_names.data)
    if full_names:
        require(can_export_full_names(current_user))
    try:
        data = services.reader_minutes(meeting, agency_id, full_names=full_names)
    except RuleError as problem:
        flash(problem.message, "error")
        return redirect(url_for("meetings.detail", meeting_id=meeting_id))
    file_format = form.file_format.data
    build = document.build_minutes_hwpx if file_format == "hwpx" else document.build_minutes_docx
    content = build(data, font=current_app.config["DOCX_FONT"], generated_at=datetime.now(UTC))
    suffix = (" 실명" if full_names else "") + (f" {data.reader} 열람용" if data.reader else "")
    filename = f"{meeting.title} 회의록{suffix}.{file_format}"  # before the commit, which would reload the meeting
    audit.record("minutes.download", meeting, details={"purpose": form.purpose.data, "full_names": full_names,
                                                       "agency_id": agency_id, "format": file_format,
                                                       "cases": [c.case_number for c in data.cases]})
    db.session.commit()
    return attachment(content, filename, DOCUMENT_FORMATS[file_format])


@bp.post("/attendance.docx")
def attendance_docx(meeting_id):
    """참석자 서명부 for the coordinator, from the invitations: printable before the meeting starts; Word or 한글."""
    meeting = get_meeting(meeting_id, run=True)
    form = forms.MinutesDownloadForm()
    if not form.validate_on_submit():
        for message in (*form.purpose.errors, *form.file_format.errors):
            flash(message, "error")
        return redirect(_safe_back(meeting_id))
    file_format = form.file_format.data
    build = document.build_sign_in_sheet_hwpx if file_format == "hwpx" else document.build_sign_in_sheet_docx
    content = build(services.sign_in_sheet(meeting), generated_at=datetime.now(UTC),
                    font=current_app.config["DOCX_FONT"])
    filename = f"{meeting.title} 참석자 서명부.{file_format}"  # before the commit, which would reload the meeting
    audit.record("attendance.download", meeting, details={"purpose": form.purpose.data, "format": file_format})
    db.session.commit()
    return attachment(content, filename, DOCUMENT_FORMATS[file_format])


@bp.post("/run/<int:item_id>/postpone")
def postpone(meeting_id, item_id):
    """보류 (다음 회의로) with a reason, or (``undo``) taking the postponement back."""
    meeting = get_meeting(meeting_id, run=True)
    item = one_or_404(meeting.agenda_items, item_id)
    if ButtonForm().validate_on_submit():
        if request.form.get("undo"):
            change, message = partial(services.resume_case, item, by=current_user), _("보류를 취소했습니다.")
        else:
            change = partial(services.postpone_case, item, by=current_user, reason=request.form.get("postpone_reason", ""))
            message = _("사례 %(number)s을(를) 다음 회의로 보류했습니다.", number=item.household.case_number)
        done = commit_change(change, success=message, quiet=True)
        if not done:
            meeting, item, earlier = _reloaded(meeting_id, item_id)
            return render_template("minutes/run_case.html", values=None, error=None, postpone_error=done.error,
                                   postpone_value=request.form.get("postpone_reason", ""),
                                   **_case_context(meeting, item, earlier)), 200
    return redirect(url_for("minutes.run_case", meeting_id=meeting_id, item_id=item_id))


def _safe_back(meeting_id):
    """Back to the meeting page when the form came from there, else to the run page."""
    if request.form.get("back") == "meeting":
        return url_for("meetings.detail", meeting_id=meeting_id)
    return url_for("minutes.run", meeting_id=meeting_id)
