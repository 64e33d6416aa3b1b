"""Import job ads from Arbetsförmedlingen's JobTech APIs (JobSearch, JobStream).

Accepts what those APIs return: a JobSearch answer (``{"total": ..., "hits": [ad, ...]}``),
a JobStream snapshot or stream (``[ad, ...]``; the stream also carries removed ads, often
with little more than ``id``, ``removed`` and ``removed_date``), or one ad (``/ad/{id}``).
Keeps ads whose workplace is in one of the ten municipalities (by ``municipality_code``,
else ``municipality_concept_id``); is idempotent by ad id (a job is created once and then
updated); archives ads that are removed or whose application deadline has passed; with
``snapshot=True`` (a complete snapshot) also archives our ads that are no longer in it.

Written for volume: existing ads are read once as plain rows, new ones inserted and
changed ones updated in executemany batches, unchanged ones left alone.
"""

import json
import logging
import urllib.request
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.jobs import job
from lotsen.matching.models import JobOpening
from lotsen.matching.services import JOB_FIELDS, job_search_text
from lotsen.matching.vocab import Extent, JobSource, JobStatus
from lotsen.regions.models import Municipality
from lotsen.workdays import local_date

log = logging.getLogger(__name__)
COMPARED = JOB_FIELDS  # an unchanged ad is not written


class JobTechError(ValueError):
    """The file or answer is not in the JobSearch/JobStream shape."""


def ads_of(payload: Any) -> list[dict]:
    if isinstance(payload, list):
        ads = payload
    elif isinstance(payload, dict) and isinstance(payload.get("hits"), list):
        ads = payload["hits"]
    elif isinstance(payload, dict) and "id" in payload:
        ads = [payload]
    else:
        raise JobTechError("expected a JobSearch answer (hits), a JobStream list or one ad")
    return [ad for ad in ads if isinstance(ad, dict)]


def _label(item) -> str | None:
    if isinstance(item, list):
        item = item[0] if item else None
    return (item or {}).get("label") if isinstance(item, dict) else None


def _ssyk(ad: dict) -> str | None:
    group = ad.get("occupation_group")
    if isinstance(group, list):
        group = group[0] if group else None
    code = str((group or {}).get("legacy_ams_taxonomy_id") or "")
    return code if len(code) == 4 and code.isdigit() else None


def _day(value) -> date | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _extent(ad: dict) -> Extent | None:
    hours = (_label(ad.get("working_hours_type")) or "").casefold()
    if hours.startswith("heltid") or "full" in hours:
        return Extent.FULL_TIME
    if hours.startswith("deltid") or "part" in hours:
        return Extent.PART_TIME
    scope = ad.get("scope_of_work") or {}
    if isinstance(scope, dict) and scope.get("min") is not None:
        return Extent.FULL_TIME if scope["min"] >= 100 else Extent.PART_TIME
    return None


def job_values(ad: dict, code: str, today: date) -> dict | None:
    """Our columns for one ad, or None when the ad has no headline."""
    title = (ad.get("headline") or "").strip()
    if not title:
        return None
    deadline = _day(ad.get("application_deadline"))
    occupation = _label(ad.get("occupation"))
    expired = deadline is not None and deadline < today
    return {
        "municipality_code": code,
        "title": title[:200],
        "employer": ((ad.get("employer") or {}).get("name") or None),
        "occupation": occupation[:200] if occupation else None,
        "ssyk_code": _ssyk(ad),
        "extent": _extent(ad),
        "employment_type": (_label(ad.get("employment_type")) or None),
        "last_application_date": deadline,
        "url": (ad.get("webpage_url") or None),
        "status": JobStatus.ARCHIVED if expired or ad.get("removed") else JobStatus.OPEN,
        "search_text": job_search_text(title, occupation),
    }


