from datetime import UTC, datetime

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lotsen import ROOT
from lotsen.extensions import db
from tests import factories
from tests.conftest import login

TRANSLATIONS = ROOT / "lotsen" / "translations"


def test_every_message_has_a_swedish_translation():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    with open(TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {
        m.id
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert template - translated == set()
    assert not catalog.fuzzy


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_source():
    with open(TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po", "rb") as f:
        source = {_key(m.id): _key(m.string) for m in read_po(f) if m.id}
    with open(TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    assert compiled == source, "run: pybabel compile -d lotsen/translations"


def test_swedish_by_default_english_per_user(client, region):
    h = factories.household(guide=region.norsjo_guide)
    h.created_at = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 July in Stockholm
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Logga en kontakt" in page
    assert "2 juli 2026" in page
    assert '<a href="/households" aria-current="page">Hushåll</a>' in page  # the menu
    assert ">Ny</span>" in client.get("/households").get_data(as_text=True)  # a stage label

    assert client.post("/settings", data={"locale": "en"}).status_code == 302
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log a contact" in page
    assert "Jul 2, 2026" in page
    assert '<a href="/households" aria-current="page">Households</a>' in page
    assert ">New</span>" in client.get("/households").get_data(as_text=True)


def test_login_page_language_can_be_switched(client):
    assert "Logga in i Lotsen" in client.get("/login").get_data(as_text=True)
    assert "Log in to Lotsen" in client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in to Lotsen" in client.get("/login").get_data(as_text=True)  # remembered


def test_numbers_follow_the_locale(client, region):
    h = factories.household(guide=region.norsjo_guide, housing_budget=1500000)
    db.session.commit()
    login(client, region.norsjo_guide)
    assert "1\xa0500\xa0000 kr" in client.get(f"/households/{h.id}").get_data(as_text=True)


def _public_messages() -> set:
    """The texts of the public pages: the interest templates and module, plus what they share."""
    from babel.messages.extract import extract_from_dir

    ids = set()
    method_map = [("lotsen/interest/**.py", "python"), ("templates/interest/**.html", "jinja2")]
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        keywords={"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None},
    ):
        ids.add(message)
    return ids


STAFF_ONLY = {  # e-mails to guides, in their own Swedish or English
    "New interest: %(name)s",
    "New interest (possible duplicate): %(name)s",
    "Interest form again for %(name)s",
    "The interest form was sent again from %(email)s, the household's e-mail address, and "
    "confirmed from it. Review on the timeline what differs; nothing has been changed.",
    "An interest form was sent and confirmed from %(email)s.",
    "Its phone number is that of household number %(id)d, but the e-mail address is not: it may "
    "be the same family, or someone else who gave their number. Compare the two and merge them if "
    "they are the same.",
    "First contact",  # the follow-up title, always Swedish
}


def test_public_pages_are_translated_into_four_languages():
    public = _public_messages() - STAFF_ONLY
    assert len(public) > 50
    for lang in ("sv", "de", "nl"):
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            done = {m.id for m in read_po(f) if m.id and m.string}
        assert public - done == set(), lang


def test_a_lazy_option_label_made_per_request_is_rendered_once_per_locale(app_ctx):
    """Forms that build their choices per request make a new lazy label each time; the
    option cache must not grow by one entry a request, nor mix up the locales."""
    from flask_babel import force_locale

    from lotsen.followups.forms import FollowUpForm
    from lotsen.form_html import _option

    def first_option(locale):
        with app_ctx.test_request_context(), force_locale(locale):
            return str(FollowUpForm(formdata=None).assignee_id()).split("</option>")[0]

    _option.cache_clear()
    swedish = [first_option("sv") for _ in range(3)]
    english = first_option("en")
    assert _option.cache_info().currsize == 2  # the Swedish and the English option
    assert swedish[0] == swedish[2] and "Hushållets lots" in swedish[0]
    assert "The household&#39;s guide" in english
