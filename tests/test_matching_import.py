"""CSV import of listings and jobs (preview, per-row report, idempotent re-import) and the
JobTech JobSearch/JobStream importer (region filter, re-import, removed and expired ads)."""

import io
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from config import Config
from lotsen.extensions import db
from lotsen.jobs import run
from lotsen.matching.jobtech import import_file
from lotsen.matching.models import JobOpening, Listing
from lotsen.scheduler import triggers
from tests import factories
from tests.conftest import login

FIXTURES = Path(__file__).parent / "fixtures"
SEARCH = FIXTURES / "jobtech" / "search_2417.json"
STREAM = FIXTURES / "jobtech" / "stream_2026-12-01.json"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def upload(client, path, kind="listings", **extra):
    data = {"file": (io.BytesIO(Path(path).read_bytes()), Path(path).name)} | extra
    return client.post(f"/{kind}/import", data=data, content_type="multipart/form-data")


def confirm(client, page_text, kind="listings"):
    """Press "Import" on the preview: the file comes back in the hidden field."""
    import html
    import re

    text = re.search(r'name="text" type="hidden" value="([^"]*)"', page_text).group(1)
    return client.post(f"/{kind}/import", data={"text": html.unescape(text), "confirm": "1"})


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_listing_csv_preview_reports_each_bad_row_and_saves_nothing(client, region):
    login(client, region.norsjo_guide)
    response = upload(client, FIXTURES / "listings.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 400  # rows with errors
    assert count(Listing) == 0
    assert "2 nya, 0 att uppdatera, 0 oförändrade, 6 med fel." in page
    for message in (
        "title saknas.",
        "tenure ska vara en av rent, buy, sublet: lease",
        "Malå är inte en av dina kommuner.",
        "Okänd kommun: Gällivare",
        "rooms ska vara ett heltal: one",
        "available_from ska vara ett datum som 2027-03-01: 2027-13-01",
        "url ska börja med http:// eller https://: ftp://x",
        "Externt id NB-101 finns två gånger i filen.",
    ):
        assert message in page, message


def test_listing_csv_imports_valid_rows_and_a_second_import_doubles_nothing(client, region):
    login(client, region.norsjo_guide)
    preview = upload(client, FIXTURES / "listings.csv").get_data(as_text=True)
    assert confirm(client, preview).status_code == 302
    listings = {x.external_id: x for x in db.session.scalars(select(Listing))}
    assert sorted(listings) == ["NB-101", "NB-102"]
    assert listings["NB-101"].rent == 6900 and listings["NB-101"].available_from == date(2027, 2, 1)
    assert listings["NB-102"].price == 850000 and listings["NB-102"].tenure == "buy"

    preview = upload(client, FIXTURES / "listings.csv").get_data(as_text=True)
    assert "0 nya, 0 att uppdatera, 2 oförändrade, 6 med fel." in preview
    confirm(client, preview)
    assert count(Listing) == 2

    changed = (FIXTURES / "listings.csv").read_text().replace("6900", "7100")
    preview = client.post(
        "/listings/import",
        data={"file": (io.BytesIO(changed.encode()), "l.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "0 nya, 1 att uppdatera, 1 oförändrade" in preview
    confirm(client, preview)
    db.session.refresh(listings["NB-101"])
    assert listings["NB-101"].rent == 7100 and count(Listing) == 2


def test_swedish_spreadsheet_csv_with_semicolons_and_windows_encoding(client, region):
    login(client, region.norsjo_guide)
    preview = upload(client, FIXTURES / "listings_sv.csv")
    assert preview.status_code == 200
    confirm(client, preview.get_data(as_text=True))
    farm, room = db.session.scalars(select(Listing).order_by(Listing.external_id))
    assert (farm.title, farm.tenure, farm.type, farm.price) == (
        "Gård i Petikträsk",
        "buy",
        "farm",
        1_200_000,
    )
    assert (room.tenure, room.type, room.rent) == ("sublet", "room", 2500)


def test_a_guide_cannot_overwrite_another_municipalitys_listing_by_import(client, region):
    factories.listing(factories.MALA, title="Malås", external_id="NB-101")
    db.session.commit()
    login(client, region.norsjo_guide)
    page = upload(client, FIXTURES / "listings.csv").get_data(as_text=True)
    assert "Externt id NB-101 tillhör en annan kommuns post." in page
    confirm(client, page)
    assert db.session.scalars(
        select(Listing.title).where(Listing.external_id == "NB-101")
    ).one() == ("Malås")


def test_file_without_the_needed_columns_is_refused(client, region):
    login(client, region.norsjo_guide)
    bad = io.BytesIO(b"name;price\nx;1\n")
    page = client.post(
        "/listings/import", data={"file": (bad, "x.csv")}, content_type="multipart/form-data"
    )
    assert page.status_code == 400
    assert "Kolumner saknas: external_id, municipality, title, tenure, type" in page.get_data(
        as_text=True
    )
    empty = client.post("/listings/import", data={})
    assert empty.status_code == 400 and "Välj en CSV-fil." in empty.get_data(as_text=True)


def test_job_csv_import(client, region):
    login(client, region.coordinator)
    page = upload(client, FIXTURES / "jobs.csv", kind="jobs").get_data(as_text=True)
    assert "ssyk_code ska vara fyra siffror: 22X1" in page
    assert "extent ska vara en av full_time, part_time: sometimes" in page
    confirm(client, page, kind="jobs")
    jobs = {j.external_id: j for j in db.session.scalars(select(JobOpening))}
    assert sorted(jobs) == ["NJ-1", "NJ-2"]
    assert jobs["NJ-1"].ssyk_code == "2221" and jobs["NJ-1"].source == "import"
    assert jobs["NJ-2"].extent == "full_time"  # "heltid"
    assert "snickare" in jobs["NJ-2"].search_text
    confirm(
        client, upload(client, FIXTURES / "jobs.csv", kind="jobs").get_data(as_text=True), "jobs"
    )
    assert count(JobOpening) == 2


# --- JobTech -----------------------------------------------------------------------------


def jobtech_jobs():
    return {
        j.external_id: j
        for j in db.session.scalars(select(JobOpening).where(JobOpening.source == "jobtech"))
    }


def test_jobsearch_file_keeps_the_ten_municipalities(app_ctx):
    counts = import_file(str(SEARCH), NOW)
    assert counts == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "archived": 1,
        "outside": 1,
        "invalid": 1,
    }
    jobs = jobtech_jobs()
    assert sorted(jobs) == ["24000001", "24000002", "24000004", "24000006"]
    nurse = jobs["24000001"]
    assert (nurse.municipality_code, nurse.ssyk_code, nurse.extent) == ("2417", "2221", "full_time")
    assert nurse.employer == "Region Västerbotten"
    assert nurse.last_application_date == date(2027, 1, 31)
    assert nurse.url == "https://arbetsformedlingen.se/platsbanken/annonser/24000001"
    assert jobs["24000002"].municipality_code == "2418"  # by concept id only
    assert jobs["24000004"].status == "archived"  # deadline passed
    assert jobs["24000006"].extent == "part_time" and jobs["24000006"].ssyk_code is None


def test_reimporting_the_same_ads_changes_nothing(app_ctx):
    import_file(str(SEARCH), NOW)
    before = {k: (j.id, j.updated_at) for k, j in jobtech_jobs().items()}
    counts = import_file(str(SEARCH), NOW.replace(hour=12))
    assert counts["created"] == 0 and counts["updated"] == 0 and counts["unchanged"] == 4
    assert {k: (j.id, j.updated_at) for k, j in jobtech_jobs().items()} == before


def test_the_stream_archives_removed_ads_and_updates_changed_ones(app_ctx):
    import_file(str(SEARCH), NOW)
    counts = import_file(str(STREAM), NOW)
    assert counts["archived"] == 1 and counts["updated"] == 1 and counts["created"] == 1
    jobs = jobtech_jobs()
    assert jobs["24000001"].status == "archived"
    assert jobs["24000002"].title == "Grundskollärare åk 4–6, vikariat"
    assert jobs["24000007"].municipality_code == "2463"
    assert len(jobs) == 5


def test_a_full_snapshot_archives_ads_no_longer_in_it(app_ctx, tmp_path):
    import_file(str(SEARCH), NOW)
    payload = json.loads(SEARCH.read_text())
    payload["hits"] = [ad for ad in payload["hits"] if ad["id"] != "24000006"]
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(payload))
    import_file(str(snapshot), NOW, snapshot=False)
    assert jobtech_jobs()["24000006"].status == "open"
    import_file(str(snapshot), NOW, snapshot=True)
    assert jobtech_jobs()["24000006"].status == "archived"


def test_ads_expire_on_a_later_day(app_ctx):
    import_file(str(SEARCH), NOW)
    assert jobtech_jobs()["24000001"].status == "open"
    import_file(str(STREAM), datetime(2027, 2, 15, tzinfo=UTC))
    jobs = jobtech_jobs()
    assert jobs["24000002"].status == "archived" and jobs["24000006"].status == "archived"


def test_import_jobs_command(app, app_ctx):
    result = app.test_cli_runner().invoke(args=["lotsen", "import-jobs", str(SEARCH)])
    assert result.exit_code == 0, result.output
    assert "created 4" in result.output
    assert len(jobtech_jobs()) == 4
    bad = app.test_cli_runner().invoke(args=["lotsen", "import-jobs", str(FIXTURES / "jobs.csv")])
    assert bad.exit_code != 0 and "not JSON" in bad.output


def test_nightly_import_runs_only_with_a_source_url(app, app_ctx, monkeypatch, tmp_path):
    assert "import-jobtech" not in triggers(app.config)
    assert run("import-jobtech", NOW) is None
    source = tmp_path / "snapshot.json"
    shutil.copy(SEARCH, source)
    monkeypatch.setitem(app.config, "JOBTECH_SOURCE_URL", source.as_uri())
    assert "import-jobtech" in triggers(app.config)
    assert run("import-jobtech", NOW)["created"] == 4
    assert run("import-jobtech", NOW)["unchanged"] == 4
    assert len(jobtech_jobs()) == 4
    assert Config.JOBTECH_SNAPSHOT is True
