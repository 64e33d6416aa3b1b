from flask import Blueprint, current_app, render_template
from flask_babel import format_timedelta
from flask_babel import gettext as _

from lotsen.access import allow
from lotsen.accounts.models import Role
from lotsen.db import utcnow
from lotsen.ops.health import JobHealth, job_health, outbox_backlog

bp = Blueprint("ops", __name__, url_prefix="/admin/scheduler")


def schedule_label(job: JobHealth) -> str:
    if job.interval_job:
        return _("every %(duration)s", duration=format_timedelta(job.period))
    if job.name == "daily-digest":
        return _("at %(time)s on working days", time=current_app.config["SCHEDULER_DIGEST_TIME"])
    if job.name == "backup":
        return _("daily at %(time)s", time=current_app.config["BACKUP_TIME"])
    return _("every %(duration)s", duration=format_timedelta(job.period))


@bp.route("")
@allow(Role.ADMIN)
def health():
    now = utcnow()
    backlog = outbox_backlog(now)
    age = backlog["oldest_pending_age"]
    return render_template(
        "ops/health.html",
        jobs=job_health(current_app.config, now),
        backlog=backlog,
        oldest_age=format_timedelta(age) if age is not None else None,
        now=now,
        schedule_label=schedule_label,
    )