def import_ads(ads: list[dict], now: datetime, snapshot: bool = False) -> dict[str, int]:
    """Create, update and archive jobs from JobTech ads; returns counts. Only flushes."""
    today = local_date(now)
    ours = {m.code: m.code for m in db.session.scalars(select(Municipality))}
    by_concept = {m.jobtech_concept_id: m.code for m in db.session.scalars(select(Municipality))}
    existing = {
        row.external_id: row
        for row in db.session.execute(
            select(
                JobOpening.id, JobOpening.external_id, *(getattr(JobOpening, c) for c in COMPARED)
            ).where(JobOpening.source == JobSource.JOBTECH)
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "archived": 0, "outside": 0, "invalid": 0}
    new_rows: dict[str, dict] = {}
    changed, seen = [], set()
    for ad in ads:
        ad_id = str(ad.get("id") or "").strip()
        if not ad_id:
            counts["invalid"] += 1
            continue
        seen.add(ad_id)
        current = existing.get(ad_id)
        if ad.get("removed"):
            new_rows.pop(ad_id, None)
            if current is not None and current.status != JobStatus.ARCHIVED:
                changed.append({"id": current.id, "status": JobStatus.ARCHIVED, "updated_at": now})
                counts["archived"] += 1
            continue
        address = ad.get("workplace_address") or {}
        code = ours.get(str(address.get("municipality_code") or "")) or by_concept.get(
            address.get("municipality_concept_id")
        )
        if code is None:
            if current is not None and current.status != JobStatus.ARCHIVED:
                # moved out of the region: no longer ours to show
                changed.append({"id": current.id, "status": JobStatus.ARCHIVED, "updated_at": now})
                counts["archived"] += 1
            else:
                counts["outside"] += 1
            continue
        values = job_values(ad, code, today)
        if values is None:
            counts["invalid"] += 1
            continue
        if current is None:
            if ad_id in new_rows:  # the same ad twice in one file: the later copy wins
                counts["created"] -= 1
            elif values["status"] == JobStatus.ARCHIVED:
                counts["archived"] += 1  # expired before we ever showed it
            new_rows[ad_id] = values | {
                "source": JobSource.JOBTECH,
                "external_id": ad_id,
                "created_at": now,
                "updated_at": now,
            }
            counts["created"] += 1
        elif all(getattr(current, c) == values[c] for c in COMPARED):
            counts["unchanged"] += 1
        else:
            if values["status"] == JobStatus.ARCHIVED and current.status != JobStatus.ARCHIVED:
                counts["archived"] += 1
            changed.append(values | {"id": current.id, "updated_at": now})
            counts["updated"] += 1
    if snapshot:
        for ad_id, row in existing.items():
            if ad_id not in seen and row.status == JobStatus.OPEN:
                changed.append({"id": row.id, "status": JobStatus.ARCHIVED, "updated_at": now})
                counts["archived"] += 1
    counts["archived"] += archive_expired(today, now, skip={c["id"] for c in changed})
    if new_rows:
        # Core executemany: the ORM's bulk path costs more per row than the database does
        db.session.execute(insert(JobOpening.__table__), list(new_rows.values()))
    if changed:
        db.session.execute(update(JobOpening), changed)  # by primary key, executemany
    db.session.flush()
    return counts


def archive_expired(today: date, now: datetime, skip=frozenset()) -> int:
    """Archive open JobTech jobs whose last application date has passed."""
    ids = [
        i
        for i in db.session.scalars(
            select(JobOpening.id).where(
                JobOpening.source == JobSource.JOBTECH,
                JobOpening.status == JobStatus.OPEN,
                JobOpening.last_application_date < today,
            )
        )
        if i not in skip
    ]
    if ids:
        db.session.execute(
            update(JobOpening)
            .where(JobOpening.id.in_(ids))
            .values(status=JobStatus.ARCHIVED, updated_at=now)
        )
    return len(ids)


def import_file(path: str, now: datetime | None = None, snapshot: bool = False) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        try:
            payload = json.load(f)
        except json.JSONDecodeError as exc:
            raise JobTechError(f"not JSON: {exc}") from exc
    return import_ads(ads_of(payload), now or utcnow(), snapshot=snapshot)


def fetch(url: str) -> Any:
    headers = {"Accept": "application/json"}
    if key := current_app.config.get("JOBTECH_API_KEY"):
        headers["api-key"] = key
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - configured URL
    with urllib.request.urlopen(request, timeout=current_app.config["JOBTECH_TIMEOUT"]) as resp:  # noqa: S310
        return json.load(resp)


@job("import-jobtech")
def import_jobtech(now: datetime) -> dict[str, int] | None:
    """Nightly: read ``JOBTECH_SOURCE_URL`` (a JobStream snapshot or JobSearch answer)."""
    url = current_app.config.get("JOBTECH_SOURCE_URL")
    if not url:
        return None
    payload = fetch(url)
    counts = import_ads(ads_of(payload), now, snapshot=current_app.config["JOBTECH_SNAPSHOT"])
    log.info("JobTech import from %s: %s", url, counts)
    return counts
