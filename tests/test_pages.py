"""The household page is built from panels that features register."""

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader

from lotsen.accounts.models import Role
from lotsen.extensions import db
from lotsen.households import pages
from tests import factories
from tests.conftest import login


@pytest.fixture
def extra_panel(app, tmp_path):
    """A panel as a later feature would add it, for coordinators only."""
    loader = app.jinja_loader
    template = tmp_path / "_extra.html"
    template.write_text(
        '<section class="card"><h2>Extra card</h2><p>{{ extra_text }}</p></section>'
    )
    app.jinja_loader = ChoiceLoader([loader, FileSystemLoader(str(tmp_path))])
    pages.register_panel(
        "extra",
        order=35,
        template="_extra.html",
        context=lambda household: {"extra_text": f"About {household.name}"},
        roles={Role.COORDINATOR},
    )
    yield
    pages._PANELS.pop("extra")
    app.jinja_loader = loader


def test_a_registered_panel_shows_for_its_roles_only(client, region, extra_panel):
    h = factories.household(guide=region.norsjo_guide, name="Familjen Panel")
    db.session.commit()
    login(client, region.coordinator)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Extra card" in page and "About Familjen Panel" in page
    # placed by its order: after the follow-ups (30), before the stage card (40)
    assert page.index("Öppna uppföljningar") < page.index("Extra card") < page.index("Byt steg")
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Familjen Panel" in page and "Extra card" not in page


def test_the_page_shows_every_feature_card(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    headings = ("Logga en kontakt", "Tidslinje", "Uppgifter", "Medlemmar", "Öppna uppföljningar")
    positions = [page.index(f">{heading}</h2>") for heading in headings]
    assert positions == sorted(positions)  # main column first, then the side column in order


def test_every_timeline_kind_has_its_template(app):
    from lotsen.households.vocab import EventKind, TimelineKind

    for kind in (*EventKind, *TimelineKind):
        app.jinja_env.get_template(f"households/timeline/{kind}.html")  # raises when missing
