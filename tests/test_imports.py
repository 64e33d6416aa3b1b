"""Importing households from spreadsheets: mapping, preview, duplicates, report, undo."""

import csv
import io
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from lotsen.accounts.models import Role
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.households.models import Household, HouseholdEvent, Person, StageChange
from lotsen.households.services import add_note
from lotsen.households.vocab import Source, Stage
from lotsen.imports.models import ImportBatch, ImportMapping, ImportRow
from lotsen.imports.services import plan_import, run_import, save_mapping, upload
from lotsen.imports.undo import undo_import
from tests import factories

HEADER = [
    "Hushåll",
    "E-post",
    "Telefon",
    "Land",
    "Språk",
    "Kommun",
    "Vuxna",
    "Barn",
    "Källa",
    "Steg",
    "Anteckningar",
]
GUESSED = [
    "name",
    "email",
    "phone",
    "country",
    "language",
    "municipality",
    "adults",
    "children",
    "source",
    "stage",
    "notes",
]
NAMES = [
    ("Åsa Öberg", "Sverige", "svenska"),
    ("Björn Ängström", "Sverige", "svenska"),
    ("Sanne van Dijk", "Nederländerna", "nederländska"),
    ("Bram IJsselstein", "Nederländerna", "nederländska"),
    ("Joëlle de Vries", "Nederländerna", "nederländska"),
    ("Jürgen Groß", "Tyskland", "tyska"),
    ("Uwe Weiß", "Tyskland", "tyska"),
    ("Anna Müller", "Tyskland", "tyska"),
]
PLACES = ["Malå", "Norsjö", "2481", "Åsele", "sorsele", "Dorotea"]
EXISTING_PHONE = "+46701234567"


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Household, Person, StageChange, HouseholdEvent)
    )


def leads_rows(n=2000):
    """The rows of a guide's list: every 50 rows hold 2 invalid rows, 3 duplicates."""
    rows, expect = [], {"persons": 0, "moved_in": 0}
    for i in range(n):
        name, country, language = NAMES[i % len(NAMES)]
        email, phone, place = f"hh{i}@example.nl", "", PLACES[i % len(PLACES)]
        kind = i % 50
        if kind == 7:
            email = f"hh{i}(at)example.nl"  # invalid
        elif kind == 13:
            place = "Umeå"  # not one of the ten: invalid
        elif kind == 21:
            email = f"existing{i % 3}@example.se"  # a household that exists already
        elif kind == 33:
            email = f"hh{i - 1}@example.nl"  # the row above, again
        elif kind == 42:
            phone, country = "070-123 45 67", "Sverige"  # an existing household's number
        adults, children = ("2", "1") if i % 3 == 0 else ("", "")
        if i % 3 == 1:
            surname = name.split(" ", 1)[1]
            adults, children = f"{name}, Per {surname}", "Liv"
        stage = "Inflyttad" if kind == 3 else ("Kontaktad" if kind == 4 else "")
        source = "Mässa" if i % 2 else "Emigratiebeurs Utrecht"
        rows.append(
            [f"{name} {i}", email, phone, country, language, place, adults, children]
            + [source, stage, "Träffades på mässan" if i % 5 == 0 else None]
        )
        if kind not in (7, 13, 21, 33, 42):
            expect["persons"] += 3 if i % 3 in (0, 1) else 0
            expect["moved_in"] += kind == 3
    return rows, expect


