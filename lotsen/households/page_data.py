"""The household as its page shows it: plain values from two statements built once per
process, in place of the ORM object and its five select-in loads (members, municipalities,
tags, shares with their users), which were a sixth of the page's time.

``PageHousehold`` has the attributes of ``Household`` that the page's panels read
(``household.guide.name``, ``household.persons``, ``household.other_municipalities`` …);
changing a household goes through the ORM object (``load_household``) as before.
"""

from functools import cache, lru_cache
from types import SimpleNamespace

from sqlalchemy import Integer, bindparam, cast, literal, null, select, union_all
from sqlalchemy.sql import ColumnElement, Select

from lotsen.access import household_row_or_404
from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.households.models import (
    Household,
    HouseholdShare,
    Person,
    PersonKind,
    Tag,
    household_municipality,
    household_tag,
)
from lotsen.regions.models import municipality_refs

# Every column the page may read; not the search text (the page does not show it).
_COLUMNS = tuple(c for c in Household.__table__.c if c.key != "search_text")
_PERSON_COLUMNS = tuple(c for c in Person.__table__.c if c.key != "household_id")

_PERSON, _TAG, _MUNICIPALITY, _SHARE = 0, 1, 2, 3


class PagePerson(SimpleNamespace):
    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class PageHousehold(SimpleNamespace):
    """A household's columns, its guide (``id``, ``name``), primary municipality and
    municipalities (``code``, ``name``), members, tags (``id``, ``name``) and shares
    (``user_id``, ``user.name``)."""

    @property
    def adults(self) -> list:
        return [p for p in self.persons if p.kind == PersonKind.ADULT]

    @property
    def children(self) -> list:
        return [p for p in self.persons if p.kind == PersonKind.CHILD]

    @property
    def other_municipalities(self) -> list:
        return [m for m in self.municipalities if m.code != self.primary_municipality_code]

    @property
    def municipality_codes(self) -> set[str]:
        return {m.code for m in self.municipalities}


def page_household(household_id: int) -> PageHousehold:
    """The household with what its page shows, if the current user may see it (404
    otherwise: the scope rule of lotsen/access.py, read afresh in every request)."""
    row = household_row_or_404(household_id, _household_statement)
    persons, tags, codes, shares = [], [], set(), []
    rows = db.session.connection().execute(_members_statement(), {"household_id": household_id})
    for member in rows:
        src, num, text = member[:3]
        if src == _PERSON:
            persons.append(PagePerson(**member._mapping))
        elif src == _TAG:
            tags.append(SimpleNamespace(id=num, name=text))
        elif src == _MUNICIPALITY:
            codes.add(text)
        else:
            shares.append(SimpleNamespace(user_id=num, user=SimpleNamespace(id=num, name=text)))
    refs = municipality_refs()  # sorted by name, as the relationship is
    values = dict(row._mapping)
    guide_name = values.pop("guide_name")
    primary = values["primary_municipality_code"]
    return PageHousehold(
        **values,
        guide=None
        if values["guide_id"] is None
        else SimpleNamespace(id=values["guide_id"], name=guide_name),
        primary_municipality=next((m for m in refs if m.code == primary), None),
        municipalities=[m for m in refs if m.code in codes],
        persons=persons,
        tags=sorted(tags, key=lambda t: t.name),
        shares=sorted(shares, key=lambda s: s.user_id),
    )


@lru_cache(maxsize=256)
def _household_statement(visible: ColumnElement[bool]) -> Select:
    """Built once per scope condition (lotsen/access.py caches those per guide)."""
    return (
        select(*_COLUMNS, User.name.label("guide_name"))
        .outerjoin(User, User.id == Household.guide_id)
        .where(Household.id == bindparam("household_id"), visible)
    )


@cache
def _members_statement() -> Select:
    """Members, tags, municipalities of interest and shares in one statement: rows of
    (src, num, text) and, for members, their other columns (NULL in the other rows)."""
    hid = bindparam("household_id")
    hm = household_municipality.c
    rest = [c for c in _PERSON_COLUMNS if c.key not in ("id", "first_name")]

    def no_rest():
        return [cast(null(), c.type).label(c.key) for c in rest]

    members = union_all(
        select(literal(_PERSON, Integer).label("src"), Person.id, Person.first_name, *rest).where(
            Person.household_id == hid
        ),
        select(literal(_TAG, Integer), Tag.id, Tag.name, *no_rest())
        .join(household_tag, household_tag.c.tag_id == Tag.id)
        .where(household_tag.c.household_id == hid),
        select(
            literal(_MUNICIPALITY, Integer),
            cast(null(), Integer),
            hm.municipality_code,
            *no_rest(),
        ).where(hm.household_id == hid),
        select(literal(_SHARE, Integer), HouseholdShare.user_id, User.name, *no_rest())
        .join(User, User.id == HouseholdShare.user_id)
        .where(HouseholdShare.household_id == hid),
    ).subquery()
    return select(members).order_by(members.c.src, members.c.position, members.c.id)
