"""Internationalisation: the English catalogue is complete and current, and the language switch works.

Korean is written in the code and templates; English comes from translations/en/LC_MESSAGES/messages.po.
"""
import html
import json
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select
from factories_world import seed_demo

from conference.extensions import db
from conference.models import Notification, User
from conference.seed import demo

ROOT = Path(__file__).resolve().parent.parent
EN_DIR = ROOT / "translations" / "en" / "LC_MESSAGES"
EN_PO = EN_DIR / "messages.po"
EN_MO = EN_DIR / "messages.mo"


def read_catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="en" if path.suffix == ".po" else None)


@pytest.fixture(scope="module", autouse=True)
def compiled_english_catalog():
    """The app reads the compiled .mo; build it when it is missing or older than the .po.

    (`make test` compiles the catalogues anyway; this keeps a bare `pytest` run honest.)
    """
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        catalog = read_catalog(EN_PO)
        with EN_MO.open("wb") as f:
            write_mo(f, catalog)
    return EN_MO


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts from clean per-request state.

    The ``app`` fixture keeps one application context pushed for the whole test, and Flask reuses it for
    each test-client request, so ``g`` would carry Flask-Babel's chosen locale and Flask-Login's current
    user from one request into the next (even across clients). In production every request has its own
    context; forgetting ``g`` and the database session before each request restores that.
    """

    def open(self, *args, **kwargs):
        for key in list(g):
            g.pop(key)
        db.session.remove()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """Overrides conftest's ``client`` (and so the one ``auth`` uses) with a FreshRequestClient."""
    app.test_client_class = FreshRequestClient
    return app.test_client()


# --- the catalogue ---------------------------------------------------------------------------------

def test_english_catalogue_is_complete():
    catalog = read_catalog(EN_PO)
    messages = [m for m in catalog if m.id]
    assert messages, "the English catalogue has no messages"
    untranslated = [m.id for m in messages
                    if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated messages in {EN_PO.relative_to(ROOT)}: {untranslated}"
    assert not fuzzy, f"fuzzy messages in {EN_PO.relative_to(ROOT)}: {fuzzy}"


def test_english_translations_keep_their_placeholders():
    """A translation that drops or renames %(name)s would break at runtime (babel's own checks)."""
    catalog = read_catalog(EN_PO)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"format errors in {EN_PO.relative_to(ROOT)}: {problems}"


def test_english_catalogue_is_up_to_date_with_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "--sort-by-file", "--no-wrap", "."],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    extracted = {m.id for m in read_catalog(pot) if m.id}
    assert len(extracted) > 50, "extraction found almost nothing; is babel.cfg still right?"
    translated = {m.id for m in read_catalog(EN_PO) if m.id}
    missing = sorted(extracted - translated, key=str)
    assert not missing, f"run `make extract-messages` and translate the new strings: {missing}"


def test_compiled_catalogue_translates():
    """The .mo the app reads says what the .po says."""
    from babel.support import Translations
    with EN_MO.open("rb") as f:
        translations = Translations(f)
    assert translations.gettext("로그아웃") == "Log out"
    assert translations.gettext("%(name)s님, 안녕하세요.") % {"name": "Kim"} == "Hello, Kim."


# --- switching language ----------------------------------------------------------------------------

def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def stored_locale(user_id: int) -> str:
    """The account's language as committed to the database, not as cached in the session."""
    db.session.remove()
    return db.session.get(User, user_id).locale


