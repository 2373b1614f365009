"""Forms for meetings, invitations, agenda items, need-to-know and pledges."""
from datetime import datetime, time

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from conference.core.formatting import KST
from conference.core.i18n import lazy_gettext as _l
from conference.models.meetings import MeetingKind
from conference.shared.webforms import (NOTHING_CHOSEN, DisclosureField, Form, IntegerRange, chosen_id,
                                        file_format_field)

REQUIRED = _l("필수 항목입니다.")


class MeetingForm(Form):
    kind = SelectField(_l("회의 유형"), choices=[(k.value, k.label) for k in MeetingKind],
                       default=MeetingKind.INTEGRATED.value)
    number = IntegerField(_l("회차"), validators=[Optional(), IntegerRange(min=1, max=999,
                                                                        message=_l("회차는 1~999 사이입니다."))])
    day = DateField(_l("날짜"), validators=[InputRequired(_l("날짜를 YYYY-MM-DD 형식으로 입력하세요."))])
    start_time = TimeField(_l("시작 시각"), default=time(14, 0),
                           validators=[InputRequired(_l("시각을 HH:MM 형식으로 입력하세요."))])
    duration_minutes = IntegerField(_l("예정 시간(분)"), default=120, validators=[
        InputRequired(_l("숫자로 입력하세요.")), IntegerRange(min=15, max=600, message=_l("15~600분 사이로 입력하세요."))])
    place = StringField(_l("장소"), validators=[DataRequired(REQUIRED), Length(max=200)])
    chair_id = SelectField(_l("주재"), coerce=int, validate_choice=True)
    coordinator_id = SelectField(_l("담당(작성자)"), coerce=int, validate_choice=True)

    def __init__(self, chairs, coordinators, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chair_id.choices = [(0, _l("미정"))] + [(u.id, f"{u.display_name} ({u.agency.name})") for u in chairs]
        self.coordinator_id.choices = [(u.id, u.display_name) for u in coordinators]

    def starts_at(self) -> datetime:
        return datetime.combine(self.day.data, self.start_time.data, KST)


class InviteForm(Form):
    agency_id = SelectField(_l("기관"), coerce=chosen_id, validate_choice=False,
                            validators=[DataRequired(_l("기관을 고르세요."))])
    deadline = DateField(_l("정보 요청 기한"), validators=[Optional()],
                         description=_l("비우면 회의 3일(근무일) 전"))
    invitees = StringField(_l("참석 요청 인원"), validators=[Length(max=200)], description=_l("예: 서마음 팀장"))

    def __init__(self, agencies, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [NOTHING_CHOSEN] + [(a.id, a.name) for a in agencies]


class InvitationForm(Form):
    deadline = DateField(_l("정보 요청 기한"), validators=[InputRequired(_l("날짜를 YYYY-MM-DD 형식으로 입력하세요."))])
    invitees = StringField(_l("참석 요청 인원"), validators=[Length(max=200)])


class AgendaItemForm(Form):
    key_question = TextAreaField(_l("논의 요청사항"), validators=[Length(max=2000)])
    key_question_level = DisclosureField(_l("논의 요청사항 공개 범위"))
    presenting_agency_id = SelectField(_l("발표 기관"), coerce=int, validate_choice=True)
    minutes_allotted = IntegerField(_l("배정 시간(분)"), default=15, validators=[
        InputRequired(_l("숫자로 입력하세요.")), IntegerRange(min=1, max=120, message=_l("1~120분 사이로 입력하세요."))])

    def __init__(self, agencies, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.presenting_agency_id.choices = [(0, _l("담당자"))] + [(a.id, a.name) for a in agencies]


class NewAgendaItemForm(AgendaItemForm):
    household_id = IntegerField(validators=[InputRequired(_l("사례를 고르세요."))])
    consent_override_reason = TextAreaField(_l("동의 범위 예외 사유"), validators=[Length(max=2000)],
                                            description=_l("정보제공 동의에 없는 기관이 초대되어 있을 때만: 왜 공유해야 하는지 적으세요. 기록됩니다."))


class PledgeForm(Form):
    accept = BooleanField(_l("위 내용을 읽었으며 비밀유지를 서약합니다."),
                          validators=[DataRequired(_l("서약에 동의해야 자료를 볼 수 있습니다."))])


class DownloadForm(Form):
    purpose = StringField(_l("내려받는 목적"), validators=[
        DataRequired(_l("내려받는 목적을 적으세요.")), Length(min=2, max=200, message=_l("2~200자로 적으세요."))])
    file_format = file_format_field()


class StatusForm(Form):
    """The target status is in the button; a step back from 회의록 작성 also says why (checked by the service)."""
    reason = StringField(_l("되돌리는 사유"), validators=[Optional()])

