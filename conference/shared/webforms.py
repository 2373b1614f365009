"""Helpers shared by every form page and list."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, request
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, widgets
from wtforms.validators import Length, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import Agency
from conference.models.disclosure import Disclosure
from conference.shared.disclosure import UNKNOWN_LEVEL, is_level
from conference.shared.rules import RuleError

#: Far beyond any real list, small enough that page × size stays a sane OFFSET.
MAX_PAGE = 100_000


def page_number() -> int:
    """The ?page= of a list, clamped to 1 … MAX_PAGE (anything else typed in the address gives page 1)."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def one_or_404(rows, row_id: int):
    """The one of a loaded collection (a household's members, a meeting's agenda items) with this id; 404 if none."""
    row = next((r for r in rows if r.id == row_id), None)
    if row is None:
        abort(404)
    return row


def attach_error(form, field_name: str, message) -> None:
    """Show ``message`` next to the named field, or above the form when there is no such field."""
    field = getattr(form, field_name, None)
    if field is not None and isinstance(getattr(field, "errors", None), (list, tuple)):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


@dataclass
class Outcome:
    """What ``commit_change`` did: true when the change was committed (``result`` is what it returned), false when a
    rule refused it (``error``)."""

    result: Any = None
    error: RuleError | None = None

    def __bool__(self) -> bool:
        return self.error is None


def commit_change(change: Callable[[], Any], *, success=None, form=None, fields: dict[str, str] | None = None,
                  quiet: bool = False) -> Outcome:
    """End a request's change: run ``change`` (the service calls), then commit and flash ``success`` (a message, or a
    function of the change's result giving one).

    When a rule refuses the change (``RuleError``) the transaction is rolled back and the message shown next to the
    ``form``'s field (``fields`` renames a service's field to the form's), flashed when there is no form, or left to
    the caller when ``quiet``. The rollback expires what the request loaded: a page shown again reloads what it shows.
    """
    try:
        result = change()
    except RuleError as error:
        db.session.rollback()
        if form is not None and not quiet:
            attach_error(form, (fields or {}).get(error.field, error.field), error.message)
        elif not quiet:
            flash(error.message, "error")
        return Outcome(error=error)
    message = success(result) if callable(success) else success
    db.session.commit()
    if message is not None:
        flash(message, "success")
    return Outcome(result=result)


def active_agencies() -> list[Agency]:
    """The agencies in use, by name: those a form offers to choose from."""
    return db.session.execute(select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)).scalars().all()


class Form(FlaskForm):
    """Every form of the app: a FlaskForm whose hidden fields (the CSRF token among them) carry no id.

    A page often holds several forms (a row's buttons, a filter and an export): an id on their hidden inputs would be
    repeated, which HTML forbids and assistive technology trips on, and nothing refers to a hidden input by id.
    """

    def hidden_tag(self, *fields):
        chosen = (getattr(self, f, None) if isinstance(f, str) else f for f in (fields or self))
        # the widgets give Markup (their values escaped); Markup.join escapes anything else
        return Markup("\n").join(f(id=False) for f in chosen if f is not None and isinstance(f.widget, HiddenInput))


class ButtonForm(Form):
    """Only the CSRF token: the button pressed says what to do."""


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


def file_format_field():
    """Which file a download writes: the button pressed (Word or 한글); a post without it gets Word."""
    return SelectField(choices=[("docx", "Word"), ("hwpx", _l("한글"))], default="docx")


def chosen_id(value) -> int | None:
    """``coerce`` of a select whose first option is the empty "선택": nothing chosen is None (for DataRequired)."""
    return None if value in ("", None) else int(value)


#: The first option of a required select: chosen by nobody, so the browser and the rule both see "nothing yet".
NOTHING_CHOSEN = ("", _l("선택"))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __iter__(self):
        for option in super().__iter__():
            option.flags.required = False  # HTML would require every box ticked; the field's rule says how many
            yield option


class CountedLength(Length):
    """WTForms' Length without the ``maxlength`` attribute it puts on the field: a browser silently cuts text pasted
    beyond it. Over-long text is refused with the message instead; give the field ``render_kw=counted(max)`` for
    the counter (static/js/counter.js)."""

    def __init__(self, min=-1, max=-1, message=None):
        super().__init__(min, max, message)
        self.field_flags = {}


def counted(max_chars: int) -> dict:
    """``render_kw`` of a long text field: the counter shows how much of ``max_chars`` is used."""
    return {"data-maxlength": max_chars}
