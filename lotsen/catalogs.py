"""Compiled message catalogs (.mo) for every way the app is started.

``make`` compiles them, but an install that follows the production section of the README
(pip install, flask db upgrade, gunicorn) would serve English without them. So the app
compiles, when it starts, every catalog whose .mo is missing or older than its .po: next
to the .po when that directory is writable, otherwise into the instance folder.
"""

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def _compile(po: Path, mo: Path, locale: str) -> None:
    with po.open("rb") as source:
        catalog = read_po(source, locale=locale)
    mo.parent.mkdir(parents=True, exist_ok=True)
    # Several workers may start at once: write aside, then rename into place atomically.
    handle, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_compiled(directory: Path, fallback: Path) -> list[Path]:
    """Compile the stale catalogs under ``directory``; the translation directories to use
    (``fallback`` is added when a catalog had to be compiled there)."""
    directories = [directory]
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        locale = po.parent.parent.name
        mo = po.with_suffix(".mo")
        if not _stale(po, mo):
            continue
        try:
            _compile(po, mo, locale)
        except OSError:
            elsewhere = fallback / locale / "LC_MESSAGES" / mo.name
            if _stale(po, elsewhere):
                _compile(po, elsewhere, locale)
            if fallback not in directories:
                directories.append(fallback)
        log.info("compiled the %s message catalog", locale)
    return directories
