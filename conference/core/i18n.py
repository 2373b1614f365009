"""Translations for the code and the templates, with the request's catalogue looked up once.

Flask-Babel finds the context, the locale, the domain and the catalogue again for every message, and a lazy
label (a status, a form field's label) is translated again each time it is printed: a list of 50 rows spent
more time on that than on its rows. Here the catalogue is looked up once per request (or CLI command) and
kept on ``g``; ``force_locale`` lets go of it on the way in and out.
"""
from contextlib import contextmanager
from functools import total_ordering

import flask_babel
from flask import g, has_app_context
from flask.json.provider import DefaultJSONProvider


def catalogue():
    """The current language's translations (Flask-Babel's empty ones outside an application context)."""
    if not has_app_context():
        return flask_babel.get_translations()
    found = g.get("_catalogue")
    if found is None:
        found = g._catalogue = flask_babel.get_translations()
    return found


def gettext(message: str, **variables) -> str:
    text = catalogue().ugettext(message)
    return text % variables if variables else text


def N_(message: str) -> str:  # noqa: N802  (Babel's keyword for "extract, translate later")
    """Mark a message for the catalogue and leave it as it is: it is translated where it is shown."""
    return message


@total_ordering
class LazyText:
    """A message translated when it is printed, in the language of the request printing it.

    Unlike Flask-Babel's lazy string it does not claim to be HTML (no ``__html__``): Jinja and WTForms escape it
    like any other text, so a message such as "'%(value)s' is not a district" never prints the value (a cell of an
    uploaded file) as markup, and templates need no filter on every printed value to catch it.
    """
    __slots__ = ("_message", "_variables")

    def __init__(self, message: str, variables: dict):
        self._message, self._variables = message, variables

    def __str__(self) -> str:
        return gettext(self._message, **self._variables)

    def __repr__(self) -> str:
        return f"l{str(self)!r}"

    def __getattr__(self, name: str):
        if name.startswith("__"):  # __html__ above all: a message is text
            raise AttributeError(name)
        return getattr(str(self), name)

    def __eq__(self, other) -> bool:
        return str(self) == other

    def __lt__(self, other) -> bool:
        return str(self) < other

    def __hash__(self) -> int:
        return hash(str(self))

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item) -> bool:
        return item in str(self)

    def __iter__(self):
        return iter(str(self))

    def __getitem__(self, key):
        return str(self)[key]

    def __add__(self, other) -> str:
        return str(self) + other

    def __radd__(self, other) -> str:
        return other + str(self)

    def __mod__(self, other) -> str:
        return str(self) % other


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, writing a lazy message as its text: a flashed message is kept in the session until the next
    page, translated in the language of the request that flashed it."""

    @staticmethod
    def default(o):
        return str(o) if isinstance(o, LazyText) else DefaultJSONProvider.default(o)


def lazy_gettext(message: str, **variables) -> LazyText:
    """Translated when printed, in the language of the request printing it."""
    return LazyText(message, variables)


@contextmanager
def force_locale(locale: str):
    """Flask-Babel's ``force_locale``, forgetting the kept catalogue of the language it replaces."""
    with flask_babel.force_locale(locale):
        g.pop("_catalogue", None)
        try:
            yield
        finally:
            g.pop("_catalogue", None)
