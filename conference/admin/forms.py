"""Admin forms for agencies and accounts."""
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from conference.auth.forms import acceptable_password
from conference.core.i18n import lazy_gettext as _l
from conference.models import Role, Sector
from conference.shared.webforms import NOTHING_CHOSEN, Form, chosen_id

REQUIRED = _l("필수 항목입니다.")


def _public_choices():
    return [("1", _l("공공")), ("0", _l("민간"))]


class AgencyForm(Form):
    name = StringField(_l("기관명"), validators=[DataRequired(REQUIRED),
                                              Length(max=100, message=_l("100자 이하로 입력하세요."))])
    is_public = SelectField(_l("구분"), choices=_public_choices(), default="1")
    sector = SelectField(_l("분야"), choices=[(s.value, s.label) for s in Sector],
                         validate_choice=True)
    is_active = BooleanField(_l("사용 중"), default=True)

    def values(self) -> dict:
        return {"name": self.name.data, "is_public": self.is_public.data == "1",
                "sector": self.sector.data, "is_active": self.is_active.data}


USERNAME_RULE = Regexp(r"^[a-z0-9][a-z0-9._-]{2,39}$",
                       message=_l("아이디는 영문 소문자·숫자·점·밑줄·하이픈으로 3~40자입니다."))
PHONE_RULE = Regexp(r"^(?=(?:\D*\d){8,12}\D*$)[0-9][0-9 ()-]{6,18}[0-9]$",
                    message=_l("업무 연락처는 031-860-2101처럼 숫자와 하이픈으로 적으세요."))
EMAIL_RULE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("이메일 형식이 올바르지 않습니다."))


class UserEditForm(Form):
    display_name = StringField(_l("성명"), validators=[DataRequired(REQUIRED),
                                                     Length(max=50, message=_l("50자 이하로 입력하세요."))])
    position = StringField(_l("직위"), validators=[Length(max=50, message=_l("50자 이하로 입력하세요."))])
    email = StringField(_l("이메일"), validators=[Optional(), Length(max=120), EMAIL_RULE])
    phone = StringField(_l("업무 연락처"), validators=[Optional(), PHONE_RULE])
    agency_id = SelectField(_l("소속기관"), coerce=chosen_id,
                            validators=[DataRequired(_l("소속기관을 고르세요."))])
    role = SelectField(_l("역할"), choices=[(r.value, r.label) for r in Role])
    is_active_account = BooleanField(_l("사용 중"), default=True)
    #: Asked (and shown) only when admins change their own e-mail; see admin.views.user_edit.
    current_password = PasswordField(_l("현재 비밀번호"), validators=[
        Optional(), Length(max=128, message=_l("비밀번호가 너무 깁니다."))], render_kw={"autocomplete": "current-password"})

    def __init__(self, agencies, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [NOTHING_CHOSEN] + [(a.id, a.name) for a in agencies]

    def values(self) -> dict:
        return {"display_name": self.display_name.data, "position": (self.position.data or "").strip(),
                "email": (self.email.data or "").strip(), "phone": (self.phone.data or "").strip(),
                "agency_id": self.agency_id.data,
                "role": self.role.data, "is_active_account": self.is_active_account.data}


class UserCreateForm(UserEditForm):
    username = StringField(_l("아이디"), validators=[DataRequired(REQUIRED), USERNAME_RULE])
    password = PasswordField(_l("임시 비밀번호"), validators=[DataRequired(REQUIRED), acceptable_password])
    confirm = PasswordField(_l("임시 비밀번호 확인"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("비밀번호가 서로 다릅니다."))])

    @property
    def policy_username(self):
        return self.username.data or ""


class ResetPasswordForm(Form):
    password = PasswordField(_l("임시 비밀번호"), validators=[DataRequired(REQUIRED), acceptable_password])
    confirm = PasswordField(_l("임시 비밀번호 확인"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("비밀번호가 서로 다릅니다."))])

    def __init__(self, username: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_username = username
