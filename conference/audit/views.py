"""The audit trail's pages (접속기록) at /admin/audit: the filtered list, its export and the monthly review.

Read-only: there is no route that edits or deletes an event. The blueprint admits admins only; every view
checks ``can_read_audit`` as well.
"""
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from conference.audit.export import build_audit_xlsx
from conference.audit.filters import (ACTION_LABELS, OBJECT_TYPES, events_query, export_rows, folded_denials,
                                      record_export)
from conference.audit.forms import (MONTH_MESSAGE, AuditExportForm, AuditFilterForm, MonthForm, ReviewForm,
                                    parse_month)
from conference.audit.review import mark_month_reviewed, month_key, month_review
from conference.core.database import now_utc
from conference.core.downloads import XLSX, attachment
from conference.core.formatting import KST, today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.shared.permissions import can_read_audit, require
from conference.shared.webforms import attach_error, page_number

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.before_request
@login_required
def _admins_only():
    require(can_read_audit(current_user))


PAGE_SIZE = 50


def _audit_page(form: AuditFilterForm, export_form: AuditExportForm):
    """The list for valid filters; for invalid ones only the messages next to the fields, no rows."""
    events, args, folded = None, {}, {}
    if form.validate():
        args = form.query_args()
        events = db.paginate(events_query(form.filters()), page=page_number(), per_page=PAGE_SIZE,
                             error_out=False)
        folded = folded_denials(events.items)
    return render_template("audit/log.html", form=form, export_form=export_form, events=events, args=args,
                           object_types=OBJECT_TYPES, action_labels=ACTION_LABELS, folded=folded)


@bp.get("", endpoint="log")
def audit_list():
    require(can_read_audit(current_user))
    return _audit_page(AuditFilterForm(request.args), AuditExportForm(formdata=None))


@bp.post("/export", endpoint="export")
def audit_export():
    """The filtered events as .xlsx; needs a purpose, and the export itself is recorded."""
    require(can_read_audit(current_user))
    export_form = AuditExportForm()
    if export_form.validate_on_submit():
        filters = export_form.filters()
        limit = current_app.config["AUDIT_EXPORT_MAX_ROWS"]
        rows = export_rows(filters, limit + 1)
        if len(rows) > limit:
            attach_error(export_form, "purpose", _("조건에 맞는 기록이 %(n)s건을 넘습니다. 기간이나 조건을 좁혀 주세요.",
                                                   n=f"{limit:,}"))
        else:
            purpose = export_form.purpose.data
            record_export(filters, purpose=purpose, rows=len(rows))
            db.session.commit()
            now = now_utc()
            labelled = [(str(export_form[name].label.text), str(OBJECT_TYPES.get(value, value)))
                        for name, value in filters.args().items()]
            content = build_audit_xlsx(rows, exported_by=f"{current_user.display_name} ({current_user.username})",
                                       exported_at=now, purpose=purpose, filters=labelled)
            return attachment(content, f"감사기록_{now.astimezone(KST):%Y%m%d_%H%M}.xlsx", XLSX)
    return _audit_page(AuditFilterForm(request.form), export_form)


# --- the monthly review ----------------------------------------------------------------------------------

def _last_month():
    return (today_local().replace(day=1) - timedelta(days=1)).replace(day=1)


def _has_ended(month) -> bool:
    return month < today_local().replace(day=1)


def _month_review(month):
    config = current_app.config
    opens, closes = config["AUDIT_WORKING_HOURS"]
    return month_review(month, threshold=config["AUDIT_REVIEW_VIEW_THRESHOLD"],
                                  multiple=config["AUDIT_REVIEW_MEDIAN_MULTIPLE"], working_hours=(opens, closes),
                                  denied_threshold=config["AUDIT_REVIEW_DENIED_THRESHOLD"])


def _review_page(month_form: MonthForm, month, review_form: ReviewForm | None = None):
    review = _month_review(month) if month is not None else None
    if review is not None and review_form is None:
        review_form = ReviewForm(formdata=None, month=month_key(month))
    context = {}
    if month is not None:
        following = (month + timedelta(days=31)).replace(day=1)
        context = {"month_key": month_key(month), "month_start": month,
                   "month_end": following - timedelta(days=1), "ended": _has_ended(month),
                   "previous_month": month_key((month - timedelta(days=1)).replace(day=1)),
                   "next_month": month_key(following)}
    return render_template("audit/review.html", month_form=month_form, review=review, review_form=review_form,
                           **context)


@bp.get("/review", endpoint="review")
def audit_review():
    """The monthly review of the access log (default: last month)."""
    require(can_read_audit(current_user))
    month_form = MonthForm(request.args)
    if not month_form.validate():
        return _review_page(month_form, None)
    month = parse_month(month_form.month.data) if month_form.month.data else _last_month()
    month_form.month.data = month_key(month)
    return _review_page(month_form, month)


@bp.post("/review", endpoint="review_mark")
def audit_review_mark():
    """Mark a month that has ended as reviewed, with a note; recorded as an audit.review event."""
    require(can_read_audit(current_user))
    review_form = ReviewForm()
    month = parse_month(review_form.month.data or "")
    if month is None:
        month_form = MonthForm(formdata=None, month=review_form.month.data or "")
        attach_error(month_form, "month", MONTH_MESSAGE)
        return _review_page(month_form, None)
    if review_form.validate_on_submit():
        if not _has_ended(month):
            attach_error(review_form, "note", _("아직 끝나지 않은 달은 점검 완료로 표시할 수 없습니다."))
        else:
            mark_month_reviewed(_month_review(month), note=review_form.note.data)
            db.session.commit()
            flash(_("%(month)s 접속기록 점검을 기록했습니다.", month=month_key(month)), "success")
            return redirect(url_for("audit.review", month=month_key(month)))
    return _review_page(MonthForm(formdata=None, month=month_key(month)), month, review_form)
