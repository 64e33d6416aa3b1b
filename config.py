"""Configuration classes, read from environment variables (see README, "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'lotsen.sqlite'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    LOTSEN_ENV = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_RECORD_QUERIES = False

    BABEL_DEFAULT_LOCALE = "sv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"
    LANGUAGES = ("sv", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    SESSION_COOKIE_NAME = "lotsen_session"
    # Remember-me is not offered; the cookie settings cap it should it ever be used.
    REMEMBER_COOKIE_DURATION = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    IDLE_TIMEOUT = timedelta(minutes=_int("IDLE_TIMEOUT_MINUTES", 30))
    ABSOLUTE_TIMEOUT = timedelta(hours=_int("ABSOLUTE_TIMEOUT_HOURS", 12))
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_IP = _int("LOGIN_MAX_FAILURES_PER_IP", 30)
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=_int("LOGIN_THROTTLE_MINUTES", 15))
    # All addresses together: a short cap per account, so that guessing from many addresses
    # is slowed without letting anyone lock a named person out for long (ASVS 2.2.1).
    LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL", 15)
    LOGIN_ACCOUNT_CAP_WINDOW = timedelta(minutes=_int("LOGIN_ACCOUNT_CAP_MINUTES", 10))
    # Reverse proxies in front of the app whose X-Forwarded-* headers are believed (ProxyFix).
    TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
    HSTS_MAX_AGE = 0  # seconds; Strict-Transport-Security is sent when above 0

    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

    # E-mail (the outbox is sent by the scheduler process)
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"  # STARTTLS
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"  # implicit TLS (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Lotsen <lotsen@localhost>")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 20)
    OUTBOX_CLAIM_SECONDS = _int("OUTBOX_CLAIM_SECONDS", 300)
    OUTBOX_BATCH = _int("OUTBOX_BATCH", 50)  # messages a sender claims at a time
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")  # links in e-mails

    # The public interest form
    PUBLIC_LANGUAGES = ("sv", "en", "de", "nl")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    INTEREST_RATE_LIMIT = os.environ.get("INTEREST_RATE_LIMIT", "10/minute;60/hour")
    INTEREST_MIN_FILL_SECONDS = _int("INTEREST_MIN_FILL_SECONDS", 3)  # faster is a bot
    INTEREST_MAX_BYTES = _int("INTEREST_MAX_BYTES", 64 * 1024)
    INTEREST_CONFIRM_DAYS = _int("INTEREST_CONFIRM_DAYS", 7)
    ACCESSIBILITY_CONTACT = os.environ.get("ACCESSIBILITY_CONTACT", "info@moveupnorth.se")

    # Scheduler (flask lotsen scheduler): how often the jobs run
    SCHEDULER_OUTBOX_SECONDS = _int("SCHEDULER_OUTBOX_SECONDS", 30)
    SCHEDULER_REMINDER_SECONDS = _int("SCHEDULER_REMINDER_SECONDS", 60)
    SCHEDULER_RULES_MINUTES = _int("SCHEDULER_RULES_MINUTES", 15)
    SCHEDULER_DIGEST_TIME = os.environ.get("SCHEDULER_DIGEST_TIME", "07:00")
    # the reminder the day before an event, Europe/Stockholm time
    SCHEDULER_EVENT_REMINDER_TIME = os.environ.get("SCHEDULER_EVENT_REMINDER_TIME", "10:00")
    SCHEDULER_MISFIRE_GRACE_SECONDS = _int("SCHEDULER_MISFIRE_GRACE_SECONDS", 6 * 3600)
    # Job ads from Arbetsförmedlingen (JobTech): imported nightly when a source URL is set
    JOBTECH_SOURCE_URL = os.environ.get("JOBTECH_SOURCE_URL", "")
    JOBTECH_API_KEY = os.environ.get("JOBTECH_API_KEY", "")
    JOBTECH_SNAPSHOT = os.environ.get("JOBTECH_SNAPSHOT", "1") == "1"
    JOBTECH_TIMEOUT = _int("JOBTECH_TIMEOUT", 120)
    SCHEDULER_JOBTECH_TIME = os.environ.get("SCHEDULER_JOBTECH_TIME", "03:30")
    HOUSEHOLDS_PER_PAGE = _int("HOUSEHOLDS_PER_PAGE", 50)

    # Disposal (gallring) rules, run nightly by the scheduler (README, "Privacy")
    DISPOSAL_CLOSED_MONTHS = _int("DISPOSAL_CLOSED_MONTHS", 24)
    DISPOSAL_MOVED_IN_MONTHS = _int("DISPOSAL_MOVED_IN_MONTHS", 36)
    DISPOSAL_AUDIT_YEARS = _int("DISPOSAL_AUDIT_YEARS", 5)
    DISPOSAL_NOTICE_DAYS = _int("DISPOSAL_NOTICE_DAYS", 30)  # the guide's follow-up before
    SCHEDULER_DISPOSAL_TIME = os.environ.get("SCHEDULER_DISPOSAL_TIME", "01:30")
    # Roles that must log in with a second factor (TOTP); others may enrol by choice
    TOTP_REQUIRED_ROLES = tuple(
        r
        for r in os.environ.get("TOTP_REQUIRED_ROLES", "coordinator,admin,communicator").split(",")
        if r
    )

    # Operations (README, "Operating Lotsen"): backups and log lines
    BACKUP_DIR = os.environ.get("BACKUP_DIR", "")  # set: a nightly backup job runs
    BACKUP_KEEP = _int("BACKUP_KEEP", 14)  # newest backups kept in BACKUP_DIR
    BACKUP_TIME = os.environ.get("BACKUP_TIME", "02:30")  # Europe/Stockholm
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json": one JSON object a line
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Logged SQL errors must not carry the values (names, e-mail addresses) of a statement.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session


class DevelopmentConfig(Config):
    LOTSEN_ENV = "development"
    DEBUG = True


class TestingConfig(Config):
    LOTSEN_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-that-is-long-enough-0123456789"  # noqa: S105
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # the tests give each run its own database
    INTEREST_RATE_LIMIT = "1000/minute"


class ProductionConfig(Config):
    LOTSEN_ENV = "production"
    HSTS_MAX_AGE = _int("HSTS_MAX_AGE", 2 * 365 * 24 * 3600)
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Production unless development (or testing) is asked for: a server started without
    LOTSEN_ENV must not run in debug mode with the public development key. ``make run``
    asks for development."""
    name = os.environ.get("LOTSEN_ENV") or "production"
    if name not in CONFIGS:
        raise RuntimeError(f"LOTSEN_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
