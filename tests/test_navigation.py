"""The home page and the navigation bar for each role."""
import re

import pytest

from conference.models import Role

ADMIN_SECTIONS = [("/admin/agencies", "기관 관리"), ("/admin/users", "사용자 관리"), ("/admin/audit", "감사 기록"),
                  ("/admin/audit/review", "접속기록 점검")]


def nav_links(page: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "no main navigation on the page"
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))


@pytest.mark.parametrize("role, label", [
    (Role.ADMIN, "관리자"),
    (Role.COORDINATOR, "사례관리 담당자"),
    (Role.CHAIR, "회의 주재·결재권자"),
    (Role.PRACTITIONER, "기관 실무자"),
])
def test_home_page_and_navigation_per_role(client, auth, make_agency, make_user, role, label):
    agency = make_agency("무지개복지관")
    make_user("someone", role, agency=agency, display_name="홍길동")
    assert auth.login("someone").status_code == 302

    response = client.get("/home")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>홍길동님, 안녕하세요.</h1>" in page
    assert f'<p class="muted">무지개복지관 · {label}</p>' in page
    assert "홍길동 · 무지개복지관" in page  # the user menu

    links = nav_links(page)
    assert links[0] == ("/home", "홈")
    admin_links = [link for link in links if link in ADMIN_SECTIONS or link[0].startswith("/admin")]
    if role == Role.ADMIN:
        assert admin_links == ADMIN_SECTIONS
    else:
        assert admin_links == []
        for url, name in ADMIN_SECTIONS:
            assert name not in page
            assert f'href="{url}"' not in page


def test_anonymous_pages_have_no_navigation(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'class="mainnav"' not in page
    assert "기관 관리" not in page


def test_index_sends_each_visitor_to_the_right_place(client, auth, coordinator):
    assert client.get("/").headers["Location"] == "/login"
    auth.login("coord1")
    assert client.get("/").headers["Location"] == "/home"
