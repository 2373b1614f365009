"""Forms of the audit pages: filters, export with a purpose, and the monthly review."""
import re
from datetime import date

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from conference.audit.filters import OBJECT_TYPES, AuditFilters, household_id_for
from conference.core.i18n import lazy_gettext as _l
from conference.shared.webforms import Form

KOREAN_DATE = re.compile(r"(\d{4})\s*(?:[-./]|년)\s*(\d{1,2})\s*(?:[-./]|월)\s*(\d{1,2})\s*(?:\.|일)?")
MONTH = re.compile(r"(\d{4})\s*(?:[-./]|년)\s*(\d{1,2})\s*(?:\.|월)?")
CASE_NUMBER = re.compile(r"\d{4}-\d{1,6}")
IP_PART = re.compile(r"[0-9A-Fa-f:.]+")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MONTH_MESSAGE = _l("달은 2024-03 처럼 '연도-월'로 입력하세요 (2000~2100년).")


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(form, field):
    """Invisible control characters (NUL …) are refused: PostgreSQL cannot even compare them."""
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(_l("보이지 않는 제어 문자는 입력할 수 없습니다."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def parse_korean_date(text: str) -> date | None:
    """2024-03-05, 2024. 3. 5. or 2024년 3월 5일 → date; None if it is not a real day in 2000–2100."""
    match = KOREAN_DATE.fullmatch(text.strip())
    if not match:
        return None
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse_month(text: str) -> date | None:
    """2024-03, 2024. 3. or 2024년 3월 → the first of that month; None if it is not one."""
    match = MONTH.fullmatch(text.strip())
    if not match:
        return None
    year, month = (int(part) for part in match.groups())
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class KoreanDateField(StringField):
    """A day typed the Korean way (see ``parse_korean_date``); shown back as typed when it is wrong."""

    message = _l("날짜는 2024-03-05 또는 2024. 3. 5. 처럼 입력하세요 (2000~2100년).")

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = parse_korean_date(text) if text else None
        if text and self.data is None:
            raise ValueError(self.message)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class _FilterFields:
    """The filters, shared by the list (GET, no CSRF) and the export (POST, with CSRF)."""

    action = StringField(_l("행위"), filters=[_strip], render_kw={"placeholder": "login, user., household."},
                         validators=[no_control_characters, Length(max=60, message=_l("60자 이하로 입력하세요."))])
    actor = StringField(_l("계정"), filters=[_strip],
                        validators=[no_control_characters, Length(max=40, message=_l("40자 이하로 입력하세요."))])
    start = KoreanDateField(_l("시작일"), render_kw={"placeholder": "2024-03-01"})
    end = KoreanDateField(_l("종료일"), render_kw={"placeholder": "2024-03-31"})
    object_type = SelectField(_l("대상"), validate_choice=False,
                              choices=[("", _l("전체"))] + list(OBJECT_TYPES.items()))
    object_id = StringField(_l("대상 번호"), filters=[_strip], render_kw={"placeholder": _l("사례번호 또는 번호")},
                            validators=[no_control_characters,
                                        Length(max=40, message=_l("40자 이하로 입력하세요."))])
    ip = StringField(_l("IP"), filters=[_strip], render_kw={"placeholder": "10.1."},
                     validators=[Length(max=45, message=_l("45자 이하로 입력하세요."))])

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("종료일이 시작일보다 앞섭니다."))

    def validate_object_type(self, field):
        if field.data and field.data not in OBJECT_TYPES:
            raise ValidationError(_l("목록에 있는 대상을 고르세요."))

    def validate_object_id(self, field):
        """For a household a case number (2024-0043) is accepted and stands for its id."""
        self.resolved_object_id = field.data or ""
        if self.object_type.data == "household" and field.data and CASE_NUMBER.fullmatch(field.data):
            household_id = household_id_for(field.data)
            if household_id is None:
                raise ValidationError(_l("그런 사례번호가 없습니다."))
            self.resolved_object_id = str(household_id)

    def validate_ip(self, field):
        if field.data and not IP_PART.fullmatch(field.data):
            raise ValidationError(_l("IP 주소(또는 그 앞부분)는 숫자, 점(.), 콜론(:)으로만 입력하세요."))

    def query_args(self) -> dict[str, str]:
        """The filters as typed, for links to other pages and the export form."""
        typed = {f.name: f._value() for f in (self.action, self.actor, self.start, self.end, self.object_id, self.ip)}
        typed["object_type"] = self.object_type.data or ""
        return {name: value for name, value in typed.items() if value}

    def filters(self) -> AuditFilters:
        """The validated filters (call after ``validate``)."""
        return AuditFilters(action=self.action.data or "", actor=self.actor.data or "", start=self.start.data,
                            end=self.end.data, object_type=self.object_type.data or "",
                            object_id=getattr(self, "resolved_object_id", self.object_id.data or ""),
                            ip=self.ip.data or "")


class AuditFilterForm(_FilterFields, Form):
    class Meta:
        csrf = False


class AuditExportForm(_FilterFields, Form):
    purpose = StringField(_l("내려받는 목적"), filters=[_strip], validators=[
        DataRequired(_l("내려받는 목적을 적으세요.")), no_control_characters, Length(min=2, max=200, message=_l("2~200자로 적으세요."))])


class MonthForm(Form):
    class Meta:
        csrf = False

    month = StringField(_l("점검할 달"), filters=[_strip], render_kw={"placeholder": "2024-03"})

    def validate_month(self, field):
        if field.data and parse_month(field.data) is None:
            raise ValidationError(MONTH_MESSAGE)


class ReviewForm(Form):
    month = HiddenField()
    note = TextAreaField(_l("점검 의견"), filters=[_strip], validators=[
        DataRequired(_l("점검 의견을 적으세요. 이상이 없으면 '이상 없음'이라고 적으세요.")), no_control_characters,
        Length(max=2000, message=_l("2000자 이하로 입력하세요."))])

    def validate_month(self, field):
        if parse_month(field.data or "") is None:
            raise ValidationError(MONTH_MESSAGE)
