"""Import of households from spreadsheets: upload, map columns, preview, import, undo."""

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lotsen.access import (
    HOUSEHOLD_ROLES,
    allow,
    get_import_batch_or_404,
    importable_municipalities,
)
from lotsen.accounts.models import Role
from lotsen.audit import record_view
from lotsen.extensions import db
from lotsen.imports.files import FileError
from lotsen.imports.forms import DUPLICATE_ACTIONS, RunForm, UploadForm, mapping_form
from lotsen.imports.models import ImportBatch
from lotsen.imports.rows import FIELDS
from lotsen.imports.services import (
    ACTIONS,
    ImportError_,
    earlier_imports,
    plan_import,
    run_import,
    save_mapping,
    summary,
    upload,
)
from lotsen.imports.undo import undo_import
from lotsen.regions.models import all_municipalities

bp = Blueprint("imports", __name__, url_prefix="/imports")
PREVIEW_NEW_ROWS = 20


def _outcome_labels() -> dict[str, str]:
    return {
        "created": _("created"),
        "attached": _("attached"),
        "skipped": _("skipped"),
        "invalid": _("invalid"),
    }


def _render_index(form: UploadForm, status: int = 200):
    query = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(50)
    if current_user.role != Role.COORDINATOR:
        query = query.where(ImportBatch.user_id == current_user.id)
    batches = list(db.session.scalars(query))
    return render_template("imports/index.html", form=form, batches=batches), status


@bp.route("", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def index():
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_index(form, 400 if form.is_submitted() else 200)
    file = form.file.data
    try:
        batch = upload(current_user, file.filename or "", file.read())
    except FileError as exc:
        form.file.errors.append(str(exc))
        return _render_index(form, 400)
    db.session.commit()
    return redirect(url_for("imports.mapping", batch_id=batch.id))


def _mapping_form(batch: ImportBatch, formdata=None):
    allowed = importable_municipalities(current_user)
    municipalities = [m for m in all_municipalities() if allowed is None or m.code in allowed]
    return mapping_form(batch.header, municipalities, allow_none=allowed is None, formdata=formdata)


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def mapping(batch_id: int):
    batch = get_import_batch_or_404(batch_id)
    if batch.status != "draft":
        return redirect(url_for("imports.report", batch_id=batch.id))
    form = _mapping_form(batch, formdata=request.form if request.method == "POST" else None)
    columns = [f"col_{i}" for i in range(len(batch.header))]
    if request.method == "GET":
        for name, value in zip(columns, batch.mapping["columns"], strict=True):
            form[name].data = value
        form.municipality.data = (batch.options or {}).get("municipality")
        form.source.data = (batch.options or {}).get("source")
    elif form.validate():
        try:
            save_mapping(
                batch,
                current_user,
                [form[name].data or "" for name in columns],
                {"municipality": form.municipality.data, "source": form.source.data},
            )
        except ImportError_ as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            return redirect(url_for("imports.preview", batch_id=batch.id))
    samples = batch.rows[:3]
    html = render_template(
        "imports/mapping.html", batch=batch, form=form, columns=columns, samples=samples
    )
    return html, 400 if form.errors or form.form_errors else 200


@bp.route("/<int:batch_id>/preview", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def preview(batch_id: int):
    batch = get_import_batch_or_404(batch_id)
    if batch.status != "draft":
        return redirect(url_for("imports.report", batch_id=batch.id))
    form = RunForm()
    if form.validate_on_submit():
        decisions = {}
        for key, value in request.form.items():
            if key.startswith("row-") and key[4:].isdigit() and value in ACTIONS:
                decisions[int(key[4:])] = value
        try:
            counts = run_import(batch, current_user, decisions, default=form.duplicates.data)
        except ImportError_ as exc:
            flash(str(exc), "error")
            return redirect(url_for("imports.report", batch_id=batch.id))
        db.session.commit()
        flash(
            _(
                "Imported: %(created)d created, %(attached)d attached, %(skipped)d skipped, "
                "%(invalid)d invalid.",
                **counts,
            ),
            "success",
        )
        return redirect(url_for("imports.report", batch_id=batch.id))
    plans = plan_import(batch, current_user)
    shown = [p for p in plans if p.status != "new"]
    shown += [p for p in plans if p.status == "new"][:PREVIEW_NEW_ROWS]
    shown.sort(key=lambda p: p.row.number)
    return render_template(
        "imports/preview.html",
        batch=batch,
        form=form,
        plans=shown,
        counts=summary(plans),
        total=len(plans),
        earlier=earlier_imports(batch),
        actions=DUPLICATE_ACTIONS,
        fields=FIELDS,
    ), 400 if form.errors else 200


@bp.route("/<int:batch_id>")
@allow(*HOUSEHOLD_ROLES)
def report(batch_id: int):
    batch = get_import_batch_or_404(batch_id)
    if batch.status == "draft":
        return redirect(url_for("imports.preview", batch_id=batch.id))
    return render_template("imports/report.html", batch=batch, outcomes=_outcome_labels())


def _safe(value) -> str:
    """A cell a spreadsheet shows as text: no formula from what an uploaded file said."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/<int:batch_id>/report.csv")
@allow(*HOUSEHOLD_ROLES)
def report_csv(batch_id: int):
    batch = get_import_batch_or_404(batch_id)
    outcomes = _outcome_labels()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # what Swedish Excel opens without asking
    writer.writerow([_("Row"), _("Outcome"), _("Household"), _("Undone"), _("Message")])
    for row in batch.results:
        writer.writerow(
            [
                row.row_number,
                outcomes.get(row.outcome, row.outcome),
                row.household_id or "",
                _("yes") if row.undone else "",
                _safe(row.message or ""),
            ]
        )
    record_view(
        "export.import_report",
        by=current_user,
        target=f"import:{batch.id}",
        changes={"format": "csv", "rows": len(batch.results)},
        wait_for_disk=True,
    )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{batch.id}-report.csv"'},
    )


@bp.route("/<int:batch_id>/undo", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def undo(batch_id: int):
    batch = get_import_batch_or_404(batch_id)
    try:
        done, refused = undo_import(batch, current_user)
    except ImportError_ as exc:
        flash(str(exc), "error")
        return redirect(url_for("imports.report", batch_id=batch.id))
    db.session.commit()
    if refused:
        flash(
            _(
                "%(done)d rows undone; %(refused)d households were kept because they have "
                "changed since the import (see the rows below).",
                done=done,
                refused=refused,
            ),
            "warning",
        )
    else:
        flash(_("The import has been undone: %(done)d rows.", done=done), "success")
    return redirect(url_for("imports.report", batch_id=batch.id))
