"""The dashboard: figures for coordinators (the whole city) and practitioners (their own agency)."""
from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from conference.dashboard import queries
from conference.meetings.queries import today_local
from conference.models import ActionStatus, MeetingKind, NeedDomain, Stage

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("")
@login_required
def index():
    today = today_local()
    year = request.args.get("year", today.year, type=int)
    if not 2000 <= year <= 2100:
        year = today.year
    data = queries.build(current_user, year, current_app.config, today)
    return render_template("dashboard/index.html", data=data, stages=list(Stage), domains=list(NeedDomain),
                           kinds=list(MeetingKind), action_statuses=[s for s in ActionStatus if s != "planned"])
