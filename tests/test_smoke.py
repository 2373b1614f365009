def test_login_page_is_korean(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "로그인" in response.get_data(as_text=True)


def test_coordinator_logs_in(auth, client, coordinator):
    response = auth.login("coord1")
    assert response.status_code == 302
    assert "안녕하세요" in client.get("/home").get_data(as_text=True)