def xlsx_bytes(header, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def existing_households(region):
    for k in range(3):
        factories.household(
            factories.MALA, guide=region.mala_guide, email=f"existing{k}@example.se"
        )
    return factories.household(factories.NORSJO, guide=region.norsjo_guide, phone=EXISTING_PHONE)


def test_2000_row_xlsx_gives_the_right_report_reimport_creates_nothing_undo_removes_it(
    client, region, login_as
):
    existing_households(region)
    db.session.commit()
    rows, expect = leads_rows()
    content = xlsx_bytes(HEADER, rows)
    before = _counts()
    login_as(region.coordinator)
    started, cpu = time.perf_counter(), time.process_time()

    response = client.post("/imports", data={"file": (io.BytesIO(content), "leads.xlsx")})
    assert response.status_code == 302
    batch = db.session.scalars(select(ImportBatch)).one()
    assert batch.mapping["columns"] == GUESSED
    mapping = client.get(response.headers["Location"])
    assert "Hushåll" in mapping.get_data(as_text=True)
    form = {f"col_{i}": name for i, name in enumerate(GUESSED)}
    response = client.post(f"/imports/{batch.id}/mapping", data=form | {"source": "fair"})
    assert response.status_code == 302

    preview = client.get(f"/imports/{batch.id}/preview").get_data(as_text=True)
    assert "Nya hushåll: 1800" in preview
    assert "”hh7(at)example.nl” är inte en giltig e-postadress." in preview
    assert "Okänd kommun ”Umeå”" in preview
    assert "Samma e-post eller telefon som rad 34." in preview  # i=33 is sheet row 35

    # First existing duplicate (row 23): create anyway; second (row 73): attach;
    # first duplicate of an earlier row (row 35): attach to what row 34 made.
    decisions = {"duplicates": "skip", "row-23": "create", "row-73": "attach", "row-35": "attach"}
    response = client.post(f"/imports/{batch.id}/preview", data=decisions)
    assert response.status_code == 302
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n2000-row XLSX upload, map, preview, import: {seconds:.1f} s ({cpu:.1f} s CPU)")
    # ~13 s CPU here; the wall-clock bound leaves room for a machine shared by many runs
    assert seconds < 300

    db.session.refresh(batch)
    assert batch.counts == {"created": 1801, "attached": 2, "skipped": 117, "invalid": 80}
    after = _counts()
    assert after[0] - before[0] == 1801
    assert after[1] - before[1] == expect["persons"] + 3  # row 23 ("2" adults, "1" child)
    # a "new" per household, and a second change for the 40 moved in and 40 contacted
    assert after[2] - before[2] == 1801 + 80
    created = select(Household).join(ImportRow, ImportRow.household_id == Household.id)
    imported = list(db.session.scalars(created.where(ImportRow.batch_id == batch.id)))
    assert sum(h.stage == Stage.MOVED_IN for h in imported) == expect["moved_in"]
    groß = db.session.scalars(select(Household).where(Household.name == "Jürgen Groß 5")).one()
    assert (groß.country, groß.language, groß.primary_municipality_code) == ("DE", "de", "2425")
    assert groß.source == Source.FAIR and groß.source_detail is None
    assert groß.guide_id is None and groß.created_by_id == region.coordinator.id
    weiß = db.session.scalars(select(Household).where(Household.name == "Uwe Weiß 6")).one()
    assert (weiß.source, weiß.source_detail) == (Source.OTHER, "Emigratiebeurs Utrecht")
    assert [(p.kind, p.first_name) for p in weiß.persons] == [
        ("adult", "?"),
        ("adult", "?"),
        ("child", "?"),
    ]
    ij = db.session.scalars(select(Household).where(Household.name == "Bram IJsselstein 19")).one()
    assert [p.full_name for p in ij.persons] == ["Bram IJsselstein", "Per IJsselstein", "Liv"]
    assert ij.source == Source.FAIR
    attached = db.session.scalars(
        select(HouseholdEvent).where(
            HouseholdEvent.kind == "imported", HouseholdEvent.data.is_not(None)
        )
    ).all()
    assert sum(bool(e.data.get("attached")) for e in attached) == 2

    report = client.get(f"/imports/{batch.id}/report.csv")
    assert report.mimetype == "text/csv"
    lines = list(
        csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert lines[0] == ["Rad", "Utfall", "Hushåll", "Ångrad", "Meddelande"]
    assert len(lines) == 2001
    outcomes = [line[1] for line in lines[1:]]
    assert outcomes.count("skapad") == 1801 and outcomes.count("ogiltig") == 80

    # The same file again: nothing is created, everything imported is recognised.
    response = client.post("/imports", data={"file": (io.BytesIO(content), "leads (1).xlsx")})
    again = db.session.get(ImportBatch, int(response.headers["Location"].split("/")[-2]))
    assert again.mapping["columns"] == GUESSED  # remembered
    client.post(f"/imports/{again.id}/mapping", data=form | {"source": "fair"})
    preview = client.get(f"/imports/{again.id}/preview").get_data(as_text=True)
    assert "Importerad tidigare: 1920" in preview
    assert "Den här filen har importerats förut" in preview
    client.post(f"/imports/{again.id}/preview", data={"duplicates": "create"})
    db.session.refresh(again)
    assert again.counts == {"created": 0, "attached": 0, "skipped": 1920, "invalid": 80}
    assert _counts() == after

    # Undo removes exactly the first batch.
    response = client.post(f"/imports/{batch.id}/undo")
    assert response.status_code == 302
    assert _counts() == before
    db.session.refresh(batch)
    assert batch.status == "undone"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ImportRow)
            .where(ImportRow.batch_id == batch.id, ImportRow.undone)
        )
        == 1803
    )


