"""Backups and restore, for both databases.

SQLite is copied through its online backup API (a consistent snapshot while the app keeps
writing; WAL lets writers go on meanwhile); PostgreSQL through ``pg_dump --format=custom``
(one consistent snapshot by MVCC). Files are named with the UTC time
(``lotsen-20261127-023000.sqlite`` / ``.pgdump``), written under a temporary name and renamed
when complete, and only the newest ``BACKUP_KEEP`` are kept.

Restore checks the copy first (SQLite: ``PRAGMA integrity_check``; PostgreSQL: the archive's
table of contents) and its migration revision (one this code knows), and refuses to write
into a database that has tables unless ``force`` is given.
"""

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from lotsen.extensions import db
from lotsen.jobs import job

NAME = re.compile(r"^lotsen-\d{8}-\d{6}(-\d+)?\.(sqlite|pgdump)$")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("This is an in-memory SQLite database: there is nothing to back up.")
    return url.database


def _pg_target(url) -> tuple[str, str | None]:
    """A libpq URI for the pg_* tools, and the schema named by ``-csearch_path=`` if any."""
    schema = None
    options = url.query.get("options")
    for opt in [options] if isinstance(options, str) else options or []:
        match = re.search(r"-csearch_path=([A-Za-z0-9_]+)", opt)
        if match:
            schema = match.group(1)
    plain = url.set(drivername="postgresql", query={})
    return plain.render_as_string(hide_password=False), schema


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on the PATH. PostgreSQL backups need the PostgreSQL client "
            "tools of the server's major version (Debian/Ubuntu: apt install postgresql-client)."
        )
    return path


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603


def _file_name(directory: Path, now: datetime, suffix: str) -> Path:
    stem = f"lotsen-{now:%Y%m%d-%H%M%S}"
    path, n = directory / f"{stem}.{suffix}", 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.{suffix}"
    return path


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (by the time in their names)."""
    backups = sorted(p for p in directory.iterdir() if NAME.match(p.name))
    old = backups[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def backup(directory: str | Path, now: datetime, keep: int | None = None) -> Path:
    """Write a consistent copy of the database into ``directory``; returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    url = _url()
    if url.get_backend_name() == "sqlite":
        target = _file_name(directory, now, "sqlite")
        partial = target.with_name(target.name + ".partial")
        source = sqlite3.connect(_sqlite_path(url), timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # all pages in one step: one consistent snapshot
        finally:
            copy.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        pg_dump = _pg_tool("pg_dump")
        uri, schema = _pg_target(url)
        target = _file_name(directory, now, "pgdump")
        partial = target.with_name(target.name + ".partial")
        args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
        if schema:
            args.append(f"--schema={schema}")
        done = _run([*args, f"--dbname={uri}"])
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    else:
        raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
    os.replace(partial, target)
    prune(directory, current_app.config["BACKUP_KEEP"] if keep is None else keep)
    return target


@job("backup")
def nightly_backup(now: datetime) -> str:
    directory = current_app.config.get("BACKUP_DIR")
    if not directory:
        return "BACKUP_DIR is not set: no backup made"
    return str(backup(directory, now))


def _scripts():
    # Alembic (~10 MB) on first use: web workers import this module (the scheduler's job
    # registry) but never look at migrations.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def migration_heads() -> list[str]:
    return list(_scripts().get_heads())


def _known_revision(revision: str | None) -> None:
    scripts = _scripts()
    heads = scripts.get_heads()
    if revision is None:
        raise BackupError("The file is not a Lotsen backup: it has no migration revision.")
    if revision not in {s.revision for s in scripts.walk_revisions()}:
        raise BackupError(
            f"The backup is at migration {revision}, which this version of Lotsen does not know "
            f"(its newest is {', '.join(heads)}). Restore it with the Lotsen version that made it."
        )


def _sqlite_revision(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from exc
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems = "; ".join(r[0] for r in result[:3])
            raise BackupError(f"{path} is damaged (integrity check: {problems}). Not restored.")
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{path} is not a readable SQLite database ({exc}). Not restored."
        ) from exc
    finally:
        conn.close()


def _pg_revision(path: Path, schema: str) -> str | None:
    pg_restore = _pg_tool("pg_restore")
    listed = _run([pg_restore, "--list", str(path)])
    if listed.returncode != 0:
        raise BackupError(
            f"{path} is not a readable pg_dump archive ({listed.stderr.strip()}). Not restored."
        )
    schemas = set(re.findall(r"^\d+; \d+ \d+ TABLE (\S+) ", listed.stdout, re.MULTILINE))
    if schemas and schema not in schemas:
        # pg_restore writes into the schema named in the archive, whatever the URL says
        raise BackupError(
            f"{path} holds the schema {', '.join(sorted(schemas))}, but this database uses "
            f"{schema}. Not restored."
        )
    whole = _run([pg_restore, "--file=/dev/null", str(path)])  # reads every data block
    if whole.returncode != 0:
        raise BackupError(f"{path} is damaged ({whole.stderr.strip()}). Not restored.")
    data = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)])
    if data.returncode != 0:
        raise BackupError(f"{path} is damaged ({data.stderr.strip()}). Not restored.")
    lines = data.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value == "\\." else value
    return None


def _existing_tables() -> list[str]:
    return [t for t in inspect(db.engine).get_table_names() if not t.startswith("sqlite_")]


def restore(path: str | Path, force: bool = False) -> str:
    """Replace the (empty) database with the backup at ``path``; returns its revision."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    url = _url()
    backend = url.get_backend_name()
    if backend == "sqlite":
        revision = _sqlite_revision(path)
    elif backend == "postgresql":
        revision = _pg_revision(path, _pg_target(url)[1] or "public")
    else:
        raise BackupError(f"Restoring into {backend} databases is not supported.")
    _known_revision(revision)
    tables = _existing_tables()
    if tables and not force:
        raise BackupError(
            f"The database is not empty ({len(tables)} tables). Restoring would replace "
            "everything in it; stop the web app and the scheduler and run again with --force."
        )
    db.session.remove()
    db.engine.dispose()
    if backend == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        uri, _schema = _pg_target(url)
        args = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            args += ["--clean", "--if-exists"]
        done = _run([*args, "--single-transaction", f"--dbname={uri}", str(path)])
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed; nothing changed: {done.stderr.strip()}")
    return revision
