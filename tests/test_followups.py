import re
from datetime import UTC, date, datetime, time, timedelta

import flask_login
import pytest
from flask import render_template_string
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lotsen import clock
from lotsen.contacts.models import Contact
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.forms import action_forms
from lotsen.followups.models import FollowUp
from lotsen.followups.rules import evaluate_rules, save_rule
from lotsen.followups.services import create_followup, due_counts, my_day, overdue_by_guide
from lotsen.households.services import change_stage, share_household
from lotsen.households.vocab import Stage
from lotsen.workdays import add_working_days, is_working_day
from tests import factories
from tests.conftest import ago, login

today = clock.today


def test_guide_creates_a_follow_up_on_the_household_page(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    due = today() + timedelta(days=3)
    response = client.post(
        f"/households/{h.id}/followups",
        data={"title": "Skicka bostadstips", "due_on": due.isoformat(), "due_time": "09:30"},
    )
    assert response.status_code == 302
    f = db.session.scalars(select(FollowUp)).one()
    assert (f.title, f.due_on, f.due_time, f.assignee_id, f.created_by_id) == (
        "Skicka bostadstips",
        due,
        time(9, 30),
        region.norsjo_guide.id,
        region.norsjo_guide.id,
    )
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Skicka bostadstips" in page and "09:30" in page


def test_bad_follow_up_input_is_explained_and_saves_nothing(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    for data, message in (
        ({"title": "", "due_on": "2026-12-01"}, "Det här fältet är obligatoriskt."),
        ({"title": "Ring", "due_on": "31/12"}, "Inte ett giltigt datum"),
        ({"title": "Ring", "due_on": "2026-12-01", "due_time": "25:00"}, "Inte ett giltigt"),
        ({"title": "x" * 201, "due_on": "2026-12-01"}, "200"),
    ):
        response = client.post(f"/households/{h.id}/followups", data=data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert db.session.scalars(select(FollowUp)).all() == []


@pytest.fixture
def day(region, frozen):
    g = region.norsjo_guide
    late = factories.household(guide=g, name="Familjen Sen")
    log_contact(
        late, g, channel="phone", direction="out", summary="Pratade om skolan", at=ago(days=20)
    )
    now_ = factories.household(guide=g, name="Familjen Idag")
    week = factories.household(guide=g, name="Familjen Vecka")
    far = factories.household(guide=g, name="Familjen Sedan")
    t = today()
    assert t.weekday() == 2  # frozen on a Wednesday: Thursday is later this week
    fs = {
        "late": create_followup(late, due_on=t - timedelta(days=2), by=g, title="Ring upp"),
        "today": create_followup(now_, due_on=t, by=g, title="Skicka länkar"),
        "far": create_followup(far, due_on=t + timedelta(days=30), by=g, title="Om en månad"),
    }
    fs["week"] = create_followup(week, due_on=t + timedelta(days=1), by=g, title="Boka besök")
    share_household(late, region.mala_guide, by=g)  # an assignee must see the household
    create_followup(
        late, due_on=t, by=region.mala_guide, title="Någon annans", assignee=region.mala_guide
    )
    db.session.commit()
    return fs


def test_my_day_shows_overdue_today_and_this_week_with_last_contact(client, region, day):
    login(client, region.norsjo_guide)
    page = client.get("/my-day").get_data(as_text=True)
    overdue = page[page.index('id="h-overdue"') : page.index('id="h-today"')]
    today_ = page[page.index('id="h-today"') : page.index('id="h-week"')]
    assert "Familjen Sen" in overdue and "Ring upp" in overdue and "Pratade om skolan" in overdue
    assert "Familjen Idag" in today_ and "Skicka länkar" in today_ and "aldrig" in today_
    assert "Om en månad" not in page and "Någon annans" not in page
    assert "Boka besök" in page[page.index('id="h-week"') :]
    # the navigation counts: 1 overdue, 1 today (what the badges say)
    assert due_counts(region.norsjo_guide, today()) == (1, 1)
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.search(r"1\W*försenade", re.sub(r"<[^>]+>", " ", nav))
    assert re.search(r"1\W*idag", re.sub(r"<[^>]+>", " ", nav))


def test_my_day_draws_each_follow_ups_actions_as_the_macro_does(app, client, region, day):
    """My day fills the macro's markup in per follow-up (lotsen/followups/actions.py): the
    same HTML as the macro's own, for a title that needs escaping and with or without time."""
    day["week"].title = "<b>\"Boka\" & 'besök'</b>"
    day["week"].due_time = time(9, 5)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get("/my-day").get_data(as_text=True)
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    macro = (
        '{% from "followups/_actions.html" import followup_actions with context %}'
        "{{ followup_actions(f, '/my-day', action_forms(f)) }}"
    )
    with app.test_request_context("/my-day"):
        for f in (day["late"], day["today"], day["week"]):
            html = render_template_string(macro, f=f, action_forms=action_forms)
            assert token.sub("", html) in token.sub("", page), f.title
    assert "&lt;b&gt;&#34;Boka&#34; &amp; &#39;besök&#39;&lt;/b&gt;" in page
    assert 'value="09:05"' in page


# A line of my day as the template's loop wrote it before lotsen/followups/actions.py
OLD_LINE = """{% set f = line %}<div class="day-line">
        <p class="day-main"><a href="\
{{ url_for('households.view', household_id=f.household_id) }}">{{ f.household_name }}</a>\
 – {{ f.title }}</p>
        <p class="muted">{{ _("Due") }} {{ f.due_on|date("medium") }}\
{% if f.due_time %} {{ f.due_time.strftime("%H:%M") }}{% endif %}
          · {{ _("Last contact") }}: {% if line.last_contact_at %}\
{{ line.last_contact_at|date("medium") }}{% if line.last_contact_summary %} – \
{{ line.last_contact_summary|truncate(90) }}{% endif %}{% else %}{{ _("never") }}{% endif %}</p>
        {% if f.note %}<p class="pre">{{ f.note }}</p>{% endif %}
      </div>"""


def test_my_day_lines_are_drawn_as_the_template_drew_them(app, client, region, day):
    g = region.norsjo_guide
    day["week"].note = "<i>Ta med</i> & 'karta'"
    day["week"].due_time = time(14, 30)
    day["week"].household.name = '<b>"Vecka"</b>'
    long = "Pratade länge om skolan, förskolan och fritidshemmet i byn " * 3
    log_contact(day["today"].household, g, channel="phone", direction="in", summary=long)
    db.session.commit()
    login(client, g)
    page = client.get("/my-day").get_data(as_text=True)
    with app.test_request_context("/my-day"):
        flask_login.login_user(g)
        lines = [line for section in my_day(g, today()).values() for line in section]
        assert len(lines) == 3
        for line in lines:
            assert render_template_string(OLD_LINE, line=line) in page, line.title
    assert "...</p>" in page and 'class="pre"' in page and "14:30" in page


def test_my_day_needs_a_fixed_number_of_queries(client, region, day, count_queries):
    login(client, region.norsjo_guide)
    client.get("/my-day")  # reference data is read once per process

    def statements():
        with count_queries() as queries:
            assert client.get("/my-day").status_code == 200
        return len(queries)

    few = statements()
    for i in range(5):
        h = factories.household(guide=region.norsjo_guide)
        create_followup(h, due_on=today(), by=region.norsjo_guide, title=f"Ring {i}")
    db.session.commit()
    # user with scope, navigation counts, the follow-ups with their households' last contact
    assert statements() == few <= 3


def test_coordinator_sees_every_guides_overdue_count(client, region, day):
    counts = {user.name: (overdue, due) for user, overdue, due in overdue_by_guide(today())}
    assert counts["Anders Norsjö"] == (1, 1)
    login(client, region.coordinator)
    page = client.get("/my-day").get_data(as_text=True)
    table = page[page.index('id="h-guides"') :]
    row = table[table.index("Anders Norsjö") :]
    row = re.sub(r"<[^>]+>", " ", row[: row.index("</tr>")])
    assert row.split()[-2:] == ["1", "1"]  # the row shows both counts


def test_complete_with_a_contact_in_one_step(client, region, day):
    login(client, region.norsjo_guide)
    f = day["late"]
    response = client.post(
        f"/followups/{f.id}/complete?next=/my-day",
        data={"log_contact": "y", "channel": "phone", "direction": "out", "summary": "Nådde dem"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/my-day"
    db.session.refresh(f)
    assert f.status == "done" and f.completed_by_id == region.norsjo_guide.id
    contact = db.session.scalars(select(Contact).where(Contact.summary == "Nådde dem")).one()
    assert contact.household_id == f.household_id
    # a second click changes nothing
    client.post(f"/followups/{f.id}/complete")
    assert db.session.scalars(select(Contact).where(Contact.summary == "Nådde dem")).all() == [
        contact
    ]


def test_complete_and_log_without_summary_is_refused(client, region, day):
    login(client, region.norsjo_guide)
    f = day["today"]
    response = client.post(
        f"/followups/{f.id}/complete",
        data={"log_contact": "y", "channel": "phone", "direction": "out", "summary": ""},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(rf'id="summary-{f.id}-error">([^<]*)<', page)  # at the field
    assert error and error.group(1) == "Skriv en kort sammanfattning av kontakten."
    db.session.refresh(f)
    assert f.status == "open"


def test_snooze_reschedule_and_cancel(client, region, day):
    login(client, region.norsjo_guide)
    f = day["today"]
    client.post(f"/followups/{f.id}/snooze", data={"until": "tomorrow"})
    db.session.refresh(f)
    assert f.due_on == today() + timedelta(days=1)
    client.post(f"/followups/{f.id}/snooze", data={"until": "week"})
    db.session.refresh(f)
    assert f.due_on.weekday() == 0 and f.due_on > today()
    client.post(f"/followups/{f.id}/reschedule", data={"due_on": "2027-01-15", "due_time": "13:00"})
    db.session.refresh(f)
    assert (f.due_on, f.due_time) == (date(2027, 1, 15), time(13))
    assert client.post(f"/followups/{f.id}/reschedule", data={"due_on": "x"}).status_code == 400
    assert client.post(f"/followups/{f.id}/snooze", data={"until": "never"}).status_code == 400
    client.post(f"/followups/{f.id}/cancel")
    db.session.refresh(f)
    assert f.status == "cancelled"


def test_bulk_follow_ups_from_a_filtered_list(client, region):
    g = region.norsjo_guide
    a = factories.household(guide=g, name="Familjen A", tags=["mässa"])
    factories.household(guide=g, name="Familjen B")
    factories.household(factories.MALA, guide=region.mala_guide, name="Familjen C", tags=["mässa"])
    db.session.commit()
    login(client, g)
    response = client.post(
        "/households/bulk-followups?tag=mässa",
        data={"bulk_title": "Tacka för mässan", "bulk_due_on": "2026-12-07"},
    )
    assert response.status_code == 302
    made = db.session.execute(select(FollowUp.household_id, FollowUp.assignee_id)).all()
    assert made == [(a.id, g.id)]  # only the matching household this guide may see
    response = client.post("/households/bulk-followups?tag=mässa", data={"bulk_title": ""})
    assert response.status_code == 400
    assert len(db.session.scalars(select(FollowUp)).all()) == 1


def test_swedish_working_days():
    assert not is_working_day(date(2026, 6, 19))  # midsummer eve
    assert not is_working_day(date(2026, 12, 24))  # Christmas eve
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert is_working_day(date(2026, 11, 27))
    assert add_working_days(date(2026, 12, 22), 2) == date(2026, 12, 28)


NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)  # a Tuesday


def rule_followups():
    return db.session.execute(
        select(
            FollowUp.household_id, FollowUp.created_by_rule, FollowUp.due_on, FollowUp.assignee_id
        ).order_by(FollowUp.id)
    ).all()


def test_rules_create_follow_ups_once(app_ctx, region):
    g = region.norsjo_guide
    new = factories.household(guide=g, at=NOW - timedelta(hours=2))
    quiet = factories.household(guide=g, at=NOW - timedelta(days=90))
    change_stage(quiet, Stage.PLANNING, g, at=NOW - timedelta(days=80))
    log_contact(
        quiet, g, channel="phone", direction="out", summary="x", at=NOW - timedelta(days=40)
    )
    moving = factories.household(guide=g, at=NOW - timedelta(days=200), move_date=date(2027, 1, 2))
    change_stage(moving, Stage.DECIDED, g, at=NOW - timedelta(days=10))
    log_contact(
        moving, g, channel="phone", direction="out", summary="x", at=NOW - timedelta(days=1)
    )
    fresh = factories.household(guide=g, at=NOW - timedelta(days=90))
    change_stage(fresh, Stage.PLANNING, g)
    log_contact(fresh, g, channel="phone", direction="out", summary="x", at=NOW - timedelta(days=3))
    db.session.commit()

    assert evaluate_rules(NOW) == {"first_contact": 1, "no_contact": 1, "before_move": 1}
    assert rule_followups() == [
        (new.id, "first_contact", date(2026, 12, 28), g.id),  # 2 working days after 22 Dec
        (quiet.id, "no_contact", date(2026, 12, 22), g.id),
        (moving.id, "before_move", date(2026, 12, 22), g.id),  # 2 Jan minus 14 days is past
    ]
    assert evaluate_rules(NOW) == {"first_contact": 0, "no_contact": 0, "before_move": 0}
    assert evaluate_rules(NOW + timedelta(days=1)) == dict.fromkeys(
        ("first_contact", "no_contact", "before_move"), 0
    )


def test_completed_rule_follow_up_comes_back_only_when_due_again(app_ctx, region):
    g = region.norsjo_guide
    quiet = factories.household(guide=g, at=NOW - timedelta(days=90))
    change_stage(quiet, Stage.CONTACTED, g)
    quiet.last_contact_at = NOW - timedelta(days=40)
    evaluate_rules(NOW)
    f = db.session.scalars(select(FollowUp)).one()
    f.status = "done"
    assert evaluate_rules(NOW)["no_contact"] == 1  # still quiet: a new one
    assert len(db.session.scalars(select(FollowUp)).all()) == 2


def test_rules_can_be_switched_off_and_tuned(client, region):
    g = region.norsjo_guide
    quiet = factories.household(guide=g, at=NOW - timedelta(days=90))
    change_stage(quiet, Stage.CONTACTED, g)
    quiet.last_contact_at = NOW - timedelta(days=40)
    factories.household(guide=g, at=NOW)
    db.session.commit()
    login(client, region.coordinator)
    response = client.post(
        "/followups/rules",
        data={
            "first_contact-working_days": "2",
            "no_contact-enabled": "y",
            "no_contact-days": "60",
            "before_move-enabled": "y",
            "before_move-days_before": "14",
        },
    )
    assert response.status_code == 302
    assert evaluate_rules(NOW) == {"first_contact": 0, "no_contact": 0, "before_move": 0}
    response = client.post("/followups/rules", data={"no_contact-days": "-5"})
    assert response.status_code == 400
    assert "Numret måste vara mellan 0 och 365." in response.get_data(as_text=True)
    save_rule("no_contact", True, {"days": 30}, region.coordinator)
    assert evaluate_rules(NOW)["no_contact"] == 1


def test_database_refuses_a_second_open_follow_up_for_the_same_rule(app_ctx, region):
    h = factories.household(guide=region.norsjo_guide)
    create_followup(h, due_on=date(2026, 12, 1), by=None, rule="no_contact", rule_key="no_contact")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        create_followup(
            h, due_on=date(2026, 12, 2), by=None, rule="no_contact", rule_key="no_contact"
        )


@pytest.fixture
def two_param_rule():
    """A rule with two parameters, as a later feature might add."""
    from lotsen.followups.rules import RULES, Param, Rule, register_rule

    class Visit(Rule):
        name = "visit_check"
        label = "Visit check"
        help = "Two numbers."
        params = (Param("days", "Days after the visit", 3), Param("hour", "At hour", 9, 0, 23))

        def due(self, now, params):
            return iter(())

    register_rule(Visit())
    yield
    RULES.pop("visit_check")


def test_rules_page_shows_and_saves_every_parameter_of_a_rule(client, region, two_param_rule):
    from lotsen.followups.rules import rule_settings

    login(client, region.coordinator)
    page = client.get("/followups/rules").get_data(as_text=True)
    assert "Days after the visit" in page and "At hour" in page
    data = {
        "first_contact-enabled": "y",
        "first_contact-working_days": "2",
        "no_contact-enabled": "y",
        "no_contact-days": "30",
        "before_move-enabled": "y",
        "before_move-days_before": "14",
        "visit_check-enabled": "y",
        "visit_check-days": "5",
        "visit_check-hour": "24",
    }
    response = client.post("/followups/rules", data=data)
    assert response.status_code == 400  # the hour is out of range: nothing saved
    assert rule_settings()["visit_check"] == (True, {"days": 3, "hour": 9})
    response = client.post("/followups/rules", data={**data, "visit_check-hour": "13"})
    assert response.status_code == 302
    assert rule_settings()["visit_check"] == (True, {"days": 5, "hour": 13})
