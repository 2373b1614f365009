"""What every template can use: masking and domain-label filters, the CSRF field, fast translations."""
from flask import g, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from conference.core import formatting, masking
from conference.core.i18n import catalogue
from conference.core.i18n import lazy_gettext as _l
from conference.core.ids import MAX_ID
from conference.models import InputState, NeedDomain, Stage, Track
from conference.models.actions import ACTION_EVENT_LABELS
from conference.models.cases import MONITORING_METHODS
from conference.models.disclosure import Disclosure
from conference.shared.disclosure import level_of

#: Labels of agency-input fields, for the revision history.
INPUT_FIELD_LABELS = {"facts": _l("보유 정보"), "opinion": _l("기관 의견"), "domains": _l("관련 욕구 영역"),
                      "risk_concerns": _l("위험 요인·우려"), "withheld": _l("공유하지 않은 정보"),
                      "coordinator_note": _l("담당자에게만 전달"), "resources": _l("제공할 수 있는 자원·서비스"),
                      "state": _l("상태"), "facts_level": _l("보유 정보 공개 범위"),
                      "opinion_level": _l("기관 의견 공개 범위"), "risk_level": _l("위험 요인·우려 공개 범위")}
DIRECTION_LABELS = {"worse": _l("악화"), "better": _l("호전"), "same": _l("변화 없음"), "new": _l("신규"), "": ""}


def _label(enum):
    def label(value):
        try:
            return enum(value).label
        except ValueError:
            return value or ""
    return label


def attr_pair(enum_member, counts: dict) -> tuple[str, int]:
    """(label, count) of an enum member in a {value: count} mapping, for charts."""
    return (str(enum_member.label), counts.get(enum_member.value, 0))


def completion_pair(row) -> tuple[str, int]:
    return (row.agency, round(row.completion_rate * 100))


def csrf_field() -> Markup:
    """The hidden CSRF input of a form: the same token as ``form.hidden_tag()``, without building a WTForms field.

    Pages with a button per row (move, remove, cancel) would otherwise spend more on these than on their data.
    """
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()


def row_url(endpoint: str, **record) -> str:
    """``url_for(endpoint, <name>=<id>)`` for a link on every row of a list.

    Building a URL costs more than the rest of a list row; here each endpoint's URL is built once per request
    with a marker id and every row's id is put in the marker's place.
    """
    ((name, record_id),) = record.items()
    patterns = g.setdefault("_row_urls", {})
    key = (request.script_root, endpoint, name)
    pattern = patterns.get(key)
    if pattern is None:
        pattern = patterns[key] = url_for(endpoint, **{name: MAX_ID}).split(str(MAX_ID))
    if len(pattern) != 2:  # the marker also appears elsewhere in the URL: build it the long way
        return url_for(endpoint, **record)
    return f"{pattern[0]}{int(record_id)}{pattern[1]}"


# Jinja's ``_()`` and ``{% trans %}``, new style: the message is a format string even without values, and the values
# are escaped (every template here is HTML, so autoescape is always on). Jinja's own wrappers take the template's
# context to learn that, and a function taking the context, called in a loop or a block that sets a variable, makes
# Jinja copy the whole context for each call: that was a tenth of a rendered case file.

def _filled(message: str, values: dict) -> Markup:
    """A translated message as markup, with ``values`` escaped into it (as Jinja's own newstyle gettext does)."""
    return Markup(message) % values  # nosec B704  # a template's own text or its translation; values escaped by %


def _gettext(message: str, **values) -> Markup:
    return _filled(catalogue().ugettext(message), values)


def _ngettext(singular: str, plural: str, number: int, **values) -> Markup:
    values.setdefault("num", number)
    return _filled(catalogue().ungettext(singular, plural, number), values)


def _pgettext(context: str, message: str, **values) -> Markup:
    values.setdefault("context", context)
    return _filled(catalogue().upgettext(context, message), values)


def _npgettext(context: str, singular: str, plural: str, number: int, **values) -> Markup:
    values.setdefault("context", context)
    values.setdefault("num", number)
    return _filled(catalogue().unpgettext(context, singular, plural, number), values)


def register_filters(app):
    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True, pgettext=_pgettext,
                                            npgettext=_npgettext)
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext,
                                 npgettext=_npgettext)
    app.add_template_global(csrf_field, "csrf_field")
    app.add_template_global(row_url, "row_url")
    app.add_template_global(list(Disclosure), "disclosure_levels")
    app.add_template_global(level_of, "disclosure_level")
    app.add_template_filter(attr_pair, "attr_pair")
    app.add_template_filter(completion_pair, "completion_pair")
    app.add_template_filter(formatting.korean_date, "korean_date")
    app.add_template_filter(formatting.korean_datetime, "korean_datetime")
    app.add_template_filter(masking.mask_name, "mask_name")
    app.add_template_filter(masking.mask_phone, "mask_phone")
    app.add_template_filter(masking.mask_address, "mask_address")
    app.add_template_filter(_label(Stage), "stage_label")
    app.add_template_filter(_label(Track), "track_label")
    app.add_template_filter(_label(NeedDomain), "domain_label")
    app.add_template_filter(_label(InputState), "input_state_label")
    app.add_template_filter(lambda value: ACTION_EVENT_LABELS.get(value, value), "action_event_label")
    app.add_template_filter(lambda value: MONITORING_METHODS.get(value, value), "monitoring_method_label")
    app.add_template_filter(lambda value: DIRECTION_LABELS.get(value, value), "direction_label")
    app.add_template_filter(lambda value: INPUT_FIELD_LABELS.get(value, value), "input_field_label")
