"""A guide imports a fair list in a real browser (Chromium): upload, columns, preview,
import, report, undo — every step without accessibility violations (axe-core)."""

from tests import factories
from tests.test_browser import browser, live_server, page  # noqa: F401  (fixtures)
from tests.test_browser_interest import axe_violations

LIST = (
    "Namn;E-post;Telefon;Kommun;Vuxna;Barn;Källa\n"
    "Familjen van den Berg;berg@example.nl;+31 6 12345678;Norsjö;2;1;Mässa\n"
    "Jürgen Groß;gross@example.de;;Norsjö;1;;Emigrationsmesse\n"
    "Fel Adress;fel(at)example.se;;Norsjö;;;\n"
)


def test_guide_imports_a_list_and_undoes_it(live_server, page):  # noqa: F811
    base = live_server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(live_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")

    page.get_by_role("link", name="Importera").click()
    assert axe_violations(page) == [], "upload"
    page.get_by_label("Kalkylarksfil").set_input_files(
        {"name": "mässa.csv", "mimeType": "text/csv", "buffer": LIST.encode()}
    )
    page.get_by_role("button", name="Ladda upp och välj kolumner").click()
    page.get_by_role("heading", name="Välj kolumner").wait_for()
    assert axe_violations(page) == [], "columns"
    assert page.get_by_label("Källa", exact=True).input_value() == "source"

    page.get_by_role("button", name="Kontrollera raderna").click()
    page.get_by_role("heading", name="Kontrollera raderna").wait_for()
    assert axe_violations(page) == [], "preview"
    assert "Nya hushåll: 2" in page.content()
    assert "”fel(at)example.se” är inte en giltig e-postadress." in page.content()

    page.get_by_role("button", name="Importera", exact=True).click()
    page.get_by_role("heading", name="Import av mässa.csv").wait_for()
    assert axe_violations(page) == [], "report"
    assert "Importerat: 2 skapade, 0 tillagda, 0 överhoppade, 1 ogiltiga." in page.content()

    page.get_by_role("button", name="Ångra importen").click()
    page.get_by_text("Importen har ångrats: 2 rader.").wait_for()
    assert page.problems == []
