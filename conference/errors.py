"""Error pages in the user's language; a failed request never leaves a half-done transaction."""
from flask import render_template
from flask_wtf.csrf import CSRFError

from conference.extensions import db

HANDLED = (400, 403, 404, 405, 413, 500)


def register_errorhandlers(app):
    def render_error(error):
        code = getattr(error, "code", 500) or 500
        db.session.rollback()
        return render_template("errors/error.html", code=code), code

    for code in HANDLED:
        app.register_error_handler(code, render_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_template("errors/error.html", code=400, csrf=True), 400
