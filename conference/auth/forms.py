"""Login, password and two-factor forms."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from conference.auth.passwords import password_problem
from conference.core.i18n import lazy_gettext as _l
from conference.shared.webforms import Form


def acceptable_password(form, field):
    """WTForms validator applying the password policy."""
    problem = password_problem(field.data or "", getattr(form, "policy_username", ""))
    if problem:
        raise ValidationError(problem)


class LoginForm(Form):
    username = StringField(_l("아이디"), validators=[DataRequired(_l("아이디를 입력하세요.")),
                                                  Length(max=40, message=_l("아이디가 너무 깁니다."))])
    password = PasswordField(_l("비밀번호"), validators=[DataRequired(_l("비밀번호를 입력하세요.")),
                                                      Length(max=128, message=_l("비밀번호가 너무 깁니다."))])


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("현재 비밀번호"),
                                     validators=[DataRequired(_l("현재 비밀번호를 입력하세요."))])
    new_password = PasswordField(_l("새 비밀번호"), validators=[DataRequired(_l("새 비밀번호를 입력하세요.")),
                                                          acceptable_password])
    confirm = PasswordField(_l("새 비밀번호 확인"), validators=[
        DataRequired(_l("새 비밀번호를 한 번 더 입력하세요.")),
        EqualTo("new_password", message=_l("새 비밀번호가 서로 다릅니다."))])

    def __init__(self, username: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: The account the password is for; the policy refuses passwords that contain it.
        self.policy_username = username


class TwoFactorCodeForm(Form):
    """A code from the authenticator app (or, at login, a recovery code)."""
    code = StringField(_l("인증 코드"), validators=[DataRequired(_l("인증 코드를 입력하세요.")),
                                                Length(max=64, message=_l("인증 코드가 올바르지 않습니다."))],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})


def current_password_field():
    """The current password, asked again before a sensitive change (checked by ``sessions.recheck_password``)."""
    return PasswordField(_l("현재 비밀번호"), validators=[
        DataRequired(_l("현재 비밀번호를 입력하세요.")), Length(max=128, message=_l("비밀번호가 너무 깁니다."))],
        render_kw={"autocomplete": "current-password"})


class CurrentPasswordForm(Form):
    """The current password, asked again before a change to two-factor login."""
    current_password = current_password_field()


class EnableTwoFactorForm(TwoFactorCodeForm):
    """The first code from the authenticator app and the current password, to switch two-factor login on."""
    current_password = current_password_field()
