"""Reading an uploaded spreadsheet into a header and rows of text cells."""

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_CELL = 2000
MAX_TEXT = 20_000_000  # characters in all cells: a small zipped .xlsx can unpack to a lot


class FileError(ValueError):
    """The file cannot be read; the message says what to do about it."""


@dataclass
class Sheet:
    header: list[str]
    rows: list[list[str]]
    file_hash: str


def read_file(filename: str, content: bytes) -> Sheet:
    """The first sheet of an XLSX file or a CSV file (UTF-8, comma or semicolon)."""
    if not content:
        raise FileError(_l("The file is empty."))
    name = filename.lower()
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileError(
            _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV UTF-8 and try again.")
        )
    if content.startswith(b"PK\x03\x04"):
        table = _read_xlsx(content)
    elif name.endswith((".csv", ".txt")):
        table = _read_csv(content)
    else:
        raise FileError(_l("Only CSV and Excel (.xlsx) files can be imported."))
    table = [_trimmed([_cell(c) for c in row]) for row in table]
    table = [row for row in table if row]
    if not table:
        raise FileError(_l("The file has no rows."))
    header, rows = table[0], table[1:]
    if not rows:
        raise FileError(_l("The file has a header row but no households under it."))
    if len(rows) > MAX_ROWS:
        raise FileError(_l("At most %(n)d rows can be imported at a time.", n=MAX_ROWS))
    width = min(max(len(r) for r in table), MAX_COLUMNS)
    header = (header + [""] * width)[:width]
    rows = [(r + [""] * width)[:width] for r in rows]
    return Sheet(header, rows, hashlib.sha256(content).hexdigest())


def _trimmed(row: list[str]) -> list[str]:
    while row and not row[-1]:
        row.pop()
    return row


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL]


def _read_csv(content: bytes) -> list[list[str]]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(
            _l(
                "The file is UTF-16 text. Save it from Excel as \u201cCSV UTF-8\u201d and try "
                "again."
            )
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(
            _l(
                "The file is not in UTF-8 (line %(line)d). In Excel, save it as \u201cCSV UTF-8"
                "\u201d; in LibreOffice choose the character set Unicode (UTF-8).",
                line=content[: exc.start].count(b"\n") + 1,
            )
        ) from exc
    if "\x00" in text:
        raise FileError(_l("This does not look like a CSV file."))
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FileError(_l("The CSV file cannot be read: %(error)s", error=str(exc))) from exc


def _read_xlsx(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(_l("The Excel file cannot be read. Is it a .xlsx file?")) from exc
    try:
        sheet = workbook.worksheets[0]
        rows, size = [], 0
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            rows.append(list(row))
            size += sum(len(str(c)) for c in row if c is not None)
            if size > MAX_TEXT:
                raise FileError(_l("The file holds too much text to import at once."))
            if len(rows) > MAX_ROWS + 1 + 100:  # beyond what we take, blank rows or not
                break
        return rows
    finally:
        workbook.close()
