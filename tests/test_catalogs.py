"""Message catalogs compiled when the app starts (see also tests/test_production.py)."""

import os
import shutil
from pathlib import Path

from babel.support import Translations

from lotsen.catalogs import ensure_compiled

SOURCE = Path(__file__).resolve().parent.parent / "lotsen" / "translations"


def swedish(directory: Path) -> str:
    return Translations.load(str(directory), ["sv"]).gettext("Log in")


def copy_catalogs(tmp_path: Path) -> Path:
    target = tmp_path / "translations"
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("*.mo"))
    return target


def test_missing_and_stale_catalogs_are_compiled(tmp_path):
    directory = copy_catalogs(tmp_path)
    assert swedish(directory) == "Log in"
    assert ensure_compiled(directory, tmp_path / "instance") == [directory]
    assert swedish(directory) == "Logga in"
    mo = directory / "sv" / "LC_MESSAGES" / "messages.mo"
    mo.write_bytes(b"")  # an old, broken build
    os.utime(mo, (0, 0))
    ensure_compiled(directory, tmp_path / "instance")
    assert swedish(directory) == "Logga in"


def test_a_catalog_that_cannot_be_written_is_compiled_into_the_instance_folder(tmp_path):
    directory = copy_catalogs(tmp_path)
    blocked = directory / "sv" / "LC_MESSAGES" / "messages.mo"
    blocked.mkdir()  # not writable as a file (a read-only install; tests run as root)
    (blocked / "x").touch()
    os.utime(blocked, (0, 0))
    fallback = tmp_path / "instance"
    assert ensure_compiled(directory, fallback) == [directory, fallback]
    assert swedish(fallback) == "Logga in"


def test_no_catalog_carries_the_swedish_text_of_another_language():
    """A translation copied from the Swedish catalog showed English users "Vuxna", "Barn",
    "Sida 2" in the household list; an untranslated text is left empty (the English
    msgid is shown) rather than filled with Swedish."""
    from babel.messages.pofile import read_po

    def catalog(lang):
        with open(SOURCE / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            return {m.id: m.string for m in read_po(f) if m.id and m.string}

    swedish_texts = catalog("sv")
    for lang in sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and p.name != "sv"):
        copied = [
            msgid
            for msgid, text in catalog(lang).items()
            if text == swedish_texts.get(msgid) and text != msgid and any(text)
        ]
        assert copied == [], f"{lang}: Swedish texts {copied}"
