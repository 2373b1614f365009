"""The dashboard: figures for coordinators (the whole city) and practitioners (their own agency)."""
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from conference import audit
from conference.core.downloads import DOCUMENT_FORMATS, XLSX, attachment
from conference.core.formatting import today_local
from conference.dashboard import queries
from conference.dashboard.report import build_docx, build_hwpx, build_xlsx
from conference.models import ActionStatus, MeetingKind, NeedDomain, Stage
from conference.shared import permissions

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
permissions.case_work_only(bp)


@bp.get("")
def index():
    today = today_local()
    year = request.args.get("year", today.year, type=int)
    if not 2000 <= year <= 2100:
        year = today.year
    data = queries.build(current_user, year, current_app.config, today)
    return render_template("dashboard/index.html", data=data, stages=list(Stage), domains=list(NeedDomain),
                           kinds=list(MeetingKind), action_statuses=[s for s in ActionStatus if s != "planned"])


@bp.get("/report.<any(xlsx, docx, hwpx):kind>")
def report(kind):
    """분기별 실적 for a year (and quarter): aggregate figures only, no personal data; the export is logged."""
    today = today_local()
    year = request.args.get("year", today.year, type=int)
    quarter = request.args.get("quarter", type=int)
    if not 2000 <= year <= 2100 or quarter not in (None, 1, 2, 3, 4):
        abort(404)
    data = queries.period_report(current_user, year, quarter, current_app.config, today,
                                 author=current_user.agency.name)
    font = current_app.config["DOCX_FONT"]
    if kind == "xlsx":
        content, mimetype = build_xlsx(data, font=font), XLSX
    else:
        build = build_hwpx if kind == "hwpx" else build_docx
        content, mimetype = build(data, font=font, generated_at=datetime.now(UTC)), DOCUMENT_FORMATS[kind]
    # Aggregate figures only, so no purpose is asked; the download is still logged (in its own short
    # transaction, as every GET that records).
    audit.record_access("report.download", object_type="report", object_id=f"{year}-{quarter or 'all'}",
                        details={"kind": kind})
    return attachment(content, f"{data.title}.{kind}", mimetype, ascii_name=f"{data.ascii_name}.{kind}")
