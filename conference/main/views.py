"""The home page, different for each role."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from conference.actions import queries as action_queries
from conference.core.database import writes_on_get
from conference.core.formatting import today_local
from conference.extensions import db
from conference.main import todo
from conference.meetings import queries as meeting_queries
from conference.minutes import queries as minutes_queries
from conference.models import Role
from conference.shared import notifications as notification_services
from conference.shared.webforms import ButtonForm

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return redirect(url_for("main.home" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
def health():
    """For load balancers and monitoring: the app answers. Reads nothing and says nothing about data."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/home")
@login_required
def home():
    context = {}
    if current_user.role == Role.PRACTITIONER:
        context["invitations"] = meeting_queries.practitioner_home(current_user)
        context["today"] = today_local()
        context["action_counts"] = action_queries.due_counts(current_user, context["today"])
    elif current_user.role in (Role.COORDINATOR, Role.CHAIR):
        context["meetings"] = meeting_queries.upcoming_meetings(current_user)
    if current_user.role == Role.CHAIR:
        context["approval_queue"] = minutes_queries.approval_queue(current_user)
    return render_template(f"main/home_{current_user.role}.html", **context)


@bp.get("/account")
@login_required
def account():
    return render_template("main/account.html")


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """The signed-in user's own notifications; POST marks them all read."""
    if request.method == "POST":
        if ButtonForm().validate_on_submit():
            notification_services.mark_all_read(current_user)
            db.session.commit()
        return redirect(url_for("main.notifications"))
    return render_template("main/notifications.html", items=notification_services.latest(current_user),
                           form=ButtonForm(), todo=todo.for_user(current_user, today_local()))


@bp.get("/notifications/<int:notification_id>")
@writes_on_get
@login_required
def open_notification(notification_id):
    """Follow a notification's link, marking it read: only the user's own, only to a page of this app."""
    notification = notification_services.mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return redirect(notification_services.internal_link(notification.link) or url_for("main.notifications"))
