"""The menu follows the views' @allow declarations: a link shows only when it would open."""

import re

from lotsen.access import may_open
from tests.conftest import login


def menu_links(client) -> set[str]:
    page = client.get("/settings").get_data(as_text=True)
    nav = page[page.index("<nav") : page.index("</nav>")]
    return set(re.findall(r'href="([^"?#]+)"', nav))


def test_each_role_sees_the_links_it_may_open_and_they_open(client, region):
    for user in (region.norsjo_guide, region.coordinator, region.admin):
        login(client, user)
        links = menu_links(client)
        for link in links:
            assert client.get(link).status_code == 200, (user.role, link)
        expected = {
            "guide": {"/my-day", "/households", "/households/new"},
            "coordinator": {"/my-day", "/households", "/households/new", "/followups/rules"},
            "admin": {"/followups/rules", "/admin/users", "/admin/login-attempts"},
        }[user.role]
        assert expected <= links, user.role
        assert ("/admin/users" in links) == (user.role == "admin")
        assert ("/households" in links) == (user.role != "admin")


def test_may_open_reads_the_declaration(app_ctx, region):
    with app_ctx.test_request_context():
        assert may_open("households.index", region.norsjo_guide)
        assert not may_open("households.index", region.admin)
        assert may_open("interest.form", region.admin)  # public
        assert not may_open("no.such_endpoint", region.admin)
