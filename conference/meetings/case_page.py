"""A case's page, /cases/<id>: the case file for case staff, and for a partner agency or a chair its part of the
latest packet that holds the case.

The route belongs to the case register's blueprint (endpoint ``cases.detail``) but is added here, as
cases/import_views.py adds the import pages: its second half is a packet, packets are the meetings feature's,
and meetings builds on cases, never the other way round.
"""
from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from conference import audit
from conference.cases import queries as case_queries
from conference.cases.views import bp, case_file, get_case
from conference.core.formatting import today_local
from conference.meetings import packets
from conference.meetings.queries import latest_meeting_with_case
from conference.models import Household
from conference.shared.permissions import PLEDGE_NEEDED, REFUSED, is_case_staff


@bp.get("/<int:household_id>")
def detail(household_id):
    household = get_case(household_id, loader=case_queries.load_household)
    if not is_case_staff(current_user):
        return _agency_view(household)
    return case_file(household)


def _agency_view(household: Household):
    """What a partner agency (or the chair) may know of a case: its part of the latest packet that holds it."""
    meeting = packets.load_meeting(latest_meeting_with_case(current_user, household.id))
    copy = (packets.packet_for_reader(meeting, current_user, None, coordinator_notes=False, today=today_local())
            if meeting else REFUSED)
    if copy is REFUSED:
        abort(404)
    if copy is PLEDGE_NEEDED:
        return redirect(url_for("meetings.pledge", meeting_id=meeting.id))
    case = next(c for c in copy.packet.cases if c.case_number == household.case_number)
    page = render_template("cases/agency_view.html", meeting=meeting, packet=copy.packet, case=case)
    audit.record_access("household.view", household, details={"identity": "masked", "meeting_id": meeting.id,
                                                              "agency_id": copy.agency_id})
    return page