def test_undo_keeps_households_changed_since_and_says_so(app_ctx, region):
    guide = region.norsjo_guide
    content = "Namn;E-post;Kommun\n" + "".join(
        f"Familjen Öst {i};ost{i}@example.se;Norsjö\n" for i in range(5)
    )
    batch = upload(guide, "lista.csv", content.encode())
    save_mapping(batch, guide, ["name", "email", "municipality"], {})
    assert run_import(batch, guide)["created"] == 5
    households = [db.session.get(Household, r.household_id) for r in batch.results]
    log_contact(households[0], guide, channel="phone", direction="out", summary="Ringde")
    add_note(households[1], "Vill bo nära skolan", guide)
    before_undo = _counts()

    done, refused = undo_import(batch, guide)

    assert (done, refused) == (3, 2)
    assert batch.status == "partly_undone"
    kept = [r for r in batch.results if not r.undone]
    assert [r.row_number for r in kept] == [2, 3]
    assert all("har ändrats" in r.message or "changed" in r.message for r in kept)
    assert _counts()[0] == before_undo[0] - 3
    assert db.session.get(Household, households[0].id) is not None


def test_guide_imports_into_own_municipalities_only(app_ctx, region):
    guide = region.norsjo_guide
    content = "Name,Email,Municipality\nDe Boer,boer@example.nl,Malå\nBakker,bakker@example.nl,\n"
    batch = upload(guide, "leads.csv", content.encode())
    assert batch.mapping["columns"] == ["name", "email", "municipality"]
    assert batch.options["municipality"] == factories.NORSJO  # empty cells: the guide's own
    plans = plan_import(batch, guide)
    assert [p.status for p in plans] == ["invalid", "new"]
    assert "Norsjö" in plans[0].row.errors[0]
    counts = run_import(batch, guide)
    assert counts == {"created": 1, "attached": 0, "skipped": 0, "invalid": 1}
    bakker = db.session.get(Household, batch.results[1].household_id)
    assert bakker.guide_id == guide.id and bakker.primary_municipality_code == factories.NORSJO
    assert [
        c.to_stage
        for c in db.session.scalars(
            select(StageChange).where(StageChange.household_id == bakker.id)
        )
    ] == [Stage.NEW]


def test_duplicates_only_among_households_the_guide_can_see(app_ctx, region):
    factories.household(factories.MALA, guide=region.mala_guide, email="hidden@example.nl")
    guide = region.norsjo_guide
    batch = upload(guide, "l.csv", b"Namn;E-post\nHidden;hidden@example.nl\n")
    assert [p.status for p in plan_import(batch, guide)] == ["new"]


