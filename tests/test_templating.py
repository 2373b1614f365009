"""Template helpers that stand in for slower library calls must give the same answers."""
import jinja2.runtime
import pytest
from factories_world import seed_demo
from flask import g, session, url_for

from conference.core.ids import MAX_ID
from conference.extensions import db
from conference.models import Meeting
from conference.seed import demo
from conference.templating import row_url

ROWS = [("cases.detail", "household_id"), ("actions.detail", "action_id"), ("meetings.detail", "meeting_id"),
        ("admin.user_edit", "user_id"), ("admin.agency_edit", "agency_id")]


@pytest.mark.parametrize("script_root", ["", "/city", f"/welfare{MAX_ID}"])
def test_row_links_are_the_urls_flask_builds(app, script_root):
    for endpoint, name in ROWS:
        for record_id in (1, 42, 1234567, MAX_ID):
            with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script_root}):
                g.pop("_row_urls", None)
                assert row_url(endpoint, **{name: record_id}) == url_for(endpoint, **{name: record_id})


def test_row_links_follow_the_script_root_of_each_request(app):
    """The test app keeps one ``g`` across requests: the pattern must still follow each request's root."""
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/a"}):
        assert row_url("cases.detail", household_id=7) == "/a/cases/7"
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/b"}):
        assert row_url("cases.detail", household_id=7) == "/b/cases/7"


def test_a_list_page_links_every_row(client):
    """The meeting list (one of the lists using row_url) links each meeting to its page."""
    seed_demo(demo.DEFAULT_PASSWORD)
    db.session.commit()
    client.post("/login", data={"username": "coordinator", "password": demo.DEFAULT_PASSWORD})
    page = client.get("/meetings").get_data(as_text=True)
    for meeting_id in db.session.execute(db.select(Meeting.id)).scalars():
        assert f'href="/meetings/{meeting_id}"' in page


TRANSLATED = """{% for who in people %}{% set mark = "*" %}
[{{ _("%(name)s 님", name=who) }}|{{ _("100%% 완료") }}|{{ gettext("기관 의견") }}|{{ pgettext("meeting", "%(context)s") }}|
{{ ngettext("%(num)d건", "%(num)d건", 3) }}|{% trans %}{{ who }}의 사례{% endtrans %}]{% endfor %}"""


@pytest.mark.parametrize("locale, opinion", [("ko", "기관 의견"), ("en", "Agency view")])
def test_translations_in_templates_escape_their_values_and_translate_as_jinja_would(app, locale, opinion):
    """Jinja's newstyle gettext, with the template's own functions: the message is a format string, values are
    escaped, and a ``{% trans %}`` block fills in its variables."""
    with app.test_request_context("/"):
        session["lang"] = locale
        g.pop("_catalogue", None)
        page = app.jinja_env.from_string(TRANSLATED).render(people=["<b>김</b>"])
    assert "[&lt;b&gt;김&lt;/b&gt; 님|100% 완료|" in page and f"|{opinion}|meeting|" in page
    assert "|\n3건|&lt;b&gt;김&lt;/b&gt;의 사례]" in page


def test_a_translation_in_a_loop_does_not_copy_the_templates_context(app, monkeypatch):
    """A function that takes the template's context, called in a loop, makes Jinja copy the context each call."""
    copies = []
    derived = jinja2.runtime.Context.derived
    monkeypatch.setattr(jinja2.runtime.Context, "derived", lambda self, *a, **k: copies.append(1) or derived(self, *a, **k))
    with app.test_request_context("/"):
        app.jinja_env.from_string(TRANSLATED).render(people=["김", "이", "박"])
    assert copies == []
