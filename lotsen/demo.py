"""A living demo region: ten guides, a coordinator, an admin, a communicator, ~300
households and three events (a Dutch emigration fair, a webinar, a visit weekend in Malå).

Deterministic (a seeded random generator), and it only ever fills an empty database.
"""

import random
from datetime import time, timedelta

from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.accounts.services import create_user
from lotsen.contacts.models import Channel, Direction
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.households.models import Household
from lotsen.households.services import HouseholdData, change_stage, create_household
from lotsen.households.vocab import CloseReason, HousingType, MoverKind, Source, Stage, Tenure
from lotsen.regions.models import Municipality

DEMO_PASSWORD = "lotsen-demo-2026"  # noqa: S105 - printed on purpose, demo only
DEMO_DOMAIN = "demo.lotsen.example"

GUIDE_NAMES = {
    "2506": "Karin Lindqvist",
    "2505": "Jonas Öberg",
    "2425": "Maria Sjöberg",
    "2481": "Erik Holmgren",
    "2418": "Sara Nilsson",
    "2417": "Anders Forsberg",
    "2422": "Lena Marklund",
    "2421": "Mikael Lundström",
    "2462": "Elin Jonsson",
    "2463": "Per Wikström",
}

PEOPLE = {
    "NL": (
        "nl",
        ["Daan", "Sanne", "Lotte", "Bram", "Eva", "Joris", "Femke", "Ruben", "Anouk", "Thijs"],
        ["de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "de Boer", "Mulder"],
    ),
    "DE": (
        "de",
        ["Lukas", "Anna", "Felix", "Lena", "Jonas", "Miriam", "Tobias", "Katrin", "Jan", "Sophie"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"],
    ),
    "SE": (
        "sv",
        ["Johan", "Emma", "Oskar", "Linnea", "Viktor", "Hanna", "Albin", "Frida", "Nils", "Ida"],
        ["Andersson", "Johansson", "Karlsson", "Persson", "Eriksson", "Lindberg", "Berglund"],
    ),
}
CHILD_NAMES = ["Noah", "Mila", "Liam", "Saga", "Finn", "Elsa", "Levi", "Julia", "Sem", "Tess"]
OCCUPATIONS = [
    ("Sjuksköterska", "2221"),
    ("Grundskollärare", "2341"),
    ("Snickare", "7115"),
    ("Mjukvaruutvecklare", "2512"),
    ("Undersköterska", "5321"),
    ("Elektriker", "7411"),
    ("Förskollärare", "2343"),
    ("Lastbilsförare", "8332"),
    ("Civilingenjör", "2141"),
    ("Kock", "5120"),
]
SUMMARIES = [
    "Samtal om bostadsläget och skolor i kommunen.",
    "Skickade information om lediga jobb inom vården.",
    "Pratade om besöksresa i sommar.",
    "Följde upp efter mässan, intresserade av hus på landet.",
    "Kontakt med arbetsgivare förmedlad för partnern.",
    "Gick igenom förskoleplats och barnomsorg.",
    "Videomöte med hela familjen, många frågor om vintern.",
    "Svar på frågor om bredband och pendling.",
]
SOURCES = [
    Source.FAIR,
    Source.WEBSITE,
    Source.SOCIAL_MEDIA,
    Source.FRIEND,
    Source.EMPLOYER,
    Source.RETURNEE_MAILING,
    Source.EVENT,
    Source.CAMPAIGN,
]
# How far along the pipeline the demo households got (weights per final stage).
STAGE_WEIGHTS = {
    Stage.NEW: 12,
    Stage.CONTACTED: 20,
    Stage.PLANNING: 22,
    Stage.VISIT: 10,
    Stage.DECIDED: 8,
    Stage.MOVED_IN: 12,
    Stage.CLOSED: 16,
}
PIPELINE = [Stage.NEW, Stage.CONTACTED, Stage.PLANNING, Stage.VISIT, Stage.DECIDED, Stage.MOVED_IN]


def _already_seeded() -> bool:
    users = db.session.scalar(select(func.count()).select_from(User))
    households = db.session.scalar(select(func.count()).select_from(Household))
    return bool(users or households)


def _accounts() -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    guides = {}
    logins = []
    for muni in db.session.scalars(select(Municipality).order_by(Municipality.name)):
        slug = muni.name.lower().translate(str.maketrans("åäö", "aao"))
        guide = create_user(
            email=f"lots.{slug}@{DEMO_DOMAIN}",
            name=GUIDE_NAMES[muni.code],
            role=Role.GUIDE,
            password=DEMO_PASSWORD,
            municipality_code=muni.code,
        )
        guides[muni.code] = guide
        logins.append((guide.email, "guide", muni.name))
    for local, name, role in (
        ("koordinator", "Annika Strömberg", Role.COORDINATOR),
        ("admin", "Tomas Lejon", Role.ADMIN),
        ("kommunikator", "Johanna Berglund", Role.COMMUNICATOR),
    ):
        user = create_user(
            email=f"{local}@{DEMO_DOMAIN}",
            name=name,
            role=role,
            password=DEMO_PASSWORD,
            locale="sv",
        )
        logins.append((user.email, role.value, "Region 10"))
    return guides, logins


def _household_data(rng: random.Random, codes: list[str]) -> HouseholdData:
    country = rng.choice(["NL", "NL", "DE", "DE", "SE"])
    language, first_names, last_names = PEOPLE[country]
    last = rng.choice(last_names)
    adults = 1 if rng.random() < 0.3 else 2
    persons = []
    for i, first_name in enumerate(rng.sample(first_names, adults)):
        occupation, ssyk = rng.choice(OCCUPATIONS)
        persons.append(
            {
                "kind": "adult",
                "first_name": first_name,
                "last_name": last,
                "birth_year": rng.randint(1968, 1998),
                "occupation": occupation,
                "ssyk_code": ssyk,
                "languages": {
                    "nl": "nederländska, engelska",
                    "de": "tyska, engelska",
                    "sv": "svenska",
                }[language],
                "seeks_job": i == 0 or rng.random() < 0.6,
            }
        )
    for child in rng.sample(CHILD_NAMES, rng.choice([0, 0, 1, 2, 3])):
        persons.append(
            {
                "kind": "child",
                "first_name": child,
                "last_name": last,
                "birth_year": rng.randint(2010, 2025),
            }
        )
    family = f"Familjen {last}" if len(persons) > 1 else f"{persons[0]['first_name']} {last}"
    primary = rng.choice(codes) if rng.random() > 0.08 else None
    email_local = f"{persons[0]['first_name']}.{last}".lower().replace(" ", "")
    email_local = email_local.translate(str.maketrans("åäöü", "aaou"))
    prefix, digits = {"NL": ("+3162", 7), "DE": ("+49151", 8), "SE": ("+4670", 7)}[country]
    phone = prefix + "".join(str(rng.randint(0, 9)) for _ in range(digits))
    return HouseholdData(
        fields={
            "name": family,
            "email": f"{email_local}{rng.randint(1, 99)}@example.com",
            "phone": phone,
            "country": country,
            "town": {"NL": "Utrecht", "DE": "Hannover", "SE": "Göteborg"}[country],
            "language": language,
            "mover_kind": rng.choice(list(MoverKind)),
            "primary_municipality_code": primary,
            "housing_tenure": rng.choice(list(Tenure)),
            "housing_type": rng.choice(list(HousingType)),
            "housing_rooms": rng.randint(2, 6),
            "housing_budget": rng.choice([None, 800_000, 1_500_000, 2_500_000]),
            "timeframe": rng.choice(["Sommaren 2027", "Inom ett år", "Om några år", None]),
            "source": rng.choice(SOURCES),
            "notes": None,
        },
        persons=persons,
        other_municipalities=rng.sample(codes, rng.choice([0, 0, 1, 2])),
        tags=rng.sample(
            ["barnfamilj", "vård", "distansarbete", "hund", "företagare"], rng.choice([0, 1, 2])
        ),
    )


def seed_demo(count: int = 300, seed: int = 10) -> list[tuple[str, str, str]] | None:
    """Create the demo region; returns the logins, or None when data was already there."""
    if _already_seeded():
        return None
    rng = random.Random(seed)
    guides, logins = _accounts()
    codes = sorted(guides)
    coordinator = db.session.scalar(select(User).where(User.role == Role.COORDINATOR))
    now = clock.now()
    households = []
    for _ in range(count):
        data = _household_data(rng, codes)
        created = now - timedelta(days=rng.randint(1, 730), minutes=rng.randint(0, 1440))
        code = data.fields["primary_municipality_code"]
        guide = guides.get(code)
        household = create_household(data, by=guide or coordinator, guide=guide, at=created)
        households.append(household)
        final = rng.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()))[0]
        steps = (
            PIPELINE[1 : PIPELINE.index(final) + 1]
            if final != Stage.CLOSED
            else PIPELINE[1 : rng.randint(2, 4)]
        )
        span = (now - created).total_seconds()
        at = created
        for stage in [*steps, *([Stage.CLOSED] if final == Stage.CLOSED else [])]:
            at = at + timedelta(seconds=rng.uniform(0.05, 0.25) * span)
            at = min(at, now - timedelta(hours=1))
            for _c in range(rng.randint(1, 3)):
                contact_at = at - timedelta(hours=rng.randint(1, 72))
                if contact_at > created:
                    log_contact(
                        household,
                        guide,
                        channel=rng.choice(list(Channel)),
                        direction=rng.choice(list(Direction)),
                        summary=rng.choice(SUMMARIES),
                        at=contact_at,
                    )
            reason = rng.choice(list(CloseReason)) if stage == Stage.CLOSED else None
            change_stage(household, stage, guide or coordinator, close_reason=reason, at=at)
        if household.stage not in (Stage.MOVED_IN, Stage.CLOSED) and guide and rng.random() < 0.6:
            create_followup(
                household,
                due_on=clock.today() + timedelta(days=rng.randint(-10, 30)),
                by=guide,
                title=rng.choice(["Ring upp", "Skicka bostadstips", "Boka besök"]),
            )
    _events(rng, guides, coordinator, households, now)
    db.session.flush()
    return logins


