"""What helps a coordinator import a list: the column formats on the import page, the templates to download (that
the import itself accepts) and 모두 병합 / 모두 유지 on the preview."""
import html
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from conference.cases import importer
from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import AuditEvent, Role
from factories_cases import household_count, upload
from test_import import GOOD_CSV





def merges() -> int:
    return db.session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "household.merge")
                              ).scalar_one()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- the formats ---------------------------------------------------------------------------------------

def test_the_import_page_explains_every_column_with_its_format_and_an_example(app, importer_client):
    page = page_text(importer_client.get("/cases/import"))
    table = re.search(r'<table class="data" id="import-columns">(.*?)</table>', page, re.DOTALL)
    assert table, "no table of the columns"
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td>\s*<td>(.*?)</td>\s*<td><code>(.*?)</code>',
                      table[1], re.DOTALL)
    assert [name for name, *_ in rows] == importer.COLUMNS
    by_name = {name: (required, text, example) for name, required, text, example in rows}
    for column in importer.FORM_COLUMNS:
        required, text, _example = by_name[column.name]
        assert required == str(column.required) and str(column.format) in text, column.name
    assert by_name["추출회차"][2] == "2024-1" and "연도-회차" in by_name["추출회차"][1]
    assert by_name["생년월일"] == ("필수", by_name["생년월일"][1], "1968-03-02")
    assert all(district in by_name["행정동"][1] for district in app.config["DISTRICTS"])
    assert all(route in by_name["발굴경로"][1] for route in app.config["DISCOVERY_ROUTES"])
    assert 'href="/cases/import/template.csv"' in page and 'href="/cases/import/template.xlsx"' in page


# --- the templates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_downloaded_template_is_read_back_by_the_import_without_errors(app, importer_client, kind):
    response = importer_client.get(f"/cases/import/template.{kind}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert f".{kind}" in response.headers["Content-Disposition"]
    data = response.get_data()

    parsed = importer.parse_with_config(data, f"양식.{kind}", app.config, today_local())
    assert parsed.errors == [] and parsed.warnings == [] and len(parsed.rows) == 1
    row = parsed.rows[0]
    assert (row.extraction_round, row.district, row.name, row.discovery_route) == (
        "2024-1", app.config["DISTRICTS"][0], "김민수", app.config["EXTRACTION_ROUTE"])

    # And through the web: upload, preview, save.
    uploaded = upload(importer_client, data, f"양식.{kind}")
    assert uploaded.status_code == 302, page_text(uploaded)
    assert importer_client.post(uploaded.headers["Location"]).status_code == 302
    assert household_count() == 1


def test_the_xlsx_template_keeps_its_cells_as_text(importer_client):
    sheet = openpyxl.load_workbook(io.BytesIO(importer_client.get("/cases/import/template.xlsx").get_data())).active
    assert [cell.value for cell in sheet[1]] == importer.COLUMNS
    assert all(cell.number_format == "@" and isinstance(cell.value, str) for cell in sheet[2])
    assert sheet.column_dimensions["A"].number_format == "@"  # what is typed under the example stays text too


def test_the_csv_template_opens_in_excel_as_hangul(importer_client):
    data = importer_client.get("/cases/import/template.csv").get_data()
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(importer.COLUMNS)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_only_coordinators_download_the_templates(web, make_user, kind):
    make_user("mh1", Role.PRACTITIONER)
    web.login("mh1")
    assert web.get(f"/cases/import/template.{kind}").status_code == 403


# --- 모두 병합 / 모두 유지 ---------------------------------------------------------------------------------

def checked_choices(response) -> dict[str, str]:
    """The preview's radio buttons as the page has them checked (what a browser would send)."""
    return dict(re.findall(r'<input type="radio" name="(decision-\d+)" value="(\w+)" checked>',
                           response.get_data(as_text=True)))


def preview_again(client) -> str:
    """Import GOOD_CSV, then upload it again: every one of its five rows is a repeat; the preview's address."""
    first = upload(client, GOOD_CSV.encode("utf-8"))
    assert client.post(first.headers["Location"]).status_code == 302
    assert household_count() == 5
    return upload(client, GOOD_CSV.encode("utf-8")).headers["Location"]


def test_merge_all_merges_every_repeated_row(importer_client):
    preview_url = preview_again(importer_client)
    chosen = importer_client.post(preview_url, data={"choose_all": "merge"})
    assert chosen.status_code == 200
    assert checked_choices(chosen) == {f"decision-{row}": "merge" for row in range(2, 7)}
    assert household_count() == 5 and merges() == 0  # choosing saves nothing yet
    done = importer_client.post(preview_url, data=checked_choices(chosen))
    assert done.status_code == 302
    assert household_count() == 5 and merges() == 5


def test_keep_all_registers_every_repeated_row_anew_and_one_row_can_still_differ(importer_client):
    preview_url = preview_again(importer_client)
    chosen = checked_choices(importer_client.post(preview_url, data={"choose_all": "keep"}))
    assert set(chosen.values()) == {"keep"} and len(chosen) == 5
    chosen["decision-3"] = "merge"
    assert importer_client.post(preview_url, data=chosen).status_code == 302
    assert household_count() == 9 and merges() == 1


def test_the_choose_all_buttons_are_on_the_preview_and_junk_changes_nothing(importer_client):
    preview_url = preview_again(importer_client)
    page = page_text(importer_client.get(preview_url))
    assert 'name="choose_all" value="merge"' in page and "모두 병합" in page
    assert 'name="choose_all" value="keep"' in page and "모두 유지" in page
    junk = importer_client.post(preview_url, data={"choose_all": "everything", "decision-2": "keep"})
    assert junk.status_code == 200 and checked_choices(junk) == {"decision-2": "keep"}
    assert household_count() == 5
