"""Helpers shared by every form page and list."""
from flask import abort, request
from wtforms import SelectField, SelectMultipleField, widgets
from wtforms.validators import NumberRange, ValidationError

from conference.core.i18n import lazy_gettext as _l
from conference.models.disclosure import Disclosure
from conference.shared.disclosure import UNKNOWN_LEVEL, is_level

#: Far beyond any real list, small enough that page × size stays a sane OFFSET.
MAX_PAGE = 100_000


def page_number() -> int:
    """The ?page= of a list, clamped to 1 … MAX_PAGE (anything else typed in the address gives page 1)."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def attach_error(form, field_name: str, message) -> None:
    """Show ``message`` next to the named field, or above the form when there is no such field."""
    field = getattr(form, field_name, None)
    if field is not None and isinstance(getattr(field, "errors", None), (list, tuple)):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def refuse_null_characters():
    """before_request hook: a value (or file name) holding a NUL character is refused with 400.

    No field of a browser form produces one, no value of the app needs one, and PostgreSQL cannot store
    one in text: let through, it would end as a database error (500) instead of an answer.
    """
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    for key, storage in request.files.items(multi=True):
        if "\x00" in key or "\x00" in (storage.filename or ""):
            abort(400)


class IntegerRange(NumberRange):
    """WTForms' NumberRange for whole numbers of any length typed in.

    NumberRange first asks ``math.isnan``, which cannot take an integer beyond a float (10³⁰⁹ and up):
    such a number answered 500 instead of the field's message.
    """

    def __call__(self, form, field):
        if isinstance(field.data, int) and abs(field.data) > 2 ** 63:
            raise ValidationError(self.message)
        super().__call__(form, field)


class DisclosureField(SelectField):
    """The 공개 범위 (Disclosure level) of the text field beside it, chosen by whoever writes the text.

    ``default`` is the level new text starts at (``conference.shared.disclosure.default_level``); a posted value that is
    not a level gets ``UNKNOWN_LEVEL`` next to the field. Rendered by ``disclosure_field`` in _macros/forms.html.
    """

    def __init__(self, label=None, validators=None, default=Disclosure.SHARED.value, **kwargs):
        super().__init__(label or _l("공개 범위"), validators, default=str(default),
                         choices=[(level.value, level.label, {"title": level.help}) for level in Disclosure], validate_choice=True, **kwargs)

    def pre_validate(self, form):
        if not is_level(self.data):
            raise ValidationError(UNKNOWN_LEVEL)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
