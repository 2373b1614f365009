"""실행과제 after the meeting: my agency's actions, progress checks, completion, due-date changes."""
from functools import partial

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from conference.actions import queries, services
from conference.actions.forms import ActionFilterForm, DueForm, NoteForm, ProgressForm
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.models import ActionEvent, ActionItem, Agency, Household
from conference.models.actions import ACTIVE_STATUSES
from conference.shared import permissions
from conference.shared.permissions import (can_report_on_action, can_see_action_override, is_case_staff, require,
                                           visible_actions)
from conference.shared.webforms import commit_change, page_number

bp = Blueprint("actions", __name__, url_prefix="/actions")
permissions.case_work_only(bp)



@bp.get("")
def index():
    agencies = db.session.execute(select(Agency).order_by(Agency.name)).scalars().all() \
        if is_case_staff(current_user) else []
    form = ActionFilterForm(agencies, request.args)
    filters = queries.ActionFilters()
    if form.validate():
        filters = queries.ActionFilters(status=form.status.data or "active", due=form.due.data or "",
                                        agency=form.agency.data or 0 if agencies else 0)
    actions = queries.page_of_actions(current_user, filters, today_local(), page_number())
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("actions/index.html", actions=actions, form=form, args=args,
                           staff=is_case_staff(current_user))


def get_action(action_id: int) -> ActionItem:
    """An action the user may see, with its history; 404 otherwise."""
    query = visible_actions(current_user, select(ActionItem).where(ActionItem.id == action_id)).options(
        joinedload(ActionItem.agency), joinedload(ActionItem.meeting),
        joinedload(ActionItem.household).selectinload(Household.members),
        selectinload(ActionItem.events).joinedload(ActionEvent.by))
    action = db.session.execute(query).unique().scalar_one_or_none()
    if action is None:
        abort(404)
    return action


FORMS = {"progress": ProgressForm, "propose": NoteForm, "confirm": NoteForm, "due": DueForm}


@bp.route("/<int:action_id>", methods=["GET", "POST"])
def detail(action_id):
    action = get_action(action_id)
    today = today_local()
    forms = {name: form_class(formdata=None) for name, form_class in FORMS.items()}
    forms["progress"].checked_on.data = today
    if request.method == "POST":
        step = request.form.get("step", "")
        if step not in FORMS:
            abort(400)
        require(can_report_on_action(current_user, action) if step != "confirm" else is_case_staff(current_user))
        form = forms[step] = FORMS[step]()
        if form.validate_on_submit():
            if commit_change(partial(_apply, step, action, form, today), success=_("기록했습니다."), form=form):
                return redirect(url_for("actions.detail", action_id=action_id))
            action = get_action(action_id)
    return render_template("actions/detail.html", action=action, forms=forms, today=today,
                           overdue=queries.is_overdue(action, today), active=action.status in ACTIVE_STATUSES,
                           can_report=can_report_on_action(current_user, action),
                           show_override=can_see_action_override(current_user, action),
                           staff=is_case_staff(current_user))


def _apply(step, action, form, today):
    if step == "progress":
        services.record_progress(action, by=current_user, checked_on=form.checked_on.data,
                                 content=form.content.data, result=form.result.data, today=today)
    elif step == "propose":
        services.propose_completion(action, by=current_user, note=form.note.data, today=today)
    elif step == "confirm":
        services.confirm_completion(action, by=current_user, note=form.note.data, today=today)
    else:
        services.change_due(action, by=current_user, new_due=form.new_due.data, reason=form.reason.data, today=today)
