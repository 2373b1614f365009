"""Who may open what: every route of the app, for every kind of user, in one table.

``test_every_route_has_a_row`` fails when a route (or a method of one) is added without a row here: decide who
may use it before it ships. ``test_authorization_matrix`` runs every row as one user, each row on a fresh client
signed in again, in the world of ``factories_world`` (the demo city, an agency invited to nothing, a chair of
nothing), and lists every cell that differs from the table.

Cells: ``200``/``400``/``403``/``404``/``409`` the status; ``LOGIN`` a redirect to the login page; ``"→/path"`` a
redirect to that page (ids filled in). Forms are posted empty or invalid where possible, so an allowed POST shows
its form again with messages (200) or goes back with a flash message (→), and nothing changes; the permission
check runs first all the same. The few allowed POSTs that do change something (a logout, a reminder, a read mark,
a new two-factor secret, a cancelled upload, the agenda put children first again) change nothing a later row
depends on.

Objects: ``{case}`` 김민수, on both meetings' agendas within consent; ``{hidden_case}`` 최은정, on no agenda;
``{upcoming}`` (no minutes yet) and ``{past}`` (approved minutes, actions) meetings, both chaired by ``chair``,
inviting ``mh``'s agency and not ``police``'s; ``{unchaired}`` has no chair and minutes waiting for approval;
``{own_action}`` is ``mh``'s agency's, ``{other_action}`` 드림스타트's.
"""
from typing import NamedTuple

import pytest
from conftest import PASSWORD

from conference.extensions import db

LOGIN = "login"
#: The columns: who signs in (None: nobody).
LOGINS = {"anonymous": None, "admin": "admin", "coordinator": "coordinator", "chair": "chair",
          "other_chair": "chair2", "invited": "mh", "uninvited": "police"}
USERS = list(LOGINS)


class Row(NamedTuple):
    endpoint: str
    method: str
    url: str
    expected: tuple
    data: dict | None = None


def row(endpoint, method, url, *expected, data=None) -> Row:
    assert len(expected) == len(USERS), endpoint
    return Row(endpoint, method, url, expected, data)


def to(path):
    return "→" + path


HOME = to("/home")
PURPOSE = {"purpose": "회의 준비"}

# Users who only sign in: the same answer for everyone but the anonymous visitor.
ANY = (200,) * 6
ADMIN_ONLY = (200, 403, 403, 403, 403, 403)
STAFF_ONLY = (403, 200, 403, 403, 403, 403)
# The admin reads no case data: every page of cases, meetings, agency input, minutes, actions and the dashboard
# answers 403 for the role, before anything is looked up.
CASE_WORK = (403, 200, 200, 200, 200, 200)

#: A visible case file as seen by (admin, coordinator, chair of its meeting, other chair, invited agency, other agency).
CASE_EDIT = (403, 200, 403, 404, 403, 404)
#: A page of a meeting that only staff may change (the chair and the invited agency may read the meeting).
MEETING_MANAGE = (403, 200, 403, 404, 403, 404)
#: A page of a meeting that everyone who may read the meeting may open.
MEETING_READ = (403, 200, 200, 404, 200, 404)
#: Pages of the agency input: staff for any invited agency, a practitioner for their own; the chair writes none.
INPUTS = (403, 200, 404, 404, 200, 404)

C, U, P = "/cases/{case}", "/meetings/{upcoming}", "/meetings/{past}"

