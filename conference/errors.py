"""Error pages in the user's language; a failed request never leaves a half-done transaction.

A signed-in user refused (403/404) on a route that names a case, meeting, action or upload is recorded as an
``access.denied`` event (``audit.record_denial``), so someone trying id after id shows in the monthly review.
"""
import logging

from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from conference import audit
from conference.extensions import db

logger = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 413, 500)
REFUSALS = (403, 404)
#: The view arguments that name an object whose refusal is recorded, with the object type recorded for it: a case,
#: a meeting (with its packet, minutes, agency input and their Word files), an action item, an uploaded discovery
#: list. The first of them a route has, in this order, is the object of the event; the others go into its details.
#: Every ``*_id`` argument of a route is either here or in ``UNRECORDED_OBJECT_ARGS`` (tests/test_access_denied.py).
DENIED_OBJECT_ARGS = {"household_id": "household", "action_id": "action_item", "meeting_id": "meeting",
                      "batch_id": "import_batch", "notification_id": "notification"}
#: Arguments that name something else: parts of a case or meeting (named with it, recorded in the details) and the
#: admin pages' accounts and agencies (no personal data of a case; practitioners are refused the whole blueprint).
UNRECORDED_OBJECT_ARGS = frozenset({"member_id", "consent_id", "item_id", "invitation_id", "user_id", "agency_id"})


def refused_object(view_args: dict) -> tuple[str, str, dict] | None:
    """(object type, object id, the route's other arguments) when the route names a recorded object, else None."""
    for name, object_type in DENIED_OBJECT_ARGS.items():
        if name in view_args:
            others = {key: value for key, value in view_args.items() if key != name}
            return object_type, str(view_args[name]), others
    return None


def record_refusal(code: int) -> None:
    """Record a refusal of the signed-in user on a route naming an object; a failure is logged, never raised."""
    try:
        if request.url_rule is None or not current_user.is_authenticated:
            return
        named = refused_object(request.view_args or {})
        if named is None:
            return
        object_type, object_id, others = named
        audit.record_denial(request.endpoint, object_type, object_id, details={
            "endpoint": request.endpoint, "rule": request.url_rule.rule, "method": request.method, "status": code,
            **others})
    except Exception:  # the refusal page is sent all the same
        logger.warning("access.denied on %s %s was not recorded", request.method, request.path, exc_info=True)


def register_errorhandlers(app):
    def render_error(error):
        code = getattr(error, "code", 500) or 500
        db.session.rollback()
        page = render_template("errors/error.html", code=code)
        if code in REFUSALS:
            record_refusal(code)
        return page, code

    for code in HANDLED:
        app.register_error_handler(code, render_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_template("errors/error.html", code=400, csrf=True), 400
