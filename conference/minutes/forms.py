"""Reading the meeting-mode forms: fixed fields through WTForms, repeated rows (actions, causes) by hand."""
from datetime import date

from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from conference.core.i18n import lazy_gettext as _l
from conference.minutes.services import ActionDraft, CaseRecordDraft, CauseDraft
from conference.shared.webforms import Form, file_format_field

#: Blank rows offered for new actions and root causes.
BLANK_ROWS = 3


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


#: Where a suggested attendee comes from, as the run page labels it.
SUGGESTION_SOURCES = {"chair": _l("주재"), "coordinator": _l("담당"), "pledge": _l("서약"), "invitation": _l("초대 명단")}


def posted_attendance(form) -> list[dict]:
    """The attendance rows as posted (attendee-N-name/-agency/-position; a suggested row carries -source and is
    present only when its -present box is ticked), to show again after an error."""
    numbers = _row_numbers(form, "attendee")
    return [{"name": form.get(f"attendee-{n}-name", ""), "agency_id": _int(form.get(f"attendee-{n}-agency")),
             "position": form.get(f"attendee-{n}-position", ""),
             "source": form.get(f"attendee-{n}-source", "") if form.get(f"attendee-{n}-source") in SUGGESTION_SOURCES
             else "", "present": bool(form.get(f"attendee-{n}-present"))} for n in numbers]


def attendance_rows(form) -> list[tuple[str, int | None, str]]:
    """(name, agency id, position) of each person present: every named row but a suggestion left unticked."""
    return [(row["name"], row["agency_id"], row["position"]) for row in posted_attendance(form)
            if row["present"] or not row["source"]]


def action_rows(form) -> list[ActionDraft]:
    """action-N-* fields; a row with no task and no agency is a blank row and is skipped.

    ``-level`` is the task's disclosure level ("": the domain's default), ``-override`` the reason for an agency
    outside the household's consent; the service checks both.
    """
    drafts = []
    numbers = _row_numbers(form, "action")
    for n in numbers:
        row = {name: (form.get(f"action-{n}-{name}") or "").strip()
               for name in ("task", "domain", "agency", "person", "due", "resource_public", "resource_kind", "level",
                            "override")}
        if not row["task"] and not row["agency"] and not row["resource_kind"]:
            continue
        drafts.append(ActionDraft(task=row["task"], domain=row["domain"], agency_id=_int(row["agency"]),
                                  person=row["person"], due_on=_date(row["due"]),
                                  resource_public=row["resource_public"] != "0", resource_kind=row["resource_kind"],
                                  task_level=row["level"] or None, consent_override_reason=row["override"], row=n))
    return drafts


def row_count(form, prefix: str) -> int:
    """How many rows of ``prefix``-N-… fields were posted (the highest N + 1), so a page shown again keeps them all."""
    return max(_row_numbers(form, prefix), default=-1) + 1


#: Row numbers the case screen and attendance accept (action-N-…, cause-N-…, attendee-N-…): far more rows than a
#: meeting writes, few enough that a page shown again after an error draws every one. Higher numbers are ignored.
MAX_ROW_NUMBER = 200


def _row_numbers(form, prefix: str) -> list[int]:
    """The N of the posted ``prefix``-N-… fields, ascending, below MAX_ROW_NUMBER (ASCII digits only)."""
    numbers = set()
    for key in form:
        head, _, rest = key.partition("-")
        number = rest.split("-")[0]
        if head == prefix and number.isascii() and number.isdigit() and len(number) <= 3 and int(number) < MAX_ROW_NUMBER:
            numbers.add(int(number))
    return sorted(numbers)


def cause_rows(form) -> list[CauseDraft]:
    """cause-N-domain/-text/-level fields (level "": the domain's default); blank rows are left to the service."""
    numbers = _row_numbers(form, "cause")
    return [CauseDraft((form.get(f"cause-{n}-domain") or "").strip(), form.get(f"cause-{n}-text") or "",
                       (form.get(f"cause-{n}-level") or "").strip() or None) for n in numbers]


def review_rows(form, earlier_ids) -> dict[int, tuple[str, str]]:
    """review-<action id>-outcome/-note for the earlier open actions; unanswered ones are left out."""
    rows = {}
    for action_id in earlier_ids:
        outcome = (form.get(f"review-{action_id}-outcome") or "").strip()
        if outcome:
            rows[action_id] = (outcome, form.get(f"review-{action_id}-note") or "")
    return rows


def case_record_draft(form, earlier_ids) -> CaseRecordDraft:
    """The case screen's record as written: its texts, levels, stage, root causes, actions and the reviews of the
    earlier open actions ``earlier_ids``."""
    return CaseRecordDraft(
        discussion=form.get("discussion", ""), decisions=form.get("decisions", ""),
        discussion_level=form.get("discussion_level"), decisions_level=form.get("decisions_level"),
        goals=form.get("goals", ""), classification=form.get("classification", ""),
        status_to=form.get("status_to", ""), track=form.get("track", ""),
        closure_reason=form.get("closure_reason", ""), root_causes=cause_rows(form),
        actions=action_rows(form), reviews=review_rows(form, earlier_ids))


class ReviewRequestForm(Form):
    deadline = DateField(_l("검토 기한"), validators=[InputRequired(_l("날짜를 YYYY-MM-DD 형식으로 입력하세요."))])


#: The value the approval page's confirm button sends: "approve although reviews are missing".
CONFIRMED = "reviews-missing"


class ApproveForm(Form):
    """결재; ``confirm`` is CONFIRMED once the chair has seen which reviews are missing and approves anyway."""

    confirm = HiddenField()


class ResponseForm(Form):
    confirmed = BooleanField(_l("내용을 확인했습니다"))
    comment = TextAreaField(_l("의견"), validators=[Length(max=2000)])


class CorrectionForm(Form):
    reason = TextAreaField(_l("정정 사유"), validators=[InputRequired(_l("정정 사유를 적으세요.")), Length(max=2000)])


class MinutesDownloadForm(Form):
    purpose = StringField(_l("내려받는 목적"), validators=[
        InputRequired(_l("내려받는 목적을 적으세요.")), Length(min=2, max=200, message=_l("2~200자로 적으세요."))])
    full_names = BooleanField(_l("실명 포함 (담당자만, 사유가 기록됩니다)"))
    file_format = file_format_field()


class ScheduleForm(Form):
    next_meeting = DateField(_l("다음 회의"), validators=[Optional()])
    next_check = DateField(_l("다음 점검일"), validators=[Optional()])
