"""Hostile input on every route, generated from the URL map (like the permission matrix).

For each role (anonymous, guide, coordinator, admin, communicator) and database:
- every route with hostile path values (huge, negative, zero, non-numeric ids; NUL, long
  and odd tokens): ids outside the database's range are a 404, never a 5xx;
- every GET route with hostile query strings (keys that ``url_for`` reserves, unknown keys,
  10 kB values, huge numbers, NUL and other control characters);
- every POST route with the fields of its form (found on the pages the role can open, as a
  browser would) each replaced in turn by hostile values (huge and negative numbers, NUL,
  control characters, 10 kB, invalid choices). Every role that may post a form sends
  every field; the hostile values are shared out among those roles (guide and coordinator
  split them on the household forms), which keeps the run near a minute per database.
Asserted: no 5xx; NUL and control characters are a 400; a refused post (4xx) changed no
row. A route this test cannot exercise (an unknown path value, a POST route whose form it
cannot find) fails it, so a new route gets covered or the test says so.
"""

import re
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.audiences.services import save_audience
from lotsen.db import utcnow
from lotsen.events.signups import sign_up
from lotsen.events.vocab import SignupChannel
from lotsen.extensions import db, limiter
from lotsen.followups.services import create_followup
from lotsen.households.models import Household
from lotsen.households.services import share_household
from lotsen.imports.services import upload
from lotsen.notifications.models import OutboxMessage, OutboxStatus
from lotsen.notifications.services import Mail, enqueue
from tests import factories
from tests.conftest import login
from tests.test_event_public import form_data as event_form_data
from tests.test_event_public import make_event
from tests.test_events import event
from tests.test_interest import form_data

ROLES = ("anonymous", "guide", "coordinator", "admin", "communicator")
HUGE = "9" * 30
HOSTILE_IDS = (HUGE, str(2**63), str(2**31), "-1", "0", "abc")
HOSTILE_TOKENS = ("%00", "x" * 10_000, "..%2F..%2Fetc", "%FF%FE")
CONTROL = ("a\x00b", "a\x1bb")
# Huge and negative numbers are invalid choices, too.
FIELD_VALUES = (HUGE, "-1", "x" * 10_000, *CONTROL)
# Keys that url_for reserves, unknown keys, and the filter keys of the list pages.
RESERVED_QUERY = {
    "endpoint": "x",
    "_external": "1",
    "_method": "DELETE",
    "_anchor": "x",
    "_scheme": "javascript",
    "values": "1",
    "unknown": "1",
}
FILTER_KEYS = ("q", "tag", "page", "stale_days", "guide", "stage", "municipality", "source")
FILTER_KEYS += ("sort", "lang", "kommun", "next", "status", "mine", "year", "quarter", "format")
FILTER_KEYS += ("reached", "since", "until", "converted", "stage_on", "active", "overdue")
# Valid values a form starts from, where the empty form of the page would be refused anyway,
# so that one hostile field is what decides.
VALID = {
    "households.new": {"name": "Familjen Fientlig", "primary_municipality_code": factories.NORSJO},
    "households.note": {"text": "En anteckning"},
    "contacts.log": {"channel": "phone", "direction": "out", "summary": "Samtal"},
    "followups.create": {"title": "Ring upp", "due_on": clock.today().isoformat()},
    "followups.bulk": {"bulk_title": "Ring alla", "bulk_due_on": clock.today().isoformat()},
    "admin.new_user": {
        "email": "ny@kommun.example",
        "name": "Ny Lots",
        "role": "guide",
        "municipality_code": factories.NORSJO,
        "password": "a long enough password",
        "locale": "sv",
    },
    "interest.form": form_data,  # called in the test: it signs a start time
    "events.new": {
        "name": "Emigratiebeurs",
        "starts_at": "2027-03-13T10:00",
        "ends_at": "2027-03-14T16:00",
        "place": "Utrecht",
        "country": "NL",
    },
    "event_public.page": event_form_data,  # likewise
    "events.capture": {"name": "Eva de Vries", "email": "eva@example.nl", "consent_contact": "y"},
}
VALID["events.edit"] = VALID["events.new"]
# POST routes whose form is on no page a test user can open.
NO_PAGE = {
    "interest.confirm_page": {},
    "event_public.confirm": {},  # the links of the e-mails
    "event_public.cancel": {},
    "accounts.login": {"email": "someone@example.org", "password": "not the password"},
    # shown only once a household has suggestions, a match is interested, a batch imported
    "matching.suggest_match": lambda world: {"listing_id": world["listing_id"]},
    "matching.accept_match": {"next": "/"},
    "imports.undo": {},
    "accounts.second_factor": {"code": "123456"},  # shown only between the two login steps
    "privacy.withdraw": {"consent_id": "1", "withdraw-how": "phone"},  # once there is one
    "privacy.hold": {"hold-until": "2030-01-01", "hold-reason": "Kvar"},  # near disposal
    # the world's token is no household's: the page is a 404 (its form: tests/test_audiences.py)
    "newsletter.unsubscribe": {"List-Unsubscribe": "One-Click"},
    "events.captures": {},  # JSON sent by capture.js, no form
}


