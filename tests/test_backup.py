"""Backups while the app writes, and restore into a fresh database, on SQLite and PostgreSQL
(through the real pg_dump / pg_restore)."""

import shutil
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from lotsen import create_app, jobs
from lotsen.accounts.models import User
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.ops.backup import BackupError, backup, restore
from lotsen.scheduler import triggers
from tests import factories
from tests.conftest import IN_CI, PG_URL, _postgres_schema_url, make_config

NIGHT = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)


class Databases:
    """Throw-away databases of one kind, each with its own app; all dropped at the end."""

    def __init__(self, kind: str, tmp_path):
        self.kind, self.tmp_path, self.apps, self.cleanups = kind, tmp_path, [], []
        self.schema = None

    def empty(self, migrated=False, **config):
        """An app on a new database (PostgreSQL: a new database, with the schema name of the
        first migrated one, as a restored backup keeps its schema); ``migrated``: with the
        tables, but no rows."""
        if self.kind == "sqlite":
            url = f"sqlite:///{self.tmp_path / uuid.uuid4().hex}.sqlite"
        else:
            name = f"lotsen_restore_{uuid.uuid4().hex[:12]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            if migrated:
                engine = create_engine(f"{PG_URL.rsplit('/', 1)[0]}/{name}")
                with engine.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
                engine.dispose()
            base = PG_URL.rsplit("/", 1)[0]
            url = f"{base}/{name}?options=-csearch_path%3D{self.schema}"

            def drop(admin=admin, name=name):
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()

            self.cleanups.append(drop)
        app = self._app(url, config)
        if migrated:
            with app.app_context():
                upgrade()
        return app

    def migrated(self, **config):
        """An app on a new database with the schema (PostgreSQL: a new schema of `test`)."""
        if self.kind == "sqlite":
            url = f"sqlite:///{self.tmp_path / uuid.uuid4().hex}.sqlite"
        else:
            admin, schema, url = _postgres_schema_url()
            self.schema = self.schema or schema

            def drop(admin=admin, schema=schema):
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

            self.cleanups.append(drop)
        app = self._app(url, config)
        with app.app_context():
            upgrade()
        return app

    def _app(self, url, config):
        app = create_app(make_config(url, **config))
        self.apps.append(app)
        return app

    def close(self):
        for app in self.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        for cleanup in reversed(self.cleanups):
            cleanup()


@pytest.fixture
def dbs(database, tmp_path):
    """``database`` only chooses the kind (sqlite / postgresql) here."""
    kind = "sqlite" if database.startswith("sqlite") else "postgresql"
    if kind == "postgresql" and shutil.which("pg_dump") is None:
        message = "pg_dump is missing (apt install postgresql-client): PostgreSQL backups skipped"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    databases = Databases(kind, tmp_path)
    yield databases
    databases.close()


def seed(app) -> tuple[int, int]:
    with app.app_context():
        region = factories.Region.create()
        household = factories.household(guide=region.norsjo_guide)
        db.session.commit()
        return household.id, region.norsjo_guide.id


def contact_ids(app) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(select(Contact.id)))
        db.session.remove()
        return ids


