"""The agency input form."""
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from conference.core.i18n import lazy_gettext as _l
from conference.inputs.services import LEVEL_FIELDS, MAX_TEXT, InputValues
from conference.models import NeedDomain
from conference.shared.webforms import CountedLength, DisclosureField, Form, MultiCheckboxField, counted

TOO_LONG = _l("%(max)d자 이하로 적으세요.")


def plain_line_breaks(value):
    """Browsers post a textarea's line breaks as CRLF: keep one character per line break, as the page counts them."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


TEXT_RULES = [CountedLength(max=MAX_TEXT, message=TOO_LONG)]
COUNTED = counted(MAX_TEXT)
TEXT_FILTERS = [plain_line_breaks]


class ResourceForm(Form):
    class Meta:
        csrf = False

    is_public = SelectField(_l("구분"), choices=[("1", _l("공공")), ("0", _l("민간"))], default="1")
    kind = StringField(_l("자원·서비스"), validators=[Optional(), CountedLength(max=100, message=TOO_LONG)])
    note = StringField(_l("내용"), validators=[Optional(), CountedLength(max=1000, message=TOO_LONG)],
                       render_kw=counted(1000))

    def validate(self, extra_validators=None):
        """A row with a note but no resource would be dropped on saving: ask for the resource instead."""
        valid = super().validate(extra_validators)
        if not (self.kind.data or "").strip() and (self.note.data or "").strip():
            self.kind.errors = [*self.kind.errors, _l("자원 종류는 1~100자, 메모는 1000자 이하입니다.")]
            return False
        return valid


class AgencyInputForm(Form):
    """An agency's input on one case; build it with ``input_levels(...)`` as keyword arguments, so that the levels
    start from the saved ones (or the agency's default) when the form is shown or posted without them."""

    facts = TextAreaField(_l("보유 정보 (기관 기록상 사실)"), validators=TEXT_RULES, filters=TEXT_FILTERS, render_kw=COUNTED)
    facts_level = DisclosureField(_l("보유 정보 공개 범위"))
    opinion = TextAreaField(_l("기관 의견"), validators=TEXT_RULES, filters=TEXT_FILTERS, render_kw=COUNTED)
    opinion_level = DisclosureField(_l("기관 의견 공개 범위"))
    domains = MultiCheckboxField(_l("관련 욕구 영역"), choices=[(d.value, d.label) for d in NeedDomain])
    risk_concerns = TextAreaField(_l("위험 요인·우려"), validators=TEXT_RULES, filters=TEXT_FILTERS, render_kw=COUNTED)
    risk_level = DisclosureField(_l("위험 요인·우려 공개 범위"))
    resources = FieldList(FormField(ResourceForm), min_entries=3, max_entries=10)
    withheld = TextAreaField(_l("공유하지 않은 정보와 이유"), validators=TEXT_RULES, filters=TEXT_FILTERS, render_kw=COUNTED,
                             description=_l("예: 상담 세부 내용은 본인 동의가 없어 싣지 않음"))
    coordinator_note = TextAreaField(_l("담당자에게만 전달"), validators=TEXT_RULES, filters=TEXT_FILTERS, render_kw=COUNTED,
                                     description=_l("다른 기관에는 보이지 않습니다."))
    version = HiddenField()
    submit_input = BooleanField()

    def values(self) -> InputValues:
        resources = tuple((row.is_public.data == "1", (row.kind.data or "").strip(), (row.note.data or "").strip())
                          for row in self.resources if (row.kind.data or "").strip())
        return InputValues(facts=self.facts.data or "", opinion=self.opinion.data or "",
                           domains=tuple(self.domains.data or ()), risk_concerns=self.risk_concerns.data or "",
                           withheld=self.withheld.data or "", coordinator_note=self.coordinator_note.data or "",
                           resources=resources, **{name: self[name].data for name in LEVEL_FIELDS.values()})

    def fill_from(self, agency_input):
        for field in ("facts", "opinion", "risk_concerns", "withheld", "coordinator_note", *LEVEL_FIELDS.values()):
            getattr(self, field).data = getattr(agency_input, field)
        self.domains.data = agency_input.domain_list
        while len(self.resources) < len(agency_input.resources):
            self.resources.append_entry()
        for row, resource in zip(self.resources, agency_input.resources, strict=False):
            row.is_public.data = "1" if resource.is_public else "0"
            row.kind.data, row.note.data = resource.kind, resource.note
        self.version.data = str(agency_input.version)

    def base_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return -1
