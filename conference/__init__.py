"""conference: preparing, running and following up public-private integrated case meetings."""
import os
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from conference.config import DEV_SECRET_KEY, Defaults
from conference.core.i18n import JSONProvider
from conference.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error pages, commands."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    app.json = JSONProvider(app)
    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    from conference.cli import register_commands
    from conference.errors import register_errorhandlers
    from conference.templating import register_filters
    register_errorhandlers(app)
    register_commands(app)
    register_filters(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind the TLS proxy: take the client address and https from its X-Forwarded-* headers (and only
        # from as many proxies as configured, so a client cannot forge them).
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    return app


def load_config(app: Flask, test_config: dict | None):
    """Defaults, then instance/config.py, then the environment; tests pass their own dict instead."""
    app.config.from_object(Defaults)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "conference.sqlite")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name in ("SECRET_KEY", "DATABASE_URL"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        app.config.from_prefixed_env("CONFERENCE")
    else:
        app.config.update(test_config)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    url = app.config.get("DATABASE_URL")
    if url:
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config["SECRET_KEY"] or (
            app.config["SECRET_KEY"] == DEV_SECRET_KEY
            and not (app.debug or app.testing or app.config["DEMO"])):
        raise ConfigurationError(
            "SECRET_KEY가 설정되지 않았습니다. 환경변수 SECRET_KEY나 instance/config.py에 임의의 긴 값을 넣으세요. "
            "/ No SECRET_KEY: set the SECRET_KEY environment variable or SECRET_KEY in instance/config.py "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))').")


def register_extensions(app: Flask):
    from conference.core import database  # noqa: F401  (SQLite pragmas and BEGIN IMMEDIATE)
    from conference.auth import sessions  # noqa: F401  (user loader and login settings)
    from conference.shared import freshness  # noqa: F401  (stale dashboard figures and pages after a change)

    db.init_app(app)

    @app.teardown_appcontext
    def commit_read_only_request(error):  # runs before Flask-SQLAlchemy's own teardown closes the session
        if error is None:
            database.commit_if_read_only(db.session())
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)


def select_locale() -> str:
    """The account's language, else the one chosen on the login page, else Korean."""
    if not has_request_context():
        return "ko"
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return session.get("lang") or "ko"


def register_blueprints(app: Flask):
    from conference.actions.views import bp as actions_bp
    from conference.admin.views import bp as admin_bp
    from conference.audit.views import bp as audit_bp
    from conference.auth.views import bp as auth_bp
    from conference.cases import import_views  # noqa: F401  (adds the import pages to cases_bp)
    from conference.cases.views import bp as cases_bp
    from conference.core.ids import IdConverter
    from conference.dashboard.views import bp as dashboard_bp
    from conference.inputs.views import bp as inputs_bp
    from conference.main.views import bp as main_bp
    from conference.meetings import case_page  # noqa: F401  (adds the case page, /cases/<id>, to cases_bp)
    from conference.meetings.views import bp as meetings_bp
    from conference.minutes.views import bp as minutes_bp

    app.url_map.converters["int"] = IdConverter  # every <int:…> is a record id; set before any route is added
    for blueprint in (main_bp, auth_bp, admin_bp, audit_bp, cases_bp, meetings_bp, inputs_bp, minutes_bp, actions_bp,
                      dashboard_bp):
        app.register_blueprint(blueprint)


#: Pages may not run inline script or be framed; see SECURITY.md.
CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                           "base-uri 'self'; form-action 'self'")


def register_request_hooks(app: Flask):
    from conference.auth.sessions import enforce_session_rules
    from conference.navigation import sections_for
    from conference.shared.notifications import unread_count
    from conference.shared.webforms import refuse_null_characters

    app.before_request(refuse_null_characters)
    app.before_request(enforce_session_rules)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def layout_context():
        return {"nav_sections": sections_for(current_user),
                "unread_notifications": unread_count(current_user) if current_user.is_authenticated else 0,
                "get_locale": get_locale,
                "languages": app.config["LANGUAGES"]}