class Forms(HTMLParser):
    """The POST forms of a page: action path -> {field: value} as a browser would send."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            path = urlsplit(a.get("action") or self.page_path).path or self.page_path
            self.current = self.forms.setdefault(path, {})
        if self.current is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a or name not in self.current:
                    self.current[name] = a.get("value") or "y"
            elif kind not in ("submit", "button", "file"):
                self.current[name] = a.get("value") or ""
        elif tag == "button" and a.get("value") is not None:
            self.current.setdefault(name, a["value"])
        elif tag == "select":
            self.select = name
            self.current.setdefault(name, "")
        elif tag == "textarea":
            self.current[name] = ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


class Options(HTMLParser):
    """First or selected option of each select (HTMLParser gives options separately)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select:
            value = a.get("value") or ""
            if self.select not in self.values or "selected" in a:
                self.values[self.select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def forms_of(html: str, page_path: str) -> dict[str, dict[str, str]]:
    parser, options = Forms(page_path), Options()
    parser.feed(html)
    options.feed(html)
    for fields in parser.forms.values():
        for name in fields:
            if name in options.values and not fields[name]:
                fields[name] = options.values[name]
    return parser.forms


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


def path_with(rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


def is_id(rule, name: str) -> bool:
    return type(rule._converters[name]).__name__ == "IdConverter"


# Refused logins and codes are recorded on purpose (throttling, the audit log).
RECORDED_WHEN_REFUSED = {"login_attempt", "audit_entry"}


def snapshot():
    """Row counts of every table (but those that record refusals on purpose) and the
    households' versions: what a refused post must not change."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in RECORDED_WHEN_REFUSED]
    counts = [select(func.count()).select_from(t).scalar_subquery() for t in tables]
    versions = select(func.coalesce(func.sum(Household.version), 0)).scalar_subquery()
    return tuple(db.session.execute(select(*counts, versions)).one())


@pytest.fixture
def world(app, region):
    """Objects each role may open, so that hostile values meet real pages and forms."""
    limiter.reset()
    other_guide = factories.user(Role.GUIDE, factories.NORSJO, name="Lisa Norsjö")
    household = factories.household(guide=region.norsjo_guide, name="Familjen Norsjö")
    share_household(household, other_guide, region.norsjo_guide)
    other = factories.household(guide=region.norsjo_guide, name="Familjen Andra")
    followup = create_followup(household, due_on=clock.today(), by=region.norsjo_guide)
    create_followup(household, due_on=clock.today(), by=region.coordinator)
    enqueue(Mail(key="k", kind="test", to="x@example.org", subject="s", body="b"), utcnow())
    db.session.scalars(select(OutboxMessage)).one().status = OutboxStatus.FAILED  # retry shown
    for user in (region.norsjo_guide, region.coordinator, region.admin):
        user.ical_token = f"feed-token-of-user-{user.id}-0123456789abcdef"
    listing, job, match = factories.listing_job_match(household, region.norsjo_guide)
    batch = upload(region.norsjo_guide, "lista.csv", "Namn;Kommun\nFamiljen Ek;Norsjö\n".encode())
    fair = event(region.norsjo_guide, capacity=10)
    sign_up(fair, household, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    event(region.norsjo_guide, name="Webbinarium", days=60)  # one to sign the household up for
    public_event = make_event(slug="fientlig-massa")  # open for sign-up: its page has the form
    audience = save_audience(
        None, name="Nederländare", filters={"countries": ["NL"]}, notes=None, by=region.coordinator
    )
    db.session.commit()
    yield {
        "household_id": str(household.id),
        "followup_id": str(followup.id),
        "message_id": str(db.session.scalar(select(OutboxMessage.id))),
        "other_household": other.id,
        "user_id": str(other_guide.id),  # the share to undo; a user an admin can edit
        "token": region.norsjo_guide.ical_token,
        "listing_id": str(listing.id),
        "job_id": str(job.id),
        "match_id": str(match.id),
        "batch_id": str(batch.id),
        "audience_id": str(audience.id),
        "slug": public_event.slug,
        "event_id": str(fair.id),
    }
    limiter.reset()


def as_role(client, region, role):
    user = {
        "anonymous": None,
        "guide": region.norsjo_guide,
        "coordinator": region.coordinator,
        "admin": region.admin,
        "communicator": region.communicator,
    }[role]
    if user is not None:
        login(client, user)
    return user


def known_values(rule, world) -> dict[str, str]:
    missing = set(rule.arguments) - set(world)
    assert not missing, f"{rule.rule}: add valid and hostile values for {missing}"
    return {name: quote(world[name], safe="") for name in rule.arguments}


@pytest.mark.parametrize("role", ROLES)
def test_hostile_path_values_and_query_strings(app, client, region, world, role):
    user = as_role(client, region, role)
    failures = []

    def check(method, url, expect=None, **kwargs):
        response = client.open(url, method=method, **kwargs)
        status = response.status_code
        if status >= 500 or (expect is not None and status != expect):
            failures.append(f"{method} {url[:120]} as {role}: {status}")
        if rule.endpoint == "accounts.logout" and user is not None:
            login(client, user)

    for rule in routes(app):
        valid = known_values(rule, world)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for name in rule.arguments:
            hostile = HOSTILE_IDS if is_id(rule, name) else HOSTILE_TOKENS
            for value in hostile:
                url = path_with(rule, {**valid, name: value if "%" in value else quote(value)})
                for method in methods:
                    control = "%00" in value or "%01" in value
                    expect = 404 if is_id(rule, name) else (400 if control else None)
                    check(method, url, expect)
        if "GET" not in methods:
            continue
        url = path_with(rule, valid)
        check("GET", f"{url}?{urlencode(RESERVED_QUERY)}")
        for value in (HUGE, "-1", "x" * 10_000):
            check("GET", f"{url}?{urlencode(dict.fromkeys(FILTER_KEYS, value))}")
        check("GET", f"{url}?{urlencode({'q': CONTROL[0]})}", 400)
        check("GET", f"{url}?{urlencode({CONTROL[1]: '1'})}", 400)
    assert failures == []


def post_forms(client, app, world) -> dict[str, dict[str, str]]:
    """The POST forms on every page the current user can open, by action path."""
    found: dict[str, dict[str, str]] = {}
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        path = path_with(rule, known_values(rule, world))
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            for action, fields in forms_of(response.get_data(as_text=True), path).items():
                found.setdefault(action, {}).update(fields)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_hostile_form_fields_on_every_post_route(app, client, region, world, role):
    user = as_role(client, region, role)
    forms = post_forms(client, app, world)
    failures, unknown = [], []
    baseline = snapshot()

    def post(rule, path, fields, name, value):
        nonlocal baseline
        data = {**fields, name: value}
        response = client.post(path, data=data)
        status = response.status_code
        if user is not None and rule.endpoint == "accounts.logout":
            login(client, user)
        if status >= 500:
            failures.append(f"POST {path} {name}={value[:20]!r} as {role}: {status}")
        elif value in CONTROL and status != 400:
            failures.append(f"POST {path} {name}={value!r} as {role}: {status}, not 400")
        else:
            now = snapshot()
            if status >= 400 and now != baseline:
                failures.append(f"POST {path} {name}={value[:20]!r} as {role}: {status}, saved")
            baseline = now

    for rule in routes(app):
        if "POST" not in rule.methods:
            continue
        path = path_with(rule, known_values(rule, world))
        allowed = app.view_functions[rule.endpoint].access
        may = "public" in allowed or (user is not None and user.role in allowed)
        if path in forms:
            valid = VALID.get(rule.endpoint, {})
            fields = {**forms[path], **(valid() if callable(valid) else valid)}
        elif rule.endpoint in NO_PAGE:
            entry = NO_PAGE[rule.endpoint]
            fields = dict(entry(world) if callable(entry) else entry)
        elif not may:
            fields = {"field": "value"}  # refused before any form is read
        else:
            unknown.append(f"{rule.endpoint} ({path}) as {role}")
            continue
        fields.pop("csrf_token", None)
        if rule.endpoint == "households.merge":
            fields["other_id"] = str(world["other_household"])
        # Rows of a repeated sub-form (persons-0-..., persons-1-...) are alike: the first.
        names = list(dict.fromkeys(re.sub(r"-\d+-", "-0-", n) for n in fields)) or ["csrf"]
        values = FIELD_VALUES[:1]
        if may:  # the roles that may post share the values out: each sends every field
            share = [r for r in ROLES if r != "anonymous" and Role(r) in allowed]
            share = share if "public" not in allowed else ["anonymous"]
            values = FIELD_VALUES[share.index(role) :: len(share)] if role in share else values
        for name in names if may else names[:1]:
            for value in values:
                post(rule, path, fields, name, value)
    assert unknown == [], "POST routes this test cannot find a form for: " + ", ".join(unknown)
    assert failures == []


def test_every_id_in_the_url_map_is_bounded(app):
    """Every integer path value goes through the bounded id converter."""
    for rule in routes(app):
        for name, converter in rule._converters.items():
            if "int" in type(converter).__name__.lower() or name.endswith("_id"):
                assert is_id(rule, name), f"{rule.rule}: {name} is not an <int:...> id"


@pytest.mark.parametrize(
    ("method", "url", "data", "status"),
    [
        ("GET", "/households/99999999999999999999999", None, 404),
        ("GET", "/households/-1", None, 404),
        ("GET", "/interest?endpoint=x", None, 200),
        ("GET", "/interest?_method=DELETE", None, 200),
        ("GET", "/privacy?endpoint=1", None, 200),
        ("GET", "/households?endpoint=x", None, 200),
        ("GET", "/households?_external=1&page=2", None, 200),
        ("GET", "/households?tag=a%00", None, 400),
        ("POST", "/login", {"email": "a\x00@x", "password": "x"}, 400),
    ],
)
def test_the_reported_hostile_requests(client, region, method, url, data, status):
    if url.startswith("/households"):
        login(client, region.coordinator)
    assert client.open(url, method=method, data=data).status_code == status


def test_merge_with_a_huge_number_is_a_form_error(client, region):
    household = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    before = snapshot()
    response = client.post(f"/households/{household.id}/merge", data={"other_id": HUGE})
    assert response.status_code == 400
    assert re.search(r'id="other_id-error"', response.get_data(as_text=True))
    assert snapshot() == before


def test_list_links_keep_filters_and_drop_foreign_keys(client, region, monkeypatch, app):
    monkeypatch.setitem(app.config, "HOUSEHOLDS_PER_PAGE", 1)
    for _ in range(2):
        factories.household(guide=region.norsjo_guide, tags=["sommar"])
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get("/households?tag=sommar&endpoint=x&_anchor=y&_method=DELETE")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    next_link = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "tag=sommar" in next_link and "page=2" in next_link
    assert not any(k in next_link for k in ("endpoint", "_anchor", "_method", "#"))
    bulk = re.search(r'action="(/households/bulk-followups[^"]*)"', html).group(1)
    assert "tag=sommar" in bulk and "endpoint" not in bulk
