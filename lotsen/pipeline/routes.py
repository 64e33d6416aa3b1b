from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from lotsen import clock
from lotsen.access import HOUSEHOLD_ROLES, allow, get_household_or_404
from lotsen.extensions import db
from lotsen.households.forms import StageForm
from lotsen.households.pages import filter_form, filters_of
from lotsen.households.services import HouseholdError, change_stage
from lotsen.households.vocab import Stage, label
from lotsen.pipeline import (
    exports,
    tasks,  # noqa: F401  (registers the weekly-summary job)
)
from lotsen.pipeline.board import board as board_columns
from lotsen.pipeline.charts import bar_chart
from lotsen.pipeline.figures import Scope, funder_report, quarter_of
from lotsen.pipeline.figures import dashboard as dashboard_figures
from lotsen.pipeline.forms import BoardFilterForm, DashboardFilterForm, ExportForm, ReportForm
from lotsen.pipeline.history import LADDER
from lotsen.regions.models import all_municipalities
from lotsen.urls import query_args

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(content: bytes, fmt: str, name: str) -> Response:
    return Response(
        content,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def list_url():
    """A builder of links to the household list with the given filters: the dashboard has
    a couple of hundred, and building each through the URL map was a tenth of the page."""
    base = url_for("households.index")

    def households_url(**filters) -> str:
        query = urlencode([(k, v) for k, v in filters.items() if v is not None])
        return f"{base}?{query}" if query else base

    return households_url


@bp.route("")
@allow(*HOUSEHOLD_ROLES)
def dashboard():
    municipalities = all_municipalities()
    form = DashboardFilterForm(request.args, municipalities=municipalities)
    if not form.validate():
        return render_template("pipeline/dashboard.html", form=form, d=None), 400
    since, until = form.period(clock.now())
    scope = Scope(current_user, since, until, form.municipality.data, form.source.data)
    d = dashboard_figures(scope)
    narrow = {"municipality": scope.municipality, "source": scope.source}
    narrow = {k: v for k, v in narrow.items() if v}
    households_url = list_url()
    charts = {
        "new": bar_chart(
            [
                (b.label, n, households_url(reached="new", since=b.since, until=b.until, **narrow))
                for b, n in d.new_per_month
            ]
        ),
        "moved": bar_chart(
            [
                (
                    b.label,
                    m.households,
                    households_url(reached="moved_in", since=b.since, until=b.until, **narrow),
                )
                for b, m in d.moved_per_quarter
            ]
        ),
    }
    return render_template(
        "pipeline/dashboard.html",
        form=form,
        d=d,
        charts=charts,
        households_url=households_url,
        narrow=narrow,
        names={m.code: m.name for m in municipalities},
        since=since,
        until=until,
        today=clock.today(),
        stages=list(Stage),
        ladder=LADDER,
        row_codes=scope.row_codes() or [m.code for m in municipalities],
        zip=zip,
    )


@bp.route("/board")
@allow(*HOUSEHOLD_ROLES)
def board():
    return render_board()


def render_board(status: int = 200, form: StageForm | None = None, failed_id: int | None = None):
    municipalities = all_municipalities()
    filters = BoardFilterForm(request.args, municipalities=municipalities)
    if not filters.validate():
        status = 400
        columns = []
    else:
        columns = board_columns(current_user, filters.municipality.data, bool(filters.mine.data))
    return render_template(
        "pipeline/board.html",
        filters=filters,
        columns=columns,
        names={m.code: m.name for m in municipalities},
        move_form=StageForm(formdata=None),
        failed_form=form,
        failed_id=failed_id,
    ), status


@bp.route("/board/<int:household_id>/move", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def move(household_id: int):
    """Move a household on the board: records the stage change (closing needs a reason)."""
    household = get_household_or_404(household_id)
    form = StageForm()
    if not form.validate():
        return render_board(400, form, household.id)
    try:
        change = change_stage(
            household, form.stage.data, current_user, form.close_reason.data, form.comment.data
        )
    except HouseholdError as exc:
        form.close_reason.errors = [*form.close_reason.errors, str(exc)]
        return render_board(400, form, household.id)
    db.session.commit()
    if change:
        flash(
            _("%(name)s moved to %(stage)s.", name=household.name, stage=label(household.stage)),
            "success",
        )
    board = url_for("pipeline.board", **query_args(BoardFilterForm.KEYS))
    return redirect(f"{board}#card-{household.id}")


@bp.route("/report")
@allow(*HOUSEHOLD_ROLES)
def report():
    form, r, headings, rows = _report_request()
    if r is None:
        return render_template("pipeline/report.html", form=form, r=None), 400
    return render_template("pipeline/report.html", form=form, r=r, headings=headings, rows=rows)


def _report_request():
    """The report form from the query string and, when valid, the report and its rows."""
    municipalities = all_municipalities()
    form = ReportForm(request.args, municipalities=municipalities)
    if not form.validate():
        return form, None, None, None
    r = _report(form)
    headings, rows = exports.report_rows(r, {m.code: m.name for m in municipalities})
    return form, r, headings, rows


def _report(form: ReportForm):
    year, quarter = quarter_of(clock.today())
    return funder_report(
        current_user,
        form.year.data or year,
        form.quarter.data or quarter,
        form.municipality.data,
        form.source.data,
    )


@bp.route("/report/export")
@allow(*HOUSEHOLD_ROLES)
def report_export():
    form, r, headings, rows = _report_request()
    if r is None:
        return render_template("pipeline/report.html", form=form, r=None), 400
    fmt = form.format.data
    name = f"lotsen-report-{r.year}-Q{r.quarter}"
    content = (
        exports.to_csv(headings, rows)
        if fmt == "csv"
        else exports.to_xlsx(f"{r.year} Q{r.quarter}", headings, rows)
    )
    filters = {"year": r.year, "quarter": r.quarter, "municipality": form.municipality.data}
    filters["source"] = form.source.data
    exports.log_export(current_user, "funder_report", fmt, filters, len(rows))
    db.session.commit()
    return _download(content, fmt, name)


@bp.route("/export")
@allow(*HOUSEHOLD_ROLES)
def export_households():
    """The household list with its filters (the same query string) as CSV or XLSX."""
    form = filter_form()
    fmt_form = ExportForm(request.args)
    if not form.validate() or not fmt_form.validate():
        return render_template("households/index.html", form=form, page=None), 400
    filters = filters_of(form)
    total = exports.count_for_export(current_user, filters)
    if total > exports.EXPORT_MAX:
        flash(
            _(
                "More than %(n)s households match: narrow the filters to export them.",
                n=format_decimal(exports.EXPORT_MAX),
            ),
            "error",
        )
        return redirect(url_for("households.index", **query_args(f.name for f in form))), 303
    headings, rows = exports.household_rows(current_user, filters)
    fmt = fmt_form.format.data
    content = (
        exports.to_csv(headings, rows)
        if fmt == "csv"
        else exports.to_xlsx(_("Households"), headings, rows)
    )
    logged = {f.name: str(f.data) for f in form if f.name != "page" and f.data}
    exports.log_export(current_user, "households", fmt, logged, total)
    db.session.commit()
    return _download(content, fmt, f"lotsen-households-{clock.today().isoformat()}")