def test_logged_in_user_switches_language_and_it_is_kept_on_the_account(app, client, auth, make_user):
    user = make_user("lang1")
    user_id = user.id
    assert auth.login("lang1").status_code == 302

    korean = page(client, "/home")
    assert '<html lang="ko"' in korean
    assert "로그아웃" in korean
    assert "Log out" not in korean

    response = client.post("/language/en", data={"next": "/home"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/home")
    english = page(client, "/home")
    assert '<html lang="en"' in english
    assert "Log out" in english
    assert "로그아웃" not in english
    assert "Hello, Lang1." in english
    assert "Agency practitioner" in english
    assert stored_locale(user_id) == "en"

    # The preference belongs to the account: a new browser session opens in English.
    other_client = app.test_client()
    assert other_client.post("/login", data={"username": "lang1", "password": "correct-horse-battery"}
                             ).status_code == 302
    assert '<html lang="en"' in page(other_client, "/home")

    client.post("/language/ko", data={"next": "/home"})
    korean_again = page(client, "/home")
    assert '<html lang="ko"' in korean_again
    assert "로그아웃" in korean_again
    assert "Log out" not in korean_again
    assert stored_locale(user_id) == "ko"


def test_unknown_language_code_changes_nothing(client, auth, make_user):
    user = make_user("lang2")
    user_id = user.id
    auth.login("lang2")

    response = client.post("/language/xx", data={"next": "/home"})
    assert response.status_code == 302
    korean = page(client, "/home")
    assert '<html lang="ko"' in korean
    assert "로그아웃" in korean
    assert stored_locale(user_id) == "ko"

    client.post("/language/en")
    client.post("/language/xx")
    english = page(client, "/home")
    assert '<html lang="en"' in english
    assert "Log out" in english
    assert stored_locale(user_id) == "en"


def test_anonymous_visitor_switches_login_page_language(client):
    korean = page(client, "/login")
    assert '<html lang="ko"' in korean
    assert "기관에서 받은 계정으로 로그인하세요." in korean

    response = client.post("/language/en", data={"next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    english = page(client, "/login")
    assert '<html lang="en"' in english
    assert "Log in with the account your agency gave you." in english
    assert "Username" in english and "Password" in english
    assert "기관에서 받은 계정으로 로그인하세요." not in english

    client.post("/language/ko", data={"next": "/login"})
    korean_again = page(client, "/login")
    assert '<html lang="ko"' in korean_again
    assert "기관에서 받은 계정으로 로그인하세요." in korean_again
    assert "Log in with the account your agency gave you." not in korean_again


def test_anonymous_unknown_language_code_is_ignored(client):
    client.post("/language/xx", data={"next": "/login"})
    with client.session_transaction() as session:
        assert "lang" not in session
    assert '<html lang="ko"' in page(client, "/login")


def test_english_validation_messages(client):
    """Lazily translated form messages follow the chosen language too."""
    client.post("/language/en", data={"next": "/login"})
    response = client.post("/login", data={"username": "", "password": ""})
    text = response.get_data(as_text=True)
    assert "Enter your username." in text
    assert "Enter your password." in text
    assert "아이디를 입력하세요." not in text


def test_code_translations_follow_the_request_and_a_forced_locale(app):
    """conference.core.i18n keeps the request's catalogue; force_locale lets go of it on the way in and out."""
    from conference.core import i18n
    label = i18n.lazy_gettext("로그아웃")
    with app.test_request_context("/"):
        with i18n.force_locale("en"):
            assert i18n.gettext("로그아웃") == "Log out"
            assert str(label) == "Log out"
            assert i18n.gettext("%(name)s님, 안녕하세요.", name="Kim") == "Hello, Kim."
            with i18n.force_locale("ko"):
                assert str(label) == "로그아웃"
            assert str(label) == "Log out"
        assert i18n.gettext("로그아웃") == "로그아웃"


def test_notifications_are_shown_in_the_readers_language(app, client):
    """Invitations notify the agency's practitioners; each reads the message in their own language. A notification
    stored before messages were kept with their values is shown as it was sent."""
    seed_demo(demo.DEFAULT_PASSWORD)
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    db.session.add(Notification(user_id=mh.id, kind="input.request", message="예전 그대로의 알림"))
    db.session.commit()
    sent = db.session.execute(select(Notification).where(Notification.user_id == mh.id,
                                                         Notification.kind == "input.request",
                                                         Notification.params != "")).scalars().first()
    values = json.loads(sent.params)
    assert sent.message == f"{values['meeting']} 초대: 사례별 기관 의견을 {values['deadline']}까지 제출해 주세요."
    client.post("/login", data={"username": "mh", "password": demo.DEFAULT_PASSWORD})

    korean = html.unescape(page(client, "/notifications"))
    assert sent.message in korean and "예전 그대로의 알림" in korean

    db.session.get(User, mh.id).locale = "en"
    db.session.commit()
    english = html.unescape(page(client, "/notifications"))
    assert f"{values['meeting']}: invitation. Please submit your agency's information and opinion on each case by " \
           f"{values['deadline']}." in english
    assert sent.message not in english and "예전 그대로의 알림" in english
