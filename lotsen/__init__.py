"""Lotsen: the relocation guides' CRM of Move Up North."""

import sys
from pathlib import Path

from flask import Flask
from flask.templating import Environment

from config import Config, ProductionConfig, config_from_env

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lotsen" / "translations"


class TemplateEnvironment(Environment):
    def make_globals(self, d):
        """A template's globals as one dict, not Jinja's ChainMap over the environment's:
        Jinja compares them with the page's globals at every ``{% from ... import %}`` (a
        household page does ~20), ~100 Python calls each through a ChainMap. Every global
        is in place before the first template loads (``create_app``)."""
        return {**self.globals, **(d or {})}


class Lotsen(Flask):
    jinja_environment = TemplateEnvironment


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_from_env()
    app = Lotsen(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    if issubclass(config_class, ProductionConfig):
        from lotsen.security import check_production_secret

        check_production_secret(app.config.get("SECRET_KEY"))
    Path(app.instance_path).mkdir(exist_ok=True)
    from lotsen.catalogs import ensure_compiled
    from lotsen.security import TrustedProxies
    from lotsen.urls import IdConverter, page_url

    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config)
    app.url_map.converters["int"] = IdConverter  # every <int:...> is a bounded database id
    app.jinja_env.globals["page_url"] = page_url
    catalogs = ensure_compiled(TRANSLATIONS, Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(map(str, catalogs)))

    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_cli(app)
    from lotsen.ops import init_app as init_operations

    init_operations(app)
    return app


def register_extensions(app: Flask) -> None:
    from lotsen.db import configure_postgresql, configure_sqlite
    from lotsen.extensions import babel, csrf, db, limiter, login_manager
    from lotsen.i18n import select_locale, select_timezone

    db.init_app(app)
    if "gunicorn" not in sys.modules:  # gunicorn's web workers never migrate
        register_migrations(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(TRANSLATIONS),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"  # "strong" logs out a phone that changes network
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(db.engine)
    from lotsen import models  # noqa: F401  (every model, for Alembic and relationships)
    from lotsen.accounts import sessions  # noqa: F401  (registers the user loader)


def register_migrations(app: Flask) -> None:
    """Alembic (~12 MB) is for the command line (`flask db upgrade`), the tests and scripts;
    a web worker under gunicorn never migrates, so it does not import it."""
    from flask_migrate import Migrate

    from lotsen.extensions import db

    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def register_blueprints(app: Flask) -> None:
    from lotsen.accounts.routes import bp as accounts_bp
    from lotsen.admin.routes import bp as admin_bp
    from lotsen.audiences import bp as audiences_bp
    from lotsen.audiences import public_bp as newsletter_bp
    from lotsen.audiences import routes as _audience_routes  # noqa: F401
    from lotsen.audit.routes import bp as audit_bp
    from lotsen.contacts.routes import bp as contacts_bp
    from lotsen.events import bp as events_bp
    from lotsen.events import capture, outcomes, public, routes  # noqa: F401  (their views)
    from lotsen.events import public_bp as event_public_bp
    from lotsen.followups.routes import bp as followups_bp
    from lotsen.health import bp as health_bp
    from lotsen.households.routes import bp as households_bp
    from lotsen.imports.routes import bp as imports_bp
    from lotsen.interest.routes import bp as interest_bp
    from lotsen.matching.routes import bp as matching_bp
    from lotsen.notifications.routes import bp as notifications_bp
    from lotsen.pipeline.routes import bp as pipeline_bp
    from lotsen.privacy.routes import bp as privacy_bp

    for bp in (
        accounts_bp,
        admin_bp,
        households_bp,
        contacts_bp,
        followups_bp,
        notifications_bp,
        interest_bp,
        matching_bp,
        health_bp,
        imports_bp,
        pipeline_bp,
        audit_bp,
        privacy_bp,
        events_bp,
        event_public_bp,
        audiences_bp,
        newsletter_bp,
    ):
        app.register_blueprint(bp)


def register_hooks(app: Flask) -> None:
    from flask import request

    from lotsen.access import enforce_access, may_open
    from lotsen.accounts.sessions import enforce_timeouts
    from lotsen.db import READ_ONLY
    from lotsen.errors import register_error_handlers
    from lotsen.followups.context import navigation_counts
    from lotsen.form_html import kept_field, render_field
    from lotsen.i18n import register_template_helpers
    from lotsen.mail import external_url
    from lotsen.menu import main_menu
    from lotsen.security import reject_control_characters, set_security_headers

    def read_only_transactions():
        READ_ONLY.set(request.method in ("GET", "HEAD", "OPTIONS"))

    # first of all: the hooks of extensions and blueprints (the second factor's) read the
    # database, and the contextvar still holds the previous request's value in this thread
    app.before_request_funcs.setdefault(None, []).insert(0, read_only_transactions)

    @app.teardown_request
    def end_of_request(_exc):  # nor does the value outlive the request (a CLI, a test)
        READ_ONLY.set(False)

    app.before_request(reject_control_characters)
    app.before_request(enforce_timeouts)
    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    app.context_processor(navigation_counts)
    register_error_handlers(app)
    register_template_helpers(app)
    app.jinja_env.globals.update(
        may_open=may_open,
        external_url=external_url,
        main_menu=main_menu,
        render_field=render_field,
        kept_field=kept_field,
    )


def register_cli(app: Flask) -> None:
    from lotsen.cli import lotsen_cli

    app.cli.add_command(lotsen_cli)
