"""CSRF protection, with an app that has it switched on (the other tests switch it off).

The CSRF app is a second application object, so its requests never share the ``app`` fixture's context.
The test's own database session is ended before each request to that app, because on SQLite a read made
outside a request holds the write lock (BEGIN IMMEDIATE) until the transaction ends.
"""
import re

import pytest

from conftest import PASSWORD, make_app
from conference.extensions import db
from conference.models import AuditEvent

CSRF_MESSAGE = "보안 확인(CSRF)에 실패했습니다. 페이지를 새로 고친 뒤 다시 시도하세요."


@pytest.fixture
def csrf_app(database_uri, app):
    protected = make_app(database_uri, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        db.engine.dispose()


@pytest.fixture
def user(make_user):
    make_user("coord1")
    db.session.commit()


def token_from(page: str, form_action: str | None = None) -> str:
    """The CSRF token of the form posting to ``form_action`` (the page's own form when None)."""
    if form_action is None:
        form = re.search(r'<form method="post" novalidate>(.*?)</form>', page, re.S)
    else:
        form = re.search(rf'<form method="post" action="{re.escape(form_action)}"[^>]*>(.*?)</form>', page, re.S)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.group(1)).group(1)


def logged_in(client) -> bool:
    response = client.get("/home")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def audit_actions() -> list[str]:
    actions = db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    db.session.commit()
    return actions


def test_login_without_token_is_refused(csrf_app, user):
    client = csrf_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "coord1", "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert CSRF_MESSAGE in page and 'lang="ko"' in page
    assert not logged_in(client)
    assert "login" not in audit_actions()


def test_login_with_a_wrong_token_is_refused(csrf_app, user):
    client = csrf_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "coord1", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400 and CSRF_MESSAGE in response.get_data(as_text=True)
    assert not logged_in(client)


def test_token_of_another_browser_is_refused(csrf_app, user):
    someone_else = csrf_app.test_client()
    token = token_from(someone_else.get("/login").get_data(as_text=True))
    client = csrf_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "coord1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400
    assert not logged_in(client)


def test_login_with_token_from_the_form_works(csrf_app, user):
    client = csrf_app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "coord1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert logged_in(client)
    assert audit_actions()[-1] == "login"


def test_logout_without_token_is_refused(csrf_app, user):
    client = csrf_app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "coord1", "password": PASSWORD, "csrf_token": token})
    home = client.get("/home")
    assert home.status_code == 200

    response = client.post("/logout")
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert logged_in(client)
    assert "logout" not in audit_actions()

    # The token the page's logout button carries does log out.
    logout_token = token_from(home.get_data(as_text=True), "/logout")
    response = client.post("/logout", data={"csrf_token": logout_token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not logged_in(client)
    assert audit_actions()[-1] == "logout"
