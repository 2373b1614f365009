"""Forms of the case register."""
import re
from datetime import date

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError

from conference.cases.services import HeadOfHousehold
from conference.core.formatting import today_local
from conference.core.i18n import lazy_gettext as _l
from conference.models import NeedDomain, Stage, Track
from conference.models.cases import MONITORING_METHODS
from conference.shared.disclosure import default_level
from conference.shared.webforms import DisclosureField, Form, IntegerRange, MultiCheckboxField

REQUIRED = _l("필수 항목입니다.")
DATE_MESSAGE = _l("날짜를 YYYY-MM-DD 형식으로 입력하세요.")
RRN_PATTERN = re.compile(r"\d{6}\s*-?\s*[1-8]\d{6}")
PHONE_PATTERN = re.compile(r"^[0-9-]{9,20}$")


def no_resident_number(form, field):
    """주민등록번호 is never stored; its message is the only one the field shows."""
    if field.data and RRN_PATTERN.search(str(field.data)):
        raise StopValidation(_l("주민등록번호는 저장할 수 없습니다. 생년월일만 입력하세요."))


def parse_birth(text: str) -> tuple[int, date | None]:
    """'1968-03-02' → (1968, date); '1968' → (1968, None); raises ValueError otherwise."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{4}", text):
        year, birth = int(text), None
    else:
        birth = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        if birth is None:
            raise ValueError(text)
        year = birth.year
    if year < 1900 or year > today_local().year or (birth and birth > today_local()):
        raise ValueError(text)
    return year, birth


def valid_birth(form, field):
    try:
        parse_birth(field.data)
    except ValueError:
        raise ValidationError(_l("생년월일은 YYYY-MM-DD 또는 태어난 해(YYYY)로 입력하세요.")) from None


def phone_digits(form, field):
    if field.data and not PHONE_PATTERN.fullmatch(field.data.strip()):
        raise ValidationError(_l("연락처는 숫자와 하이픈(-)만 입력하세요."))


def not_in_future(form, field):
    if field.data and field.data > today_local():
        raise ValidationError(_l("오늘 이후 날짜는 입력할 수 없습니다."))


SEX_CHOICES = [("", _l("모름")), ("남", _l("남")), ("여", _l("여"))]


class HouseholdForm(Form):
    head_name = StringField(_l("대상자(세대주) 성명"), validators=[
        DataRequired(REQUIRED), Length(max=50, message=_l("50자 이하로 입력하세요.")), no_resident_number])
    head_birth = StringField(_l("생년월일"), validators=[DataRequired(REQUIRED), no_resident_number, valid_birth])
    head_sex = SelectField(_l("성별"), choices=SEX_CHOICES)
    head_disability = BooleanField(_l("장애"))
    district = SelectField(_l("행정동"), validators=[DataRequired(REQUIRED)])
    address = StringField(_l("주소"), validators=[DataRequired(REQUIRED), Length(max=200), no_resident_number])
    phone = StringField(_l("연락처"), validators=[Optional(), no_resident_number, phone_digits])
    household_size = IntegerField(_l("가구원수"), default=1, validators=[
        InputRequired(_l("가구원수를 숫자로 입력하세요.")),
        IntegerRange(min=1, max=30, message=_l("가구원수는 1~30 사이여야 합니다."))])
    discovery_route = SelectField(_l("발굴경로"), validators=[DataRequired(REQUIRED)])
    discovered_on = DateField(_l("발굴일"), default=today_local, validators=[
        InputRequired(DATE_MESSAGE), not_in_future])
    # No Optional(): it would stop the chain before validate_extraction_round sees an empty round.
    extraction_round = StringField(_l("추출회차"), validators=[Length(max=10)])
    crisis_signals = StringField(_l("위기정보"), description=_l("세미콜론(;)으로 구분: 단전; 건강보험료 체납"),
                                 validators=[Length(max=500), no_resident_number])
    signals_level = DisclosureField(_l("위기정보 공개 범위"))
    referring_agency_id = SelectField(_l("의뢰기관"), coerce=int, validate_choice=True)
    coordinator_id = SelectField(_l("담당자"), coerce=int, validate_choice=True)
    note = TextAreaField(_l("비고"), validators=[Length(max=1000), no_resident_number])

    def __init__(self, agencies, coordinators, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        self.district.choices = [("", _l("선택"))] + [(d, d) for d in config["DISTRICTS"]]
        self.discovery_route.choices = [("", _l("선택"))] + [(r, r) for r in config["DISCOVERY_ROUTES"]]
        self.referring_agency_id.choices = [(0, _l("없음"))] + [(a.id, a.name) for a in agencies]
        self.coordinator_id.choices = [(0, _l("미지정"))] + [(u.id, u.display_name) for u in coordinators]

    def validate_extraction_round(self, field):
        route = current_app.config["EXTRACTION_ROUTE"]
        if field.data and not re.fullmatch(r"\d{4}-(1[0-2]|[1-9])", field.data.strip()):
            raise ValidationError(_l("추출회차는 2021-1 처럼 '연도-회차'로 입력하세요."))
        if self.discovery_route.data == route and not field.data:
            raise ValidationError(_l("복지사각지대 발굴시스템으로 발굴한 가구는 추출회차가 필요합니다."))

    def head(self) -> HeadOfHousehold:
        year, birth = parse_birth(self.head_birth.data)
        return HeadOfHousehold(name=self.head_name.data.strip(), birth_year=year, birth_date=birth,
                               sex=self.head_sex.data, has_disability=self.head_disability.data)

    def values(self) -> dict:
        signals = [s.strip() for s in (self.crisis_signals.data or "").split(";") if s.strip()]
        return {"district": self.district.data, "address": self.address.data.strip(),
                "phone": (self.phone.data or "").strip(), "household_size": self.household_size.data,
                "discovery_route": self.discovery_route.data, "discovered_on": self.discovered_on.data,
                "extraction_round": (self.extraction_round.data or "").strip(),
                "crisis_signals": ";".join(dict.fromkeys(signals)), "signals_level": self.signals_level.data,
                "referring_agency_id": self.referring_agency_id.data or None,
                "coordinator_id": self.coordinator_id.data or None, "note": (self.note.data or "").strip()}

    def fill_from(self, household):
        head = household.members[0]
        self.head_name.data, self.head_birth.data = head.name, head.birth_text
        self.head_sex.data, self.head_disability.data = head.sex, head.has_disability
        for field in ("district", "address", "phone", "household_size", "discovery_route", "discovered_on",
                      "extraction_round", "signals_level", "note"):
            getattr(self, field).data = getattr(household, field)
        self.crisis_signals.data = "; ".join(household.signals)
        self.referring_agency_id.data = household.referring_agency_id or 0
        self.coordinator_id.data = household.coordinator_id or 0


class MemberForm(Form):
    name = StringField(_l("성명"), validators=[DataRequired(REQUIRED), Length(max=50), no_resident_number])
    relation = StringField(_l("관계"), description=_l("배우자, 자녀, 부, 모 …"),
                           validators=[DataRequired(REQUIRED), Length(max=20), no_resident_number])
    birth = StringField(_l("생년월일"), validators=[DataRequired(REQUIRED), no_resident_number, valid_birth])
    sex = SelectField(_l("성별"), choices=SEX_CHOICES)
    has_disability = BooleanField(_l("장애"))

    def values(self) -> dict:
        year, birth = parse_birth(self.birth.data)
        return {"name": self.name.data.strip(), "relation": self.relation.data.strip(), "birth_year": year,
                "birth_date": birth, "sex": self.sex.data, "has_disability": self.has_disability.data}


class StatusForm(Form):
    #: Not checked against the choices: change_status explains an impossible or outdated step in words.
    to_status = SelectField(_l("단계"), validate_choice=False)
    track = SelectField(_l("선정 유형"), choices=[("", "—")] + [(t.value, t.label) for t in Track])
    classification = SelectField(_l("사례 구분"))
    closure_reason = SelectField(_l("종결 사유"))
    reason = TextAreaField(_l("변경 사유"), validators=[DataRequired(_l("변경 사유를 입력하세요.")), Length(max=1000),
                                                            no_resident_number])

    def __init__(self, household, stages, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        self.to_status.choices = [(household.status, _l("%(stage)s (그대로)", stage=household.stage.label))] + [
            (s.value, s.label) for s in stages]
        self.classification.choices = [("", "—")] + [(c, c) for c in config["CLASSIFICATIONS"]]
        self.closure_reason.choices = [("", "—")] + [(r, r) for r in config["CLOSURE_REASONS"]]
        if not self.is_submitted():
            self.classification.data = household.classification
            self.track.data = household.track


class ConsentForm(Form):
    consented_on = DateField(_l("동의일"), default=today_local, validators=[InputRequired(DATE_MESSAGE), not_in_future])
    agency_ids = MultiCheckboxField(_l("정보를 받을 수 있는 기관"), coerce=int,
                                    validators=[DataRequired(_l("기관을 하나 이상 고르세요."))])
    covers_sensitive = BooleanField(_l("민감정보(건강·정신건강) 제공에도 동의"))
    note = TextAreaField(_l("메모"), validators=[Length(max=1000), no_resident_number])

    def __init__(self, agencies, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_ids.choices = [(a.id, a.name) for a in agencies]


class WithdrawConsentForm(Form):
    withdrawn_on = DateField(_l("철회일"), default=today_local, validators=[InputRequired(DATE_MESSAGE), not_in_future])


def assessment_form_class(scale: list[str]):
    """An assessment form with a rating and notes field for each need domain."""
    rating_choices = [("", _l("해당 없음"))] + [(r, r) for r in scale]

    class AssessmentForm(Form):
        assessed_on = DateField(_l("조사일"), default=today_local, validators=[InputRequired(DATE_MESSAGE), not_in_future])
        summary = TextAreaField(_l("종합 소견"), validators=[Length(max=4000), no_resident_number])
        summary_level = DisclosureField(_l("종합 소견 공개 범위"))

        def domain_fields(self):
            return [(d, self[f"rating_{d.value}"], self[f"notes_{d.value}"], self[f"notes_level_{d.value}"])
                    for d in NeedDomain]

        def ratings(self) -> dict[str, tuple[str, str]]:
            return {d.value: (self[f"rating_{d.value}"].data, self[f"notes_{d.value}"].data or "")
                    for d in NeedDomain}

        def notes_levels(self) -> dict[str, str]:
            return {d.value: self[f"notes_level_{d.value}"].data for d in NeedDomain}

        def fill_from(self, assessment):
            """A reassessment starts from the previous ratings, notes and their levels."""
            for domain, rating in assessment.rating_map().items():
                self[f"rating_{domain}"].data = rating.rating
                self[f"notes_{domain}"].data = rating.notes
                self[f"notes_level_{domain}"].data = rating.notes_level

    for domain in NeedDomain:
        setattr(AssessmentForm, f"rating_{domain.value}", SelectField(domain.label, choices=rating_choices))
        setattr(AssessmentForm, f"notes_{domain.value}", TextAreaField(
            _l("%(domain)s 메모", domain=domain.label), validators=[Length(max=2000), no_resident_number]))
        setattr(AssessmentForm, f"notes_level_{domain.value}", DisclosureField(
            _l("%(domain)s 메모 공개 범위", domain=domain.label), default=default_level(domain=domain.value)))
    return AssessmentForm


class ImportUploadForm(Form):
    file = FileField(_l("발굴 명단 파일 (CSV 또는 XLSX)"), validators=[FileRequired(_l("파일을 고르세요."))])


class CaseFilterForm(Form):
    """The list's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("사례번호·성명·행정동"), validators=[Optional(), Length(max=50)])
    status = SelectField(_l("단계"), validators=[Optional()])
    classification = SelectField(_l("사례 구분"), validators=[Optional()])
    route = SelectField(_l("발굴경로"), validators=[Optional()])
    district = SelectField(_l("행정동"), validators=[Optional()])
    coordinator = SelectField(_l("담당자"), coerce=int, validators=[Optional()])
    quarter = StringField(_l("분기"), description="2021-1", validators=[Optional(), Length(max=7)])
    #: The default ("") lists name searches by name, everything else by case number, newest first.
    sort = SelectField(_l("정렬"), choices=[("", _l("기본")), ("case", _l("사례번호")), ("name", _l("대상자")),
                                          ("discovered", _l("발굴일")), ("status", _l("단계")),
                                          ("district", _l("행정동"))], default="")
    direction = SelectField(_l("순서"), choices=[("", _l("기본")), ("desc", _l("내림차순")), ("asc", _l("오름차순"))],
                            default="")

    def __init__(self, coordinators, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        every = [("", _l("전체"))]
        self.status.choices = every + [(s.value, s.label) for s in Stage]
        self.classification.choices = every + [(c, c) for c in config["CLASSIFICATIONS"]]
        self.route.choices = every + [(r, r) for r in config["DISCOVERY_ROUTES"]]
        self.district.choices = every + [(d, d) for d in config["DISTRICTS"]]
        self.coordinator.choices = [(0, _l("전체"))] + [(u.id, u.display_name) for u in coordinators]

    def validate_quarter(self, field):
        if field.data and not re.fullmatch(r"\d{4}-[1-4]", field.data.strip()):
            raise ValidationError(_l("분기는 2021-1 처럼 '연도-분기(1~4)'로 입력하세요."))


class MonitoringForm(Form):
    contacted_on = DateField(_l("점검일"), default=today_local, validators=[InputRequired(DATE_MESSAGE)])
    method = SelectField(_l("방법"), choices=[("", _l("선택"))] + list(MONITORING_METHODS.items()), validate_choice=False)
    content = TextAreaField(_l("내용"), validators=[Length(max=4000)])
    next_check_on = DateField(_l("다음 점검일"), validators=[Optional()])
