"""The privacy feature's card on the household page: legal basis, consents, disposal."""

from lotsen.forms import blank_form
from lotsen.households.models import Household
from lotsen.households.pages import register_panel
from lotsen.privacy.consents import HOW_LABELS, PURPOSE_LABELS, consents_of
from lotsen.privacy.disposal import disposal_outlook
from lotsen.privacy.forms import ConsentForm, HoldForm, LegalBasisForm, WithdrawForm


def _context(household: Household) -> dict:
    disposal_on, held_until = disposal_outlook(household)
    return {
        "privacy_consents": consents_of(household.id),
        "privacy_consent_form": blank_form(ConsentForm, prefix="consent"),
        "privacy_withdraw_form": blank_form(WithdrawForm, prefix="withdraw"),
        "privacy_basis_form": blank_form(
            LegalBasisForm, data={"legal_basis": household.legal_basis}
        ),
        "privacy_disposal_on": disposal_on,
        "privacy_held_until": held_until,
        "privacy_hold_form": blank_form(HoldForm, prefix="hold"),
        "privacy_purpose_label": lambda v: PURPOSE_LABELS.get(v, v),
        "privacy_how_label": lambda v: HOW_LABELS.get(v, v),
    }


register_panel("privacy", order=70, template="privacy/_panel.html", context=_context)