@pytest.mark.parametrize(
    "content",
    [
        "Namn;E-post;Telefon\nÅsa Öberg;asa@example.se;070-111 22 33\n".encode(),
        "\ufeffNamn;E-post;Telefon\r\nÅsa Öberg;asa@example.se;070-111 22 33\r\n".encode(),
        'Namn,E-post,Telefon\n"Åsa Öberg",asa@example.se,070-111 22 33\n'.encode(),
        "\ufeffNamn,E-post,Telefon\nÅsa Öberg,asa@example.se,070-111 22 33\n".encode(),
    ],
    ids=["semicolon", "semicolon-bom-crlf", "comma-quoted", "comma-bom"],
)
def test_csv_variants_read_alike(app_ctx, region, content):
    batch = upload(region.coordinator, "lista.csv", content)
    assert batch.header == ["Namn", "E-post", "Telefon"]
    assert batch.mapping["columns"] == ["name", "email", "phone"]
    (plan,) = plan_import(batch, region.coordinator)
    assert plan.row.data.fields["name"] == "Åsa Öberg"
    assert plan.row.data.fields["phone"] == "+46701112233"


@pytest.mark.parametrize(
    "filename, content, message",
    [
        ("lista.csv", "Namn;E-post\nÅsa;a@x.se\n".encode("cp1252"), "The file is not in UTF-8"),
        ("lista.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel file"),
        ("lista.pdf", b"%PDF-1.4 ...", "Only CSV and Excel"),
        ("lista.xlsx", b"PK\x03\x04 broken", "cannot be read"),
        ("lista.csv", b"", "The file is empty."),
        ("lista.csv", b"Namn;E-post\n", "no households under it"),
    ],
)
def test_unreadable_files_get_a_clear_message(client, region, login_as, filename, content, message):
    region.norsjo_guide.locale = "en"
    db.session.commit()
    login_as(region.norsjo_guide)
    response = client.post("/imports", data={"file": (io.BytesIO(content), filename)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_too_large_upload_is_refused(client, region, login_as, app):
    login_as(region.norsjo_guide)
    big = b"Namn\n" + b"x" * app.config["MAX_CONTENT_LENGTH"]
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        + big
        + b"\r\n--B--\r\n"
    )
    response = client.post("/imports", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "Det du skickade är för stort." in response.get_data(as_text=True)


def test_preview_speaks_the_users_language(client, region, login_as):
    region.norsjo_guide.locale = "en"
    db.session.commit()
    login_as(region.norsjo_guide)
    content = "Name;Email;Municipality;Stage\nDe Boer;boer(at)example.nl;Norsjö;verhuisd\n"
    client.post("/imports", data={"file": (io.BytesIO(content.encode()), "l.csv")})
    batch = db.session.scalars(select(ImportBatch)).one()
    client.post(
        f"/imports/{batch.id}/mapping",
        data={"col_0": "name", "col_1": "email", "col_2": "municipality", "col_3": "stage"},
    )
    text = client.get(f"/imports/{batch.id}/preview").get_data(as_text=True)
    assert "“boer(at)example.nl” is not a valid e-mail address." in text
    assert "Unknown stage “verhuisd”." in text


def test_mapping_is_remembered_per_user(app_ctx, region):
    guide = region.norsjo_guide
    batch = upload(guide, "a.csv", b"Kontaktperson;Mejl;Info\nA;a@example.se;x\n")
    assert batch.mapping["columns"] == ["name", "email", ""]
    save_mapping(batch, guide, ["name", "email", "notes"], {"municipality": "2417"})
    again = upload(guide, "b.csv", b"Kontaktperson;Mejl;Info\nB;b@example.se;y\n")
    assert again.mapping["columns"] == ["name", "email", "notes"]
    other = upload(region.mala_guide, "c.csv", b"Kontaktperson;Mejl;Info\nC;c@x.se;z\n")
    assert other.mapping["columns"] == ["name", "email", ""]
    assert db.session.get(ImportMapping, guide.id).mapping["info"] == "notes"


def test_a_guide_cannot_open_another_guides_import(client, region, login_as):
    batch = upload(region.mala_guide, "m.csv", b"Namn\nA\n")
    db.session.commit()
    login_as(region.norsjo_guide)
    for path in (
        f"/imports/{batch.id}",
        f"/imports/{batch.id}/preview",
        f"/imports/{batch.id}/report.csv",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/imports/{batch.id}/undo").status_code == 404
    login_as(factories.user(Role.COORDINATOR))
    assert client.get(f"/imports/{batch.id}/preview").status_code == 200


def test_importing_twice_by_double_click_imports_once(client, region, login_as):
    login_as(region.norsjo_guide)
    content = "Namn;Kommun\nFamiljen Ek;Norsjö\n".encode()
    client.post("/imports", data={"file": (io.BytesIO(content), "l.csv")})
    batch = db.session.scalars(select(ImportBatch)).one()
    client.post(f"/imports/{batch.id}/mapping", data={"col_0": "name", "col_1": "municipality"})
    first = client.post(f"/imports/{batch.id}/preview", data={"duplicates": "skip"})
    second = client.post(f"/imports/{batch.id}/preview", data={"duplicates": "skip"})
    assert first.status_code == second.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Household)) == 1


def test_attached_rows_show_on_the_household_and_undo_removes_them(client, region, login_as):
    existing = factories.household(
        factories.NORSJO, guide=region.norsjo_guide, email="de.vries@example.nl"
    )
    db.session.commit()
    login_as(region.norsjo_guide)
    content = "Namn;E-post;Telefon;Anteckningar\n"
    content += "Familjen de Vries;de.vries@example.nl;=1+2;Vill köpa gård\n"
    content += "Familjen de Vries;DE.VRIES@example.nl;+31 6 12345678;Ringer i maj\n"
    client.post("/imports", data={"file": (io.BytesIO(content.encode()), "mässa.csv")})
    batch = db.session.scalars(select(ImportBatch)).one()
    client.post(
        f"/imports/{batch.id}/mapping",
        data={"col_0": "name", "col_1": "email", "col_2": "phone", "col_3": "notes"},
    )
    client.post(f"/imports/{batch.id}/preview", data={"duplicates": "attach"})
    db.session.refresh(batch)
    assert batch.counts == {"created": 0, "attached": 1, "skipped": 0, "invalid": 1}
    page = client.get(f"/households/{existing.id}").get_data(as_text=True)
    assert "rad 3 av mässa.csv" in page and "Ringer i maj" in page and "+31612345678" in page
    report = client.get(f"/imports/{batch.id}/report.csv").get_data(as_text=True)
    assert ";'=1+2: " in report  # a formula from the file stays text in a spreadsheet

    client.post(f"/imports/{batch.id}/undo")
    assert "Ringer i maj" not in client.get(f"/households/{existing.id}").get_data(as_text=True)
    db.session.refresh(batch)
    assert batch.status == "undone"
    assert client.post(f"/imports/{batch.id}/undo").status_code == 302  # twice: a message
    assert db.session.get(Household, existing.id) is not None


def test_checking_rows_takes_the_same_queries_for_10_or_400_rows(app_ctx, region, count_queries):
    guide = region.norsjo_guide
    used = []
    for n in (5, 10, 400):  # the first also loads the ten municipalities and the guide's
        lines = "".join(
            f"Familjen Nr{i};nr{i}.{n}@example.se;+4670{n % 100:02d}{i:05d}\n" for i in range(n)
        )
        batch = upload(guide, f"{n}.csv", ("Namn;E-post;Telefon\n" + lines).encode())
        with count_queries() as queries:
            plans = plan_import(batch, guide)
        assert len(plans) == n
        used.append(len(queries))
    assert used[1] == used[2] == 3  # rows imported before, e-mails, phones
