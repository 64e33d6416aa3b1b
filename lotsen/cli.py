"""``flask --app wsgi lotsen ...`` commands; each calls the features' service functions."""

import contextlib

import click
from flask import current_app
from flask.cli import AppGroup

from lotsen.accounts.models import Role
from lotsen.accounts.services import AccountError, create_user
from lotsen.extensions import db

lotsen_cli = AppGroup("lotsen", help="Lotsen administration commands.")


@lotsen_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--municipality", "municipality_code", help="Municipality code (guides).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", default="sv", type=click.Choice(["sv", "en"]))
def create_user_command(email, name, role, municipality_code, password, locale):
    """Create a staff account."""
    try:
        user = create_user(
            email=email,
            name=name,
            role=Role(role),
            password=password,
            municipality_code=municipality_code,
            locale=locale,
        )
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@lotsen_cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor_command(email):
    """Turn a user's two-factor login off (phone and recovery codes lost); they set it up
    again at their next login when their role requires it."""
    from sqlalchemy import select

    from lotsen.accounts import two_factor
    from lotsen.accounts.models import User
    from lotsen.accounts.services import normalise_email

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account with the e-mail address {email}.")
    two_factor.reset(user)
    db.session.commit()
    click.echo(f"Two-factor login of {user.email} is off; their sessions have ended.")


@lotsen_cli.command("run-job")
@click.argument("name")
@click.option("--at", "at", help="Run as if it were this moment (ISO 8601, default: now).")
def run_job_command(name, at):
    """Run one scheduler job once: dispatch-outbox, due-reminders, evaluate-rules,
    daily-digest."""
    from datetime import UTC, datetime

    from lotsen import jobs, scheduler  # noqa: F401  (scheduler registers every job)

    if name not in jobs.JOBS:
        raise click.BadParameter(f"choose one of {', '.join(sorted(jobs.JOBS))}", param_hint="NAME")
    now = None
    if at:
        now = datetime.fromisoformat(at)
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    result = jobs.run(name, now)
    click.echo(f"{name}: {'skipped (another process runs it)' if result is None else result}")


@lotsen_cli.command("import-jobs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--snapshot", is_flag=True, help="The file holds every current ad: archive ours not in it."
)
def import_jobs_command(file, snapshot):
    """Import job ads from a JobTech JobSearch or JobStream JSON file."""
    from lotsen.matching.jobtech import JobTechError, import_file

    try:
        counts = import_file(file, snapshot=snapshot)
    except JobTechError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@lotsen_cli.command("scheduler")
def scheduler_command():
    """Run the scheduler process (one per installation, beside the web workers)."""
    from flask import current_app

    from lotsen.scheduler import build_scheduler

    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("Scheduler started: " + ", ".join(job.id for job in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


@lotsen_cli.command("seed-demo")
@click.option("--households", default=300, show_default=True)
def seed_demo_command(households):
    """Fill an empty database with a demo region (a second run changes nothing)."""
    from lotsen.demo import DEMO_PASSWORD, seed_demo

    if current_app.config["LOTSEN_ENV"] == "production":
        raise click.ClickException(
            "seed-demo refuses to run in production: its accounts share a published password."
        )

    logins = seed_demo(households)
    if logins is None:
        click.echo("Demo data already present: nothing changed.")
        return
    db.session.commit()
    click.echo(f"Demo region created. Every demo account has the password: {DEMO_PASSWORD}")
    for email, role, place in logins:
        click.echo(f"  {role:<12} {email:<40} {place}")
    click.echo(
        "Coordinators, admins and communicators set up two-factor login (an authenticator "
        "app) at their first login; guides may (TOTP_REQUIRED_ROLES)."
    )
