"""Upload of the discovery list: upload → preview (errors, repeats) → confirm, all or nothing."""
import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from conference import audit
from conference.cases import imports
from conference.cases.forms import ImportUploadForm
from conference.cases.import_template import template_csv, template_xlsx
from conference.cases.importer import ImportRow, guide_with_config, parse_with_config
from conference.cases.views import bp
from conference.core.downloads import attachment
from conference.core.formatting import today_local
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.models import ImportBatch
from conference.shared.permissions import can_register_cases, require
from conference.shared.webforms import commit_change


def _parse_upload(storage):
    config = current_app.config
    data = storage.stream.read(config["IMPORT_MAX_BYTES"] + 1)
    return parse_with_config(data, storage.filename or "", config, today_local())


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    require(can_register_cases(current_user))
    form = ImportUploadForm()
    parsed = None
    if form.validate_on_submit():
        parsed = _parse_upload(form.file.data)
        if parsed.file_problem:  # its size, format or a limit: said next to the field, as a form error would be
            form.file.errors = [*form.file.errors, *(str(error) for error in parsed.errors)]
        if parsed.ok:
            _discard_pending_uploads()
            batch = ImportBatch(uploaded_by_id=current_user.id, filename=(form.file.data.filename or "")[:200],
                                payload=json.dumps({"rows": [row.to_json() for row in parsed.rows],
                                                    "warnings": [[w.row, w.column, str(w.message)]
                                                                 for w in parsed.warnings]}, ensure_ascii=False))
            db.session.add(batch)
            db.session.flush()
            audit.record("import.upload", batch, details={"filename": batch.filename, "rows": len(parsed.rows)})
            db.session.commit()
            return redirect(url_for("cases.import_preview", batch_id=batch.id))
    return render_template("cases/import_upload.html", form=form, parsed=parsed,
                           guide=guide_with_config(current_app.config))


#: The blank form in each format: its builder, file name and media type.
TEMPLATES = {
    "csv": (template_csv, "발굴명단_양식.csv", "text/csv; charset=utf-8"),
    "xlsx": (template_xlsx, "발굴명단_양식.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@bp.get("/import/template.<any(csv, xlsx):kind>")
def import_template(kind):
    """The header row and one example row that the import accepts, to fill in (coordinators, as the import)."""
    require(can_register_cases(current_user))
    build, filename, mimetype = TEMPLATES[kind]
    return attachment(build(guide_with_config(current_app.config)), filename, mimetype)


def _discard_pending_uploads():
    """A new upload replaces the user's unconfirmed ones, so their personal data does not linger."""
    for old in db.session.execute(db.select(ImportBatch).where(
            ImportBatch.uploaded_by_id == current_user.id, ImportBatch.status == "pending")).scalars():
        old.status, old.payload = "replaced", ""


def _pending_batch(batch_id: int) -> ImportBatch:
    """The uploader's own batch that still waits for confirmation."""
    batch = db.get_or_404(ImportBatch, batch_id)
    if batch.uploaded_by_id != current_user.id or batch.status != "pending":
        abort(404)
    return batch


@bp.route("/import/<int:batch_id>", methods=["GET", "POST"])
def import_preview(batch_id):
    require(can_register_cases(current_user))
    batch = _pending_batch(batch_id)
    payload = json.loads(batch.payload)
    rows = [ImportRow.from_json(item) for item in payload["rows"]]
    repeats = imports.find_repeats(rows)
    error = None
    chosen = request.form.to_dict()
    choose_all = request.form.get("choose_all")
    if request.method == "POST" and choose_all is not None:
        # 모두 병합 / 모두 유지: every repeat's choice is set on the preview again; nothing is saved yet.
        chosen = imports.decide_all(repeats, choose_all, chosen)
    elif request.method == "POST":
        decisions = {row: request.form.get(f"decision-{row}", "") for row in repeats}

        def import_batch():
            result = imports.import_rows(rows, decisions, by=current_user, discovered_on=today_local(),
                                         filename=batch.filename)
            batch.status, batch.payload = "imported", ""
            return result

        imported = commit_change(import_batch, quiet=True, success=lambda result: _(
            "가구 %(created)s건을 등록하고 %(merged)s건을 기존 사례에 합쳤습니다.",
            created=len(result.created), merged=len(result.merged_rows)))
        if imported:
            return redirect(url_for("cases.index"))
        batch = _pending_batch(batch_id)
        error = imported.error.message
    return render_template("cases/import_preview.html", batch=batch, rows=rows, repeats=repeats,
                           warnings=payload["warnings"], error=error, decisions=chosen)


@bp.post("/import/<int:batch_id>/cancel")
def import_cancel(batch_id):
    require(can_register_cases(current_user))
    batch = _pending_batch(batch_id)
    batch.status, batch.payload = "cancelled", ""
    audit.record("import.cancel", batch, details={"filename": batch.filename})
    db.session.commit()
    flash(_("가져오기를 취소했습니다. 아무것도 저장하지 않았습니다."), "info")
    return redirect(url_for("cases.import_upload"))
