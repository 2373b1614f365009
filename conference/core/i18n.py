"""Translations for the code and the templates, with the request's catalogue looked up once.

Flask-Babel finds the context, the locale, the domain and the catalogue again for every message, and a lazy
label (a status, a form field's label) is translated again each time it is printed: a list of 50 rows spent
more time on that than on its rows. Here the catalogue is looked up once per request (or CLI command) and
kept on ``g``; ``force_locale`` lets go of it on the way in and out.
"""
from contextlib import contextmanager

import flask_babel
from flask import g, has_app_context
from flask_babel.speaklater import LazyString


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


def lazy_gettext(message: str, **variables) -> LazyString:
    """Translated when printed, in the language of the request printing it."""
    return LazyString(gettext, message, **variables)


@contextmanager
def force_locale(locale: str):
    """Flask-Babel's ``force_locale``, forgetting the kept catalogue of the language it replaces."""
    with flask_babel.force_locale(locale):
        g.pop("_catalogue", None)
        try:
            yield
        finally:
            g.pop("_catalogue", None)
