"""The regional dashboard and the funder report against a hand-made history: households that
moved back and forth, one shared between two municipalities, one from before the period."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.households.services import change_stage
from lotsen.households.vocab import CloseReason
from lotsen.pipeline.figures import Scope, dashboard, funder_report
from lotsen.workdays import local_date
from tests import factories

LYCKSELE = factories.LYCKSELE


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def adults_children(adults, children):
    return [{"kind": "adult", "first_name": f"A{i}"} for i in range(adults)] + [
        {"kind": "child", "first_name": f"C{i}", "birth_year": 2018} for i in range(children)
    ]


def history(h, *moves):
    for stage, day, *reason in moves:
        change_stage(h, stage, None, reason[0] if reason else None, at=at(day))


@pytest.fixture
def dataset(region):
    lycksele_guide = factories.user(municipality=LYCKSELE, name="Lena Lycksele")
    g_n, g_m = region.norsjo_guide, region.mala_guide
    a = factories.household(
        factories.NORSJO, guide=g_n, name="A Andersson", source="fair",
        persons=adults_children(2, 1), at=at("2026-01-10"),
    )  # fmt: skip
    history(a, ("contacted", "2026-01-20"), ("planning", "2026-02-01"), ("moved_in", "2026-03-15"))
    b = factories.household(
        factories.NORSJO, guide=g_n, name="B Bakker", source="website", others=[factories.MALA],
        persons=adults_children(1, 2), at=at("2026-02-05"),
    )  # fmt: skip
    history(
        b,
        ("contacted", "2026-02-10"),
        ("moved_in", "2026-04-10"),
        ("decided", "2026-04-20"),
        ("moved_in", "2026-05-05"),
    )
    c = factories.household(
        factories.MALA, guide=g_m, name="C Claessen", source="fair",
        persons=adults_children(1, 0), at=at("2026-03-01"),
    )  # fmt: skip
    history(
        c,
        ("contacted", "2026-03-05"),
        ("closed", "2026-03-20", CloseReason.NO_JOB),
        ("contacted", "2026-04-01"),
    )
    d = factories.household(
        LYCKSELE, guide=lycksele_guide, name="D de Vries", source="fair",
        persons=adults_children(1, 1), at=at("2025-12-01"),
    )  # fmt: skip
    history(d, ("contacted", "2026-01-05"), ("moved_in", "2026-05-01"))
    e = factories.household(
        factories.MALA, guide=g_m, name="E Eriksson", source="social_media",
        at=at("2026-07-15"),
    )  # fmt: skip
    create_followup(c, due_on=local_date(utcnow()) - timedelta(days=2), by=g_m, title="Ring")
    db.session.commit()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "region": region}


def first_half(user, **kw):
    return Scope(user, date(2026, 1, 1), date(2026, 6, 30), **kw)


def test_dashboard_figures_for_the_coordinator(dataset):
    coordinator = dataset["region"].coordinator
    d = dashboard(first_half(coordinator))
    # stage on 30 June, as the history says (C was closed and reopened; E did not exist)
    assert d.stages[factories.NORSJO] == {"moved_in": 2}
    assert d.stages[factories.MALA] == {"moved_in": 1, "contacted": 1}
    assert d.stages[LYCKSELE] == {"moved_in": 1}
    assert d.stages[None] == {"moved_in": 3, "contacted": 1}  # B counted once
    # funnel of the period's new interests (A, B, C): reached at least each stage
    assert d.funnel[None] == [3, 3, 2, 2, 2, 2]
    assert d.funnel[factories.NORSJO] == [2, 2, 2, 2, 2, 2]
    assert d.funnel[factories.MALA] == [2, 2, 1, 1, 1, 1]
    assert LYCKSELE not in d.funnel  # D's interest came before the period
    assert [(b.label, n) for b, n in d.new_per_month] == [
        ("2026-01", 1), ("2026-02", 1), ("2026-03", 1),
        ("2026-04", 0), ("2026-05", 0), ("2026-06", 0),
    ]  # fmt: skip
    quarters = [(b.label, m.households, m.adults, m.children) for b, m in d.moved_per_quarter]
    # B moved in, back to Decided, in again: counted once, at its first arrival
    assert quarters == [("2026 Q1", 1, 2, 1), ("2026 Q2", 2, 2, 3)]
    assert d.median_days == 59.0  # A 54, B 59, D 116 days from first contact
    assert d.sources == [("fair", 2, 1), ("website", 1, 1)]
    workload = {w.name: (w.active, w.overdue, w.days_since) for w in d.workload}
    oldest = (local_date(utcnow()) - date(2026, 3, 1)).days  # C: no contact since created
    assert workload == {"Sara Malå": (2, 1, oldest)}


def test_dashboard_today_uses_current_stages_and_filters(dataset):
    coordinator = dataset["region"].coordinator
    today = local_date(utcnow())
    d = dashboard(Scope(coordinator, date(2026, 1, 1), today, municipality=factories.MALA))
    assert d.stages == {factories.MALA: {"moved_in": 1, "contacted": 1, "new": 1}, None: {
        "moved_in": 1, "contacted": 1, "new": 1}}  # fmt: skip
    d = dashboard(Scope(coordinator, date(2026, 1, 1), today, source="fair"))
    assert d.stages[None] == {"moved_in": 2, "contacted": 1}
    assert d.sources == [("fair", 2, 1)]


def test_guide_sees_figures_of_their_municipalities_only(dataset):
    d = dashboard(first_half(dataset["region"].mala_guide))
    assert set(d.stages) == {factories.MALA, None}
    assert d.stages[None] == {"moved_in": 1, "contacted": 1}  # B (interested in Malå), C
    assert [m.households for _, m in d.moved_per_quarter] == [0, 1]
    assert d.sources == [("fair", 1, 0), ("website", 1, 1)]


def test_funder_report_counts_households_and_persons_once_in_the_region(dataset):
    r = funder_report(dataset["region"].coordinator, 2026, 2)
    m = {code: (v.households, v.adults, v.children) for code, v in r.by_municipality.items()}
    assert m == {
        factories.NORSJO: (1, 1, 2),
        factories.MALA: (1, 1, 2),
        LYCKSELE: (1, 1, 1),
        None: (2, 2, 3),
    }
    assert [(s, v.households, v.persons) for s, v in r.by_source] == [
        ("fair", 1, 2),
        ("website", 1, 3),
    ]
    assert r.median_days == 87.5  # B 59, D 116
    q1 = funder_report(dataset["region"].coordinator, 2026, 1)
    assert q1.by_municipality[None].households == 1 and q1.by_municipality[None].persons == 3


def names_in_list(client, url):
    html = client.get(url).get_data(as_text=True)
    return sorted(re.findall(r'href="/households/\d+">([^<]+)</a>', html))


def link(html, pattern):
    found = re.search(pattern, html)
    assert found, pattern
    return found.group(1).replace("&amp;", "&")


def test_every_number_links_to_the_households_behind_it(dataset, login_as):
    client = login_as(dataset["region"].coordinator)
    page = client.get("/pipeline?since=2026-01-01&until=2026-06-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = re.findall(r'<a href="(/households\?[^"]+)">(\d+)</a>', html)
    assert len(links) > 20
    for url, number in links:
        names = names_in_list(client, url.replace("&amp;", "&"))
        assert len(names) == int(number), (url, names)
    planning = link(html, r'href="(/households\?[^"]*converted=planning)">2<')
    assert "municipality" not in planning
    assert names_in_list(client, planning) == ["A Andersson", "B Bakker"]
    overdue = link(html, r'href="(/households\?overdue=[^"]+)">1<')
    assert names_in_list(client, overdue) == ["C Claessen"]


def test_dashboard_query_count_does_not_grow_with_the_data(dataset, login_as, count_queries):
    client = login_as(dataset["region"].coordinator)
    url = "/pipeline?since=2026-01-01&until=2026-06-30"
    client.get(url)
    with count_queries() as before:
        assert client.get(url).status_code == 200
    guide = dataset["region"].norsjo_guide
    for i in range(25):
        h = factories.household(
            [factories.NORSJO, factories.MALA, LYCKSELE][i % 3], guide=guide,
            source=["fair", "friend", "event"][i % 3], at=at("2026-02-01") + timedelta(days=i),
        )  # fmt: skip
        history(h, ("contacted", f"2026-03-{i + 1:02d}"), ("moved_in", f"2026-05-{i + 1:02d}"))
        create_followup(h, due_on=date(2026, 1, 1), by=guide)
    db.session.commit()
    with count_queries() as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)
    assert len(before) <= 15


def test_period_that_ends_before_it_starts_is_refused(dataset, login_as):
    client = login_as(dataset["region"].coordinator)
    response = client.get("/pipeline?since=2026-06-30&until=2026-01-01", headers={
        "Accept-Language": "sv"})  # fmt: skip
    assert response.status_code == 400
    assert "Periodens slut kommer före dess början." in response.get_data(as_text=True)
