"""Build realistic users and households in one call, through the real service functions."""

import itertools
from dataclasses import dataclass
from functools import cache

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.accounts.services import hash_password
from lotsen.extensions import db
from lotsen.households.services import HouseholdData, create_household

PASSWORD = "correct horse battery staple"
NORSJO, MALA, LYCKSELE = "2417", "2418", "2481"
_seq = itertools.count(1)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def user(role=Role.GUIDE, municipality=NORSJO, name=None, email=None, extra=(), **kw) -> User:
    n = next(_seq)
    u = User(
        email=email or f"user{n}@lotsen.example",
        name=name or f"User {n}",
        role=Role(role),
        municipality_code=municipality if Role(role) == Role.GUIDE else None,
        password_hash=password_hash(),
        **kw,
    )
    db.session.add(u)
    db.session.flush()
    if extra:
        from lotsen.regions.models import Municipality

        u.extra_municipalities = [db.session.get(Municipality, c) for c in extra]
        db.session.flush()
    return u


def household_data(
    name=None, municipality=NORSJO, persons=None, others=(), tags=(), **fields
) -> HouseholdData:
    n = next(_seq)
    base = {
        "name": name or f"Familjen Test{n}",
        "email": f"family{n}@example.nl",
        "phone": None,
        "country": "NL",
        "language": "nl",
        "primary_municipality_code": municipality,
    }
    base.update(fields)
    return HouseholdData(
        fields=base,
        persons=persons
        if persons is not None
        else [
            {"kind": "adult", "first_name": "Sanne", "last_name": f"Test{n}", "birth_year": 1988},
            {"kind": "child", "first_name": "Noah", "last_name": f"Test{n}", "birth_year": 2018},
        ],
        other_municipalities=list(others),
        tags=list(tags),
    )


def household(municipality=NORSJO, guide=None, by=None, at=None, **kw):
    return create_household(
        household_data(municipality=municipality, **kw), by=by or guide, guide=guide, at=at
    )


@dataclass
class Region:
    norsjo_guide: User
    mala_guide: User
    coordinator: User
    admin: User
    communicator: User

    @classmethod
    def create(cls) -> "Region":
        return cls(
            norsjo_guide=user(Role.GUIDE, NORSJO, name="Anders Norsjö"),
            mala_guide=user(Role.GUIDE, MALA, name="Sara Malå"),
            coordinator=user(Role.COORDINATOR, name="Annika Koordinator"),
            admin=user(Role.ADMIN, name="Tomas Admin"),
            communicator=user(Role.COMMUNICATOR, name="Klara Kommunikatör"),
        )


def listing(municipality=NORSJO, by=None, **fields):
    from lotsen.matching.services import save_listing

    n = next(_seq)
    data = {
        "municipality_code": municipality,
        "title": f"Lägenhet {n}",
        "tenure": "rent",
        "type": "apartment",
        "rooms": 3,
        "rent": 6500,
    }
    return save_listing(data | fields, by)


def job(municipality=NORSJO, by=None, **fields):
    from lotsen.matching.services import save_job

    n = next(_seq)
    data = {"municipality_code": municipality, "title": f"Jobb {n}", "employer": "Kommunen"}
    return save_job(data | fields, by)


def mala_listing_job_match(household, guide):
    """A Malå listing, a Malå job and a match of the listing with ``household``."""
    return listing_job_match(household, guide, MALA)


def listing_job_match(household, guide, municipality=NORSJO):
    """A listing, a job and a match of the listing with ``household``."""
    from lotsen.matching.services import suggest

    lst = listing(municipality, by=guide)
    jb = job(municipality, by=guide, occupation="Sjuksköterska", ssyk_code="2221")
    return lst, jb, suggest(household, guide, listing=lst, today=clock.today())
