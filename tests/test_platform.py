"""Configuration, database setup, health check, error handling."""

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from config import DEV_SECRET_KEY, ProductionConfig, _database_url
from lotsen import create_app
from lotsen.db import include_object
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.security import InsecureConfiguration
from tests import factories
from tests.conftest import login, make_config


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, db.metadata) == []


def test_search_index_exists(app):
    with app.app_context(), db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM sqlite_master WHERE name = 'household_fts'"
        else:
            sql = (
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_household_search' "
                "AND schemaname = current_schema()"
            )
        assert conn.execute(text(sql)).scalar() == 1


@pytest.mark.parametrize("key", [None, "", "short", DEV_SECRET_KEY])
def test_production_refuses_a_weak_secret_key(key):
    config = type(
        "P", (ProductionConfig,), {"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    with pytest.raises(InsecureConfiguration):
        create_app(config)


def test_production_sets_secure_cookies():
    config = type(
        "P", (ProductionConfig,), {"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_database_url_picks_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/lotsen")
    assert _database_url() == "postgresql+psycopg://u:p@db:5432/lotsen"
    monkeypatch.delenv("DATABASE_URL")
    assert _database_url().startswith("sqlite:///") and _database_url().endswith(
        "instance/lotsen.sqlite"
    )


def test_healthz_reports_the_database(client, db_dialect):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok" and response.json["dialect"] == db_dialect


def test_healthz_says_503_when_the_database_is_down(tmp_path):
    app = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_unknown_page_and_oversized_post_are_4xx(client, region, app):
    login(client, region.norsjo_guide)
    assert client.get("/nowhere").status_code == 404
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert client.post("/households/new", data={"notes": big}).status_code == 413
    assert client.get("/households/99999999").status_code == 404
    assert client.get("/logout").status_code == 405


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@pytest.mark.sqlite_only
def test_concurrent_writers_never_see_database_is_locked(tmp_path, database):
    """Eight threads, each with its own connection, write at once through the services."""
    app = create_app(make_config(f"sqlite:///{tmp_path / 'concurrent.sqlite'}"))
    with app.app_context():
        upgrade()
        guide = factories.user(municipality=factories.NORSJO)
        db.session.commit()
        guide_id = guide.id
    errors = []

    def work():
        try:
            with app.app_context():
                from lotsen.accounts.models import User
                from lotsen.contacts.services import log_contact

                g = db.session.get(User, guide_id)
                for i in range(15):
                    h = factories.household(guide=g)
                    db.session.scalar(select(func.count()).select_from(Household))  # read first
                    log_contact(h, g, channel="phone", direction="out", summary=f"t{i}")
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 120
        db.engine.dispose()
