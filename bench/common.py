"""What the benchmark scripts share: a throw-away database and app, and helpers."""

import os
import shutil
import socket
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from config import TestingConfig  # noqa: E402
from lotsen import create_app  # noqa: E402
from lotsen.extensions import db  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def bench_app(kind: str, keep: bool = False, **settings):
    """An app on a fresh, migrated database: a temporary SQLite file, or a temporary
    PostgreSQL schema; both are removed afterwards unless ``keep``."""
    tmp = tempfile.mkdtemp(prefix="lotsen-bench-")
    schema = admin = None
    if kind == "sqlite":
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
    else:
        schema = f"lotsen_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    app = create_app(
        type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **settings})
    )
    try:
        with app.app_context():
            upgrade()
        yield app, url
    finally:
        with app.app_context():
            db.engine.dispose()
        if keep:
            print(f"{kind}: kept {url}", file=sys.stderr)
        else:
            if schema:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            shutil.rmtree(tmp, ignore_errors=True)
        if admin is not None:
            admin.dispose()


def analyze() -> None:
    """Statistics after a bulk load; on PostgreSQL also VACUUM, as autovacuum would, which
    sets the visibility map that index-only scans rely on."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
