"""``flask --app wsgi lotsen backup [DIR]`` and ``lotsen restore FILE [--force]``."""

import click
from flask import current_app

from lotsen.cli import lotsen_cli
from lotsen.db import utcnow
from lotsen.ops.backup import BackupError, backup, migration_heads, restore


@lotsen_cli.command("backup")
@click.argument("directory", required=False)
@click.option("--keep", type=int, help="Backups to keep in DIR (default: BACKUP_KEEP).")
def backup_command(directory, keep):
    """Write a consistent copy of the database into DIR (default: BACKUP_DIR) while the app
    keeps running; keep the newest BACKUP_KEEP copies."""
    directory = directory or current_app.config.get("BACKUP_DIR")
    if not directory:
        raise click.UsageError("Name a directory, or set BACKUP_DIR.")
    try:
        path = backup(directory, utcnow(), keep)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written: {path} ({path.stat().st_size} bytes)")


@lotsen_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
def restore_command(file, force):
    """Restore a backup made by `lotsen backup` into the configured database. Stop the web
    app and the scheduler first."""
    try:
        revision = restore(file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {file} (migration {revision}).")
    if revision not in migration_heads():
        click.echo("The backup is from an older version: run `flask --app wsgi db upgrade` now.")
