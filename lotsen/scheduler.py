"""The scheduler process (``flask --app wsgi lotsen scheduler``): APScheduler 3 running the
jobs, in one dedicated process — never inside the web workers.

Every job coalesces missed runs into one and may start up to
``SCHEDULER_MISFIRE_GRACE_SECONDS`` late (after downtime: one digest, not seven). The digest
is a cron trigger in Europe/Stockholm, so daylight-saving changes neither move nor double
it; its outbox key (user and date) would catch a double run anyway.
"""

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from lotsen import clock, jobs
from lotsen.events import reminders as event_reminders  # noqa: F401  (registers event-reminders)
from lotsen.followups import notify, rules  # noqa: F401  (registers their jobs)
from lotsen.interest import services as interest_services  # noqa: F401
from lotsen.jobs import triggers
from lotsen.matching import jobtech  # noqa: F401  (registers import-jobtech)
from lotsen.notifications import services  # noqa: F401  (registers dispatch-outbox)
from lotsen.ops import backup  # noqa: F401  (registers the nightly backup)
from lotsen.pipeline import tasks as pipeline_tasks  # noqa: F401  (registers weekly-summary)
from lotsen.privacy import disposal  # noqa: F401  (registers the nightly dispose)
from lotsen.workdays import STOCKHOLM

log = logging.getLogger(__name__)


def missed_at_start(config, now: datetime) -> list[str]:
    """Jobs to run once at start-up because their time today passed while the process was
    down, within the grace time (the scheduler keeps no state between runs)."""
    hour, minute = (int(x) for x in config["SCHEDULER_DIGEST_TIME"].split(":"))
    local = now.astimezone(STOCKHOLM)
    digest_at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    grace = timedelta(seconds=config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
    return ["daily-digest"] if digest_at <= local <= digest_at + grace else []


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=STOCKHOLM,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )

    def runner(name):
        def run():
            with app.app_context():
                try:
                    jobs.run(name)
                except Exception:  # noqa: BLE001 - logged by jobs.run; the scheduler goes on
                    log.warning("job %s failed; it runs again at its next time", name)

        return run

    planned = triggers(app.config)
    for name, trigger in planned.items():
        scheduler.add_job(runner(name), trigger, id=name, name=name, replace_existing=True)
    with app.app_context():
        jobs.mark_scheduled(planned, clock.now())
    for name in missed_at_start(app.config, clock.now()):
        scheduler.add_job(runner(name), id=f"{name}-catch-up", name=f"{name} (catch-up)")
    return scheduler