def _events(rng: random.Random, guides: dict, coordinator: User, households: list, now) -> None:
    """A Dutch emigration fair (held, with attendance marked), a webinar and a visit weekend
    in Malå that is full and has a waiting list."""
    from lotsen.events.services import EventData, save_event
    from lotsen.events.signups import set_status, sign_up
    from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus

    def at(days: int, hour: int):
        day = clock.local_date(now) + timedelta(days=days)
        return clock.local_to_utc(day, time(hour, 0))

    codes = sorted(guides)
    fair = save_event(
        EventData(
            name="Emigratiebeurs Utrecht",
            kind=EventType.FAIR,
            starts_at=at(-40, 10),
            ends_at=at(-39, 17),
            status=EventStatus.OPEN,
            municipality_codes=codes,
            staff_ids=[guides["2418"].id, guides["2462"].id],
            place="Jaarbeurs, Utrecht",
            country="NL",
            cost_sek=68_000,
            descriptions={
                "sv": "Move Up North i monter 12: bo och arbeta i Sveriges inland.",
                "nl": "Move Up North op stand 12: wonen en werken in het Zweedse binnenland.",
            },
        ),
        coordinator,
    )
    dutch = [h for h in households if h.country == "NL" and h.created_at < at(-70, 0)]
    visitors = rng.sample(dutch, min(14, len(dutch)))
    for n, household in enumerate(visitors):
        signup = sign_up(
            fair,
            household,
            channel=rng.choice([SignupChannel.PUBLIC, SignupChannel.CAPTURE]),
            by=None,
            now=at(-rng.randint(41, 70), 12),
        )
        outcome = {0: SignupStatus.NO_SHOW, 1: SignupStatus.NO_SHOW, 2: SignupStatus.CANCELLED}
        status = outcome.get(n, SignupStatus.ATTENDED)
        set_status(signup, status, by=guides["2418"], now=at(-39, 17))
    fair.status = EventStatus.HELD

    webinar = save_event(
        EventData(
            name="Webbinarium: att bo och arbeta i inlandet",
            kind=EventType.WEBINAR,
            starts_at=at(9, 19),
            ends_at=at(9, 20),
            status=EventStatus.OPEN,
            municipality_codes=codes,
            staff_ids=[coordinator.id],
            online_url="https://meet.example.org/move-up-north",
            capacity=100,
            descriptions={
                "sv": "En timme om jobb, bostäder och skola – med frågor på slutet.",
                "en": "One hour about jobs, homes and schools, with questions at the end.",
                "de": "Eine Stunde über Arbeit, Wohnen und Schule, mit Fragen am Ende.",
                "nl": "Een uur over werk, wonen en school, met vragen aan het eind.",
            },
        ),
        coordinator,
    )
    for household in rng.sample(households, 25):
        sign_up(webinar, household, channel=SignupChannel.PUBLIC, by=None, now=now)

    visit = save_event(
        EventData(
            name="Besöksweekend i Malå",
            kind=EventType.VISIT_TRIP,
            starts_at=at(37, 10),
            ends_at=at(39, 15),
            status=EventStatus.OPEN,
            municipality_codes=["2418"],
            staff_ids=[guides["2418"].id],
            place="Malå",
            country="SE",
            capacity=12,
            cost_sek=24_000,
            descriptions={
                "sv": "Tre dagar i Malå: visningar av hus, skolan, arbetsgivare och fjället.",
                "nl": "Drie dagen in Malå: huizen bekijken, de school, werkgevers en het fjäll.",
                "de": "Drei Tage in Malå: Häuser, die Schule, Arbeitgeber und das Fjäll.",
            },
        ),
        guides["2418"],
    )
    families = [h for h in households if "2418" in h.municipality_codes and len(h.persons) > 1]
    for household in families[:7]:
        sign_up(
            visit,
            household,
            channel=SignupChannel.STAFF,
            by=guides["2418"],
            people=min(len(household.persons), 4),
            now=now,
        )
