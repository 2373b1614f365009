"""Forms of the action follow-up."""
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from conference.core.i18n import lazy_gettext as _l
from conference.shared.webforms import CountedLength, Form, counted

DATE = _l("날짜를 YYYY-MM-DD 형식으로 입력하세요.")
TOO_LONG = _l("%(max)d자 이하로 적으세요.")


class ProgressForm(Form):
    checked_on = DateField(_l("점검일"), validators=[InputRequired(DATE)])
    content = TextAreaField(_l("한 일"), validators=[CountedLength(max=2000, message=TOO_LONG)], render_kw=counted(2000))
    result = TextAreaField(_l("결과"), validators=[CountedLength(max=2000, message=TOO_LONG)], render_kw=counted(2000))


class NoteForm(Form):
    note = TextAreaField(_l("완료 내용"), validators=[CountedLength(max=2000, message=TOO_LONG)], render_kw=counted(2000))


class DueForm(Form):
    new_due = DateField(_l("새 기한"), validators=[InputRequired(DATE)])
    reason = TextAreaField(_l("사유"), validators=[CountedLength(max=2000, message=TOO_LONG)], render_kw=counted(2000))


class ActionFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(_l("상태"), validators=[Optional()], choices=[
        ("active", _l("진행 중인 과제")), ("open", _l("진행 전")), ("in_progress", _l("진행 중")), ("done", _l("완료")),
        ("changed", _l("상황 변화")), ("not_done", _l("미이행")), ("all", _l("전체"))], default="active")
    due = SelectField(_l("기한"), validators=[Optional()], choices=[
        ("", _l("전체")), ("overdue", _l("기한 지남")), ("soon", _l("2주 안에 마감"))], default="")
    agency = SelectField(_l("담당기관"), coerce=int, validators=[Optional()])

    def __init__(self, agencies, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency.choices = [(0, _l("전체"))] + [(a.id, a.name) for a in agencies]
