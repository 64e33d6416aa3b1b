from sqlalchemy import func, select

from lotsen.extensions import db
from lotsen.regions.models import Municipality
from tests import factories


def test_ten_municipalities_after_upgrade(app_ctx):
    rows = db.session.execute(
        select(Municipality.code, Municipality.name, Municipality.county)
    ).all()
    assert len(rows) == 10
    assert ("2417", "Norsjö", "Västerbotten") in rows
    assert ("2506", "Arjeplog", "Norrbotten") in rows


def test_household_factory(app_ctx, region):
    h = factories.household(guide=region.norsjo_guide)
    assert h.id and h.guide_id == region.norsjo_guide.id
    assert db.session.scalar(select(func.count()).select_from(Municipality)) == 10