#                                 columns: anonymous, admin, coordinator, chair, other_chair, invited, uninvited
MATRIX = [
    # --- main ---
    row("main.index", "GET", "/", to("/login"), *(HOME,) * 6),
    row("main.health", "GET", "/healthz", 200, *ANY),
    row("main.home", "GET", "/home", LOGIN, *ANY),
    row("main.account", "GET", "/account", LOGIN, *ANY),
    row("main.notifications", "GET", "/notifications", LOGIN, *ANY),
    row("main.notifications", "POST", "/notifications", LOGIN, *(to("/notifications"),) * 6, data={}),
    # A notification opens (and is marked read) for its own user only; for anyone else it does not exist.
    row("main.open_notification", "GET", "/notifications/{mh_notification}", LOGIN, 404, 404, 404, 404,
        to("/actions"), 404),
    # --- auth ---
    row("auth.login", "GET", "/login", 200, *(HOME,) * 6),
    row("auth.login", "POST", "/login", 200, *(HOME,) * 6, data={}),
    row("auth.login_two_factor", "GET", "/login/two-factor", to("/login"), *(HOME,) * 6),
    row("auth.login_two_factor", "POST", "/login/two-factor", to("/login"), *(HOME,) * 6, data={}),
    row("auth.logout", "POST", "/logout", LOGIN, *(to("/login"),) * 6, data={}),
    row("auth.set_language", "POST", "/language/zz", *(HOME,) * 7, data={}),
    row("auth.change_password", "GET", "/account/password", LOGIN, *ANY),
    row("auth.change_password", "POST", "/account/password", LOGIN, *ANY, data={}),
    row("auth.two_factor", "GET", "/account/two-factor", LOGIN, *ANY),
    row("auth.two_factor", "POST", "/account/two-factor", LOGIN, *(to("/account/two-factor"),) * 6, data={}),
    row("auth.two_factor_disable", "POST", "/account/two-factor/disable", LOGIN, *(to("/account/two-factor"),) * 6,
        data={}),
    row("auth.two_factor_recovery_codes", "POST", "/account/two-factor/recovery-codes", LOGIN,
        *(to("/account/two-factor"),) * 6, data={}),
    row("auth.two_factor_start", "POST", "/account/two-factor/start", LOGIN, *(to("/account/two-factor"),) * 6,
        data={}),
    # --- admin: agencies, accounts, the audit trail ---
    row("admin.agencies", "GET", "/admin/agencies", LOGIN, *ADMIN_ONLY),
    row("admin.agency_new", "GET", "/admin/agencies/new", LOGIN, *ADMIN_ONLY),
    row("admin.agency_new", "POST", "/admin/agencies/new", LOGIN, *ADMIN_ONLY, data={}),
    row("admin.agency_edit", "GET", "/admin/agencies/{police_agency}", LOGIN, *ADMIN_ONLY),
    row("admin.agency_edit", "POST", "/admin/agencies/{police_agency}", LOGIN, *ADMIN_ONLY, data={}),
    row("admin.users", "GET", "/admin/users", LOGIN, *ADMIN_ONLY),
    row("admin.user_new", "GET", "/admin/users/new", LOGIN, *ADMIN_ONLY),
    row("admin.user_new", "POST", "/admin/users/new", LOGIN, *ADMIN_ONLY, data={}),
    row("admin.user_edit", "GET", "/admin/users/{mh_user}", LOGIN, *ADMIN_ONLY),
    row("admin.user_edit", "POST", "/admin/users/{mh_user}", LOGIN, *ADMIN_ONLY, data={"display_name": ""}),
    row("admin.user_reset_password", "POST", "/admin/users/{mh_user}/password", LOGIN, *ADMIN_ONLY, data={}),
    row("admin.user_reset_two_factor", "POST", "/admin/users/{mh_user}/two-factor/reset", LOGIN,
        to("/admin/users/{mh_user}"), 403, 403, 403, 403, 403, data={}),
    row("audit.log", "GET", "/admin/audit", LOGIN, *ADMIN_ONLY),
    row("audit.export", "POST", "/admin/audit/export", LOGIN, *ADMIN_ONLY, data={}),
    row("audit.review", "GET", "/admin/audit/review", LOGIN, *ADMIN_ONLY),
    row("audit.review_mark", "POST", "/admin/audit/review", LOGIN, *ADMIN_ONLY, data={}),
    # --- cases: the register is for staff; others see a case only through a meeting ---
    row("cases.index", "GET", "/cases?q=김민수", LOGIN, *STAFF_ONLY),
    row("cases.checks_due", "GET", "/cases/checks", LOGIN, *STAFF_ONLY),
    row("cases.stats", "GET", "/cases/stats", LOGIN, *STAFF_ONLY),
    row("cases.new", "GET", "/cases/new", LOGIN, *STAFF_ONLY),
    row("cases.new", "POST", "/cases/new", LOGIN, *STAFF_ONLY, data={}),
    row("cases.import_upload", "GET", "/cases/import", LOGIN, *STAFF_ONLY),
    row("cases.import_upload", "POST", "/cases/import", LOGIN, *STAFF_ONLY, data={}),
    row("cases.import_template", "GET", "/cases/import/template.csv", LOGIN, *STAFF_ONLY),
    row("cases.import_template", "GET", "/cases/import/template.xlsx", LOGIN, *STAFF_ONLY),
    # Only the uploader sees an upload; confirming without deciding on the repeated household changes nothing.
    row("cases.import_preview", "GET", "/cases/import/{batch}", LOGIN, 403, 200, 403, 403, 403, 403),
    row("cases.import_preview", "POST", "/cases/import/{batch}", LOGIN, 403, 200, 403, 403, 403, 403, data={}),
    row("cases.import_cancel", "POST", "/cases/import/{cancel_batch}/cancel", LOGIN,
        403, to("/cases/import"), 403, 403, 403, 403, data={}),
    row("cases.detail", "GET", C, LOGIN, 403, 200, 200, 404, 200, 404),
    row("cases.detail", "GET", "/cases/{hidden_case}", LOGIN, 403, 200, 404, 404, 404, 404),
    row("cases.edit", "GET", C + "/edit", LOGIN, *CASE_EDIT),
    row("cases.edit", "POST", C + "/edit", LOGIN, *CASE_EDIT, data={}),
    row("cases.edit", "GET", "/cases/{hidden_case}/edit", LOGIN, 403, 200, 404, 404, 404, 404),
    row("cases.member_new", "GET", C + "/members/new", LOGIN, *CASE_EDIT),
    row("cases.member_new", "POST", C + "/members/new", LOGIN, *CASE_EDIT, data={}),
    row("cases.member_edit", "GET", C + "/members/{head}", LOGIN, *CASE_EDIT),
    row("cases.member_edit", "POST", C + "/members/{head}", LOGIN, *CASE_EDIT, data={}),
    # The head of the household cannot be removed: the page goes back with a message.
    row("cases.member_delete", "POST", C + "/members/{head}/delete", LOGIN, 403, to(C), 403, 404, 403, 404, data={}),
    row("cases.status", "GET", C + "/status", LOGIN, *CASE_EDIT),
    row("cases.status", "POST", C + "/status", LOGIN, *CASE_EDIT, data={}),
    row("cases.consent_new", "GET", C + "/consents/new", LOGIN, *CASE_EDIT),
    row("cases.consent_new", "POST", C + "/consents/new", LOGIN, *CASE_EDIT, data={}),
    row("cases.consent_withdraw", "GET", C + "/consents/{consent}/withdraw", LOGIN, *CASE_EDIT),
    row("cases.consent_withdraw", "POST", C + "/consents/{consent}/withdraw", LOGIN, *CASE_EDIT, data={}),
    row("cases.assessment_new", "GET", C + "/assessments/new", LOGIN, *CASE_EDIT),
    row("cases.assessment_new", "POST", C + "/assessments/new", LOGIN, *CASE_EDIT, data={}),
    row("cases.monitoring", "POST", C + "/monitoring", LOGIN, *CASE_EDIT, data={}),
    # --- meetings ---
    row("meetings.index", "GET", "/meetings", LOGIN, *CASE_WORK),
    row("meetings.new", "GET", "/meetings/new", LOGIN, *STAFF_ONLY),
    row("meetings.new", "POST", "/meetings/new", LOGIN, *STAFF_ONLY, data={}),
    row("meetings.detail", "GET", U, LOGIN, 403, 200, to(U + "/packet"), 404, to(U + "/packet"), 404),
    row("meetings.edit", "GET", U + "/edit", LOGIN, *MEETING_MANAGE),
    row("meetings.edit", "POST", U + "/edit", LOGIN, *MEETING_MANAGE, data={}),
    row("meetings.status", "POST", U + "/status", LOGIN, 403, to(U), 403, 404, 403, 404, data={}),
    row("meetings.invite", "POST", U + "/invitations", LOGIN, 403, to(U), 403, 404, 403, 404, data={}),
    row("meetings.invitation_edit", "GET", U + "/invitations/{invitation}", LOGIN, *MEETING_MANAGE),
    row("meetings.invitation_edit", "POST", U + "/invitations/{invitation}", LOGIN, *MEETING_MANAGE, data={}),
    # The past meeting's invitations can no longer be withdrawn: back with a message.
    row("meetings.invitation_delete", "POST", P + "/invitations/{past_invitation}/delete", LOGIN,
        403, to(P), 403, 404, 403, 404, data={}),
    row("meetings.agenda_new", "GET", U + "/agenda/new?q=김", LOGIN, *MEETING_MANAGE),
    row("meetings.agenda_new", "POST", U + "/agenda/new", LOGIN, *MEETING_MANAGE, data={}),
    row("meetings.agenda_new", "GET", U + "/agenda/new?household_id={hidden_case}", LOGIN, *MEETING_MANAGE),
    row("meetings.agenda_edit", "GET", U + "/agenda/{item}", LOGIN, *MEETING_MANAGE),
    row("meetings.agenda_edit", "POST", U + "/agenda/{item}", LOGIN, *MEETING_MANAGE, data={}),
    # Agencies wrote input on this case: removing it first asks for confirmation (200).
    row("meetings.agenda_change", "POST", U + "/agenda/{item}/delete", LOGIN, *MEETING_MANAGE, data={}),
    row("meetings.agenda_children_first", "POST", U + "/agenda/children-first", LOGIN,
        403, to(U), 403, 404, 403, 404, data={}),
    row("meetings.pledge", "GET", U + "/pledge", LOGIN, *MEETING_READ),
    row("meetings.pledge", "POST", U + "/pledge", LOGIN, *MEETING_READ, data={}),
    row("meetings.packet", "GET", U + "/packet", LOGIN, *MEETING_READ),
    # A practitioner may read only their own agency's packet, whatever they ask for.
    row("meetings.packet", "GET", U + "/packet?agency={police_agency}", LOGIN, 403, 404, 404, 404, 200, 404),
    row("meetings.packet_docx", "POST", U + "/packet.docx", LOGIN, *MEETING_READ, data=PURPOSE),
    row("meetings.invitation_ics", "GET", U + "/invitation.ics", LOGIN, *MEETING_READ),
    # --- agency input ---
    row("inputs.index", "GET", U + "/inputs", LOGIN, *INPUTS),
    row("inputs.edit", "GET", U + "/inputs/{item}?agency={mh_agency}", LOGIN, *INPUTS),
    # Staff must say for which agency they write; a practitioner always writes for their own.
    row("inputs.edit", "GET", U + "/inputs/{item}", LOGIN, 403, 404, 404, 404, 200, 404),
    row("inputs.edit", "POST", U + "/inputs/{item}?agency={mh_agency}", LOGIN, *INPUTS, data={}),
    row("inputs.history", "GET", U + "/inputs/{item}/history?agency={mh_agency}", LOGIN, *INPUTS),
    row("inputs.remind", "POST", U + "/inputs/remind", LOGIN, 403, to(U + "/inputs"),
        403, 404, 403, 404, data={}),
    # --- meeting day and minutes (the past meeting's minutes are approved: nothing can be recorded) ---
    row("minutes.run", "GET", P + "/run", LOGIN, *MEETING_MANAGE),
    row("minutes.run", "POST", P + "/run", LOGIN, *MEETING_MANAGE, data={}),
    row("minutes.run_case", "GET", P + "/run/{past_item}", LOGIN, *MEETING_MANAGE),
    row("minutes.run_case", "POST", P + "/run/{past_item}", LOGIN, *MEETING_MANAGE, data={}),
    # Starting a meeting already held, postponing a case of approved minutes: refused where allowed at all.
    row("minutes.start", "POST", P + "/run/start", LOGIN, 403, 200, 403, 404, 403, 404, data={}),
    row("minutes.postpone", "POST", P + "/run/{past_item}/postpone", LOGIN, 403, 200, 403, 404, 403, 404,
        data={"postpone_reason": "다음 회의로"}),
    row("minutes.minutes_page", "GET", P + "/minutes", LOGIN, *MEETING_READ),
    # Draft minutes (none yet) are for staff until they are sent for review.
    row("minutes.minutes_page", "GET", U + "/minutes", LOGIN, *MEETING_MANAGE),
    row("minutes.request_review", "POST", P + "/minutes/review", LOGIN, *MEETING_MANAGE, data={}),
    row("minutes.respond", "POST", P + "/minutes/respond", LOGIN,
        403, to(P + "/minutes"), to(P + "/minutes"), 404, to(P + "/minutes"), 404, data={}),
    row("minutes.approve", "POST", P + "/minutes/approve", LOGIN, 403, 403, to(P + "/minutes"), 404, 403, 404, data={}),
    # Minutes of a meeting without a chair wait for one to be named: no chair may open (or approve) them.
    row("minutes.approve", "POST", "/meetings/{unchaired}/minutes/approve", LOGIN, 403, 403, 404, 404, 404, 404,
        data={}),
    row("minutes.correct", "POST", P + "/minutes/correct", LOGIN,
        403, to(P + "/minutes"), 403, 404, 403, 404, data={}),
    row("minutes.minutes_docx", "POST", P + "/minutes.docx", LOGIN, *MEETING_READ, data=PURPOSE),
    row("minutes.minutes_docx", "POST", P + "/minutes.docx", LOGIN, 403, 200, 403, 404, 403, 404,
        data={**PURPOSE, "full_names": "y"}),
    row("minutes.attendance_docx", "POST", P + "/attendance.docx", LOGIN, *MEETING_MANAGE, data=PURPOSE),
    # --- actions after the meeting ---
    row("actions.index", "GET", "/actions", LOGIN, *CASE_WORK),
    row("actions.detail", "GET", "/actions/{own_action}", LOGIN, 403, 200, 200, 404, 200, 404),
    row("actions.detail", "GET", "/actions/{other_action}", LOGIN, 403, 200, 200, 404, 404, 404),
    # Progress comes from the agency that owns the action (and staff); an empty report shows the form again.
    row("actions.detail", "POST", "/actions/{own_action}", LOGIN, 403, 200, 403, 404, 200, 404,
        data={"step": "progress"}),
    row("actions.detail", "POST", "/actions/{other_action}", LOGIN, 403, 200, 403, 404, 404, 404,
        data={"step": "progress"}),
    row("actions.detail", "POST", "/actions/{own_action}", LOGIN, 403, 200, 403, 404, 200, 404, data={"step": "propose"}),
    row("actions.detail", "POST", "/actions/{own_action}", LOGIN, 403, 200, 403, 404, 200, 404, data={"step": "due"}),
    # Only case staff confirm that an action is done.
    row("actions.detail", "POST", "/actions/{own_action}", LOGIN, 403, 200, 403, 404, 403, 404, data={"step": "confirm"}),
    row("actions.detail", "POST", "/actions/{own_action}", LOGIN, 403, 400, 400, 404, 400, 404, data={"step": "x"}),
    # --- dashboard: figures for what each may see ---
    row("dashboard.index", "GET", "/dashboard", LOGIN, *CASE_WORK),
    row("dashboard.report", "GET", "/dashboard/report.xlsx", LOGIN, *CASE_WORK),
    row("dashboard.report", "GET", "/dashboard/report.docx?quarter=1", LOGIN, *CASE_WORK),
    row("dashboard.report", "GET", "/dashboard/report.hwpx?quarter=2", LOGIN, *CASE_WORK),
]

