"""The dashboard: aggregate figures, the same number of queries at any size, practitioners see their agency only."""
import pytest
from sqlalchemy import event

from conference import demo
from conference.datagen import generate_households
from conference.extensions import db

PASSWORD = demo.DEFAULT_PASSWORD


@pytest.fixture
def seeded(app):
    demo.seed(PASSWORD)
    db.session.commit()


def login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_coordinator_sees_the_citys_figures(client, seeded):
    login(client, "coordinator")
    page = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert "분기별 발굴·선정" in page and "<svg" in page
    assert ">7</text>" in page  # seven households discovered in the first quarter of 2021 (demo)
    for agency in ("정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부"):
        assert agency in page
    assert "cdn" not in page.lower() and "<script" not in page


def test_a_practitioner_sees_only_the_agencys_actions_and_cases(client, seeded):
    login(client, "mh")
    page = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert "정신건강복지센터" in page
    assert "천사운동본부</td>" not in page and "중앙동 행정복지센터</td>" not in page
    assert ">7</text>" not in page  # not the whole city's discovered households


def test_bad_year_falls_back_without_error(client, seeded):
    login(client, "coordinator")
    assert client.get("/dashboard?year=abc").status_code == 200
    assert client.get("/dashboard?year=99999").status_code == 200


def test_query_count_does_not_grow_with_the_data(app, client, seeded):
    login(client, "coordinator")
    statements = []

    def count(*args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    client.get("/dashboard?year=2021")
    small = len(statements)
    generate_households(300, config=app.config, coordinator_id=None)
    db.session.commit()
    statements.clear()
    client.get("/dashboard?year=2021")
    event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == small
