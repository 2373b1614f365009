"""The web upload of a discovery list: upload → preview → confirm, all or nothing, repeats decided per row."""

import pytest
from sqlalchemy import func, select

from conference.extensions import db
from conference.models import AuditEvent, ImportBatch, Member, Role
from factories_cases import household_count, upload
from test_import import GOOD_CSV, HOSTILE, SAMPLE_CSV





def test_upload_previews_without_saving_then_confirm_imports_all(importer_client):
    response = upload(importer_client, "\ufeff".encode() + SAMPLE_CSV.encode("utf-8"))  # Excel's UTF-8 with BOM
    assert response.status_code == 302
    preview = importer_client.get(response.headers["Location"])
    page = preview.get_data(as_text=True)
    assert "김민수" in page and "이영희" in page and "5" in page
    assert household_count() == 0
    confirmed = importer_client.post(response.headers["Location"])
    assert confirmed.status_code == 302
    assert household_count() == 5
    batch = db.session.execute(select(ImportBatch)).scalar_one()
    assert batch.status == "imported" and batch.payload == ""


def test_cp949_upload_imports(importer_client):
    response = upload(importer_client, GOOD_CSV.encode("cp949"))
    assert response.status_code == 302
    importer_client.post(response.headers["Location"])
    assert household_count() == 5


def test_errors_are_listed_by_row_and_nothing_is_saved(importer_client):
    bad = GOOD_CSV.replace("1968-03-02", "1968-13-40").replace("중앙동,김민수", "없는동,김민수")
    response = upload(importer_client, bad.encode("utf-8"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "아무것도 저장하지 않았습니다" in page
    assert "생년월일" in page and "행정동" in page
    assert household_count() == 0
    assert db.session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0


@pytest.mark.parametrize("data, message", [
    (b"", "파일"),
    (b"\xff\xfe\x00garbage\x00\xff", "UTF"),
])
def test_unreadable_files_get_a_korean_message(importer_client, data, message):
    response = upload(importer_client, data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert household_count() == 0


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_file_is_refused_next_to_the_upload_field(importer_client, case):
    build, name, message = HOSTILE[case]
    response = upload(importer_client, build(), name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    said = message.removeprefix("파일: ")
    assert f'<p class="error" id="file-error">{said}' in page
    assert 'aria-invalid="true"' in page and "아무것도 저장하지 않았습니다" in page
    assert "import-errors" not in page  # said once, by the field, not again in the row table
    assert household_count() == 0
    assert db.session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0


def test_a_cell_shown_back_in_a_message_is_escaped(importer_client):
    """Found by tests/test_fuzz.py: a lazy message ('%(value)s'은(는) 설정된 행정동이 아닙니다) printed the cell as HTML."""
    header, rows = GOOD_CSV.split("\n", 1)
    bad = header + ",<img src=x onerror=alert(1)>\n" + rows.replace("중앙동,김민수", "<script>alert(1)</script>,김민수")
    response = upload(importer_client, bad.encode("utf-8"))
    page = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page


def test_missing_file_is_reported_next_to_the_field(importer_client):
    response = importer_client.post("/cases/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "파일을 고르세요." in response.get_data(as_text=True)


def test_repeats_need_a_decision_and_merge_or_keep_as_chosen(importer_client):
    first = upload(importer_client, GOOD_CSV.encode("utf-8"))
    importer_client.post(first.headers["Location"])
    assert household_count() == 5
    again = upload(importer_client, GOOD_CSV.encode("utf-8"))
    preview_url = again.headers["Location"]
    undecided = importer_client.post(preview_url)
    assert undecided.status_code == 200
    assert "합칠지 새로 등록할지 고르세요" in undecided.get_data(as_text=True)
    assert household_count() == 5
    decisions = {f"decision-{row}": "merge" for row in range(2, 7)}
    decisions["decision-2"] = "keep"
    done = importer_client.post(preview_url, data=decisions)
    assert done.status_code == 302
    assert household_count() == 6
    heads = db.session.execute(select(func.count()).select_from(Member).where(
        Member.name == "김민수", Member.is_head.is_(True))).scalar_one()
    assert heads == 2


def test_cancel_discards_the_upload(importer_client):
    response = upload(importer_client, GOOD_CSV.encode("utf-8"))
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    importer_client.post(f"/cases/import/{batch_id}/cancel")
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "cancelled" and batch.payload == ""
    assert importer_client.post(f"/cases/import/{batch_id}").status_code == 404
    assert household_count() == 0


def test_a_new_upload_empties_the_previous_unconfirmed_one(importer_client):
    first = upload(importer_client, GOOD_CSV.encode("utf-8"))
    upload(importer_client, GOOD_CSV.encode("utf-8"))
    first_id = int(first.headers["Location"].rsplit("/", 1)[1])
    old = db.session.get(ImportBatch, first_id)
    assert old.status == "replaced" and old.payload == ""


def test_another_users_upload_is_not_reachable(client, auth, coordinator, make_user):
    auth.login("coord1")
    response = upload(client, GOOD_CSV.encode("utf-8"))
    url = response.headers["Location"]
    auth.logout()
    make_user("coord2", Role.COORDINATOR)
    auth.login("coord2")
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert household_count() == 0


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.CHAIR])
def test_only_case_staff_import(client, auth, make_user, role):
    make_user("someone", role)
    auth.login("someone")
    assert client.get("/cases/import").status_code == 403
    assert upload(client, GOOD_CSV.encode("utf-8")).status_code == 403


def test_upload_is_audited(importer_client):
    response = upload(importer_client, GOOD_CSV.encode("utf-8"))
    importer_client.post(response.headers["Location"])
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"import.upload", "household.import", "household.create"} <= actions