#: Served to anyone by Flask itself, holds no data.
UNCHECKED = {"static"}


def route_methods(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint not in UNCHECKED
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_row(app):
    routes = route_methods(app)
    table = {(r.endpoint, r.method) for r in MATRIX}
    missing = sorted(routes - table)
    extra = sorted(table - routes)
    assert not missing and not extra, (
        f"Routes without a row in the authorization matrix (add one saying who may use them): {missing}; "
        f"rows for routes that no longer exist: {extra}")


def outcome(response) -> object:
    """A response as a cell of the table: the status, LOGIN, or "→" and the path redirected to."""
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        if location.startswith("/login?next="):
            return LOGIN
        return to(location.split("#")[0].split("?")[0])
    return response.status_code


def request_as(app, username, method, url, data):
    client = app.test_client()
    if username:
        signed_in = client.post("/login", data={"username": username, "password": PASSWORD})
        assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/home", username
    return client.open(url, method=method, data=data)


@pytest.mark.slow
@pytest.mark.parametrize("user", USERS)
def test_authorization_matrix(app, world, user):
    column = USERS.index(user)
    wrong = []
    for entry in MATRIX:
        url = world.url(entry.url)
        expected = entry.expected[column]
        if isinstance(expected, str) and expected.startswith("→"):
            expected = world.url(expected)
        response = request_as(app, LOGINS[user], entry.method, url, entry.data)
        got = outcome(response)
        if got != expected:
            wrong.append(f"{entry.endpoint:32} {entry.method:4} {url:50} expected {expected}, got {got}")
        db.session.rollback()
    assert not wrong, f"{user}: {len(wrong)} cells differ from the matrix:\n" + "\n".join(wrong)


def test_the_admins_lists_of_case_data_are_empty_whatever_exists(app, world):
    """The rule under the 403s above: the list filters give the admin no row of case data either."""
    from sqlalchemy import func, select

    from conference.models import ActionItem, Household, Meeting, User
    from conference.shared import permissions

    admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    for model, rule in ((Household, permissions.visible_households), (Meeting, permissions.visible_meetings),
                        (ActionItem, permissions.visible_actions)):
        count = select(func.count()).select_from(model)
        assert db.session.execute(rule(coordinator, count)).scalar_one() > 0, model
        assert db.session.execute(rule(admin, count)).scalar_one() == 0, model
    assert not permissions.reads_case_data(admin) and permissions.reads_case_data(coordinator)
