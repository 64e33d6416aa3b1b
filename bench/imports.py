"""A 2 000-row XLSX import, timed step by step on a fresh database.

Generates the same list the tests use (Swedish, Dutch and German names, bad e-mails,
unknown municipalities, duplicates), then times, as a coordinator, through the services:
  read      reading the XLSX (openpyxl) into a draft batch
  plan      checking every row and finding duplicates (what the preview shows)
  import    the import itself (1 800 households through create_household)
  undo      removing the batch again
Wall-clock and CPU seconds of this process (SQLite work is in-process; PostgreSQL's is
not). The machine's load average is printed alongside: on a shared machine it decides
the wall-clock figures.

    python bench/imports.py               # both databases
    python bench/imports.py --db sqlite

The last line printed is one JSON object of figures.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_app  # noqa: E402
from lotsen.accounts.models import Role, User  # noqa: E402
from lotsen.extensions import db  # noqa: E402
from lotsen.imports.services import plan_import, run_import, upload  # noqa: E402
from lotsen.imports.undo import undo_import  # noqa: E402
from tests.test_imports import HEADER, leads_rows, xlsx_bytes  # noqa: E402


def timed(figures: dict, name: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    figures[name] = round(time.perf_counter() - wall, 2)
    figures[f"{name}_cpu"] = round(time.process_time() - cpu, 2)
    return result


def run(kind: str, rows: int) -> dict:
    content = xlsx_bytes(HEADER, leads_rows(rows)[0])
    figures = {"rows": rows, "xlsx_bytes": len(content)}
    with bench_app(kind) as (app, _url), app.test_request_context():
        user = User(email="k@bench.example", name="K", role=Role.COORDINATOR, password_hash="x")
        db.session.add(user)
        db.session.commit()
        batch = timed(figures, "read", lambda: upload(user, "leads.xlsx", content))
        db.session.commit()
        timed(figures, "plan", lambda: plan_import(batch, user))
        counts = timed(figures, "import", lambda: run_import(batch, user))
        db.session.commit()
        figures["created"] = counts["created"]
        timed(figures, "undo", lambda: undo_import(batch, user))
        db.session.commit()
    figures["load_average"] = round(os.getloadavg()[0], 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "all" else [args.db]
    result = {}
    for kind in kinds:
        result[kind] = run(kind, args.rows)
        print(kind, result[kind], file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
