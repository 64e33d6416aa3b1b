"""What a gunicorn web worker does not load: every module here is for the command line, the
scheduler process or a rare request, and loads on first use (README, "Lighter workers")."""

import json
import subprocess
import sys

from lotsen import ROOT

NOT_IN_A_WEB_WORKER = (
    "alembic",  # `flask db`, tests and scripts only
    "flask_migrate",
    "apscheduler.schedulers",  # the scheduler process (`flask lotsen scheduler`)
    "lotsen.scheduler",
    "smtplib",  # the outbox is sent by the scheduler process (lotsen/notifications/wire.py)
    "email.mime",
    "lotsen.notifications.wire",
    "openpyxl",  # a spreadsheet download or import
    "segno",  # the QR code at two-factor enrolment
    "argon2",  # a login or a password change
    "pyotp",  # a second-factor code
    "holidays",
    "icalendar",
    "phonenumbers",  # a page that shows or reads a phone number
)


def test_a_web_worker_loads_neither_the_command_line_nor_the_scheduler_nor_rare_requests(
    tmp_path,
):
    probe = (
        "import json, sys\n"
        "import gunicorn.app.wsgiapp, gunicorn.workers.sync\n"
        "import wsgi\n"
        f"print(json.dumps(sorted(m for m in {NOT_IN_A_WEB_WORKER!r} if m in sys.modules)))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "LOTSEN_ENV": "production",
        "SECRET_KEY": "s" * 64,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite'}",
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