def test_backup_under_load_restores_every_committed_row(dbs, tmp_path):
    from lotsen.contacts.services import log_contact

    source = dbs.migrated()
    household_id, guide_id = seed(source)
    committed: list[int] = []
    lock, stop = threading.Lock(), threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            with source.app_context():
                household = db.session.get(Household, household_id)
                guide = db.session.get(User, guide_id)
                while not stop.is_set():
                    contact, _ = log_contact(
                        household, guide, channel="phone", direction="out", summary="Samtal"
                    )
                    db.session.commit()
                    with lock:
                        committed.append(contact.id)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(committed) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        with lock:
            before = set(committed)
        with source.app_context():
            path = backup(tmp_path / "backups", NIGHT)
        with lock:
            after = set(committed)
        time.sleep(0.2)  # the app goes on writing after the backup
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(before) >= 50 and len(committed) > len(before)
    assert path.name == f"lotsen-20261127-013000.{'sqlite' if dbs.kind == 'sqlite' else 'pgdump'}"

    fresh = dbs.empty()
    with fresh.app_context():
        revision = restore(path)
    assert revision == "0013_job_health" or revision  # a known revision
    restored = contact_ids(fresh)
    assert before <= restored <= after  # every row committed before the backup started
    assert restored == {i for i in after if i <= max(restored)}  # one consistent snapshot
    with fresh.app_context():
        assert db.session.get(Household, household_id) is not None
        db.session.remove()


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(dbs, tmp_path):
    source = dbs.migrated()
    seed(source)
    with source.app_context():
        path = backup(tmp_path, NIGHT)
    other = dbs.empty(migrated=True)
    with other.app_context(), pytest.raises(BackupError, match="not empty"):
        restore(path)
    assert contact_ids(other) == set()
    with other.app_context():
        restore(path, force=True)
        assert db.session.scalar(select(Household.id)) is not None
        db.session.remove()
    if dbs.kind == "postgresql":  # a dump restores into its own schema: refused elsewhere
        elsewhere = dbs.migrated()
        with elsewhere.app_context(), pytest.raises(BackupError, match="holds the schema"):
            restore(path, force=True)


def corrupt(path, kind):
    data = bytearray(path.read_bytes())
    if kind == "sqlite":
        # scribble over the pages after the schema page: the tables' b-trees break
        for i in range(4096 * 2, min(len(data), 4096 * 12), 7):
            data[i] = (data[i] + 91) % 256
    else:
        data = data[: len(data) * 2 // 3]  # cut off: the data blocks end mid-way
    path.write_bytes(bytes(data))


def test_a_damaged_or_foreign_file_is_refused_with_a_clear_message(dbs, tmp_path):
    source = dbs.migrated()
    seed(source)
    with source.app_context():
        path = backup(tmp_path, NIGHT)
    corrupt(path, dbs.kind)
    fresh = dbs.empty()
    with fresh.app_context():
        with pytest.raises(BackupError, match="damaged|not a readable"):
            restore(path)
        foreign = tmp_path / "notes.txt"
        foreign.write_text("Inga säkerhetskopior här.\n" * 200)
        with pytest.raises(BackupError, match="not a readable"):
            restore(foreign)
        with pytest.raises(BackupError, match="does not exist"):
            restore(tmp_path / "missing.sqlite")
        db.session.remove()


def test_backup_and_restore_commands(dbs, tmp_path, monkeypatch):
    source = dbs.migrated()
    seed(source)
    runner = source.test_cli_runner()
    result = runner.invoke(args=["lotsen", "backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "Backup written:" in result.output
    (path,) = (tmp_path / "b").iterdir()
    result = runner.invoke(args=["lotsen", "restore", str(path)])
    assert result.exit_code == 1 and "not empty" in result.output
    fresh = dbs.empty()
    result = fresh.test_cli_runner().invoke(args=["lotsen", "restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    if dbs.kind == "postgresql":
        monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
        result = runner.invoke(args=["lotsen", "backup", str(tmp_path / "c")])
        assert result.exit_code == 1
        assert "pg_dump was not found on the PATH" in result.output
        assert "postgresql-client" in result.output


@pytest.mark.sqlite_only
def test_only_the_newest_backups_are_kept_and_the_nightly_job_writes_one(dbs, tmp_path):
    app = dbs.migrated(BACKUP_DIR=str(tmp_path / "nightly"), BACKUP_KEEP=2)
    assert "backup" in triggers(app.config)
    with app.app_context():
        for day in range(4):
            jobs.run("backup", NIGHT + timedelta(days=day))
        db.session.remove()
    names = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    assert names == ["lotsen-20261129-013000.sqlite", "lotsen-20261130-013000.sqlite"]
    assert "backup" not in triggers(dbs.migrated().config)
