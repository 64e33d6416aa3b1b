"""Lead capture at the stand: a phone-first page that keeps working offline.

Without JavaScript the page is a plain form (POST, flash, back to an empty form). With it,
static/js/capture.js keeps each capture in IndexedDB under a key the phone makes and sends
the queue to ``captures`` (JSON, in batches) whenever the network is there; the service
worker (static/js/capture-sw.js, served by ``capture_worker`` so that its scope may cover
the page) keeps the page and its files for a reload without network. Rules: leads.py.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from lotsen import ROOT, clock
from lotsen.access import PUBLIC, allow, get_event_or_404
from lotsen.accounts.models import Role
from lotsen.audit.minimise import NoIdentityNumber
from lotsen.events import bp
from lotsen.events.leads import (
    Lead,
    Outcome,
    capturable,
    leads_at,
    record_lead,
    record_leads,
    stored_keys,
)
from lotsen.extensions import db
from lotsen.forms import BaseForm, MultiCheckboxField, OptionalSelectField
from lotsen.households.forms import country_choices, normalise_phone
from lotsen.households.vocab import LANGUAGES
from lotsen.regions.models import municipality_refs
from lotsen.security import CONTROL_CHARACTERS

CAPTURE_ROLES = (Role.GUIDE, Role.COORDINATOR)
MAX_BATCH = 100  # captures per request; the page sends 50 at a time
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
LANGUAGE_OF_COUNTRY = {"SE": "sv", "NL": "nl", "BE": "nl", "DE": "de", "AT": "de", "GB": "en"}
WORKER = ROOT / "static" / "js" / "capture-sw.js"


class CaptureForm(BaseForm):
    """One visitor at the stand. The guide holds the phone; the visitor ticks the consent."""

    key = HiddenField()  # the client key: the no-JS form carries one made when it was shown
    captured_at = HiddenField()
    name = StringField(
        _l("Name"),
        validators=[InputRequired(), Length(max=160)],
        render_kw={"autocomplete": "off", "autocapitalize": "words"},
    )
    # The guide types someone else's details: the browser must not offer the guide's own.
    email = EmailField(
        _l("E-mail"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    phone = TelField(
        _l("Phone"),
        validators=[Optional(), Length(max=40)],
        description=_l("E-mail or phone, at least one. Phone with country code."),
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    country = OptionalSelectField(_l("Country"), choices=[])
    language = OptionalSelectField(
        _l("Language"), choices=[("", _l("- choose -")), *LANGUAGES.items()]
    )
    municipalities = MultiCheckboxField(_l("Municipalities of interest"), choices=[])
    notes = StringField(
        _l("Note (one line)"),
        validators=[Length(max=300), NoIdentityNumber()],
        render_kw={"autocomplete": "off"},
    )
    consent_contact = BooleanField(
        _l(
            "I agree that Move Up North stores my details and contacts me about moving here, "
            "as the privacy notice describes."
        ),
        validators=[InputRequired(message=_l("The visitor's consent is needed to save."))],
    )
    consent_newsletter = BooleanField(_l("Send me the newsletter (optional)."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.municipalities.choices = [(m.code, m.name) for m in municipality_refs()]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data and not self.email.errors:
            self.email.errors = [
                *self.email.errors,
                _l("Give an e-mail address or a phone number."),
            ]
            return False
        return valid

    def validate_email(self, field):
        field.data = field.data.lower()

    def validate_phone(self, field):
        if field.data:
            field.data = normalise_phone(field.data, self.country.data)

    def validate_key(self, field):
        if not KEY.match(field.data or ""):
            raise ValidationError(_l("The capture has no valid key."))

    def lead(self) -> Lead:
        return Lead(
            key=self.key.data,
            name=self.name.data,
            captured_at=_captured_at(self.captured_at.data),
            email=self.email.data or None,
            phone=self.phone.data or None,
            country=self.country.data,
            language=self.language.data,
            municipalities=list(dict.fromkeys(self.municipalities.data or [])),
            notes=self.notes.data or None,
            newsletter=bool(self.consent_newsletter.data),
        )


def _captured_at(raw: str | None) -> datetime:
    """When the phone says the capture was made; its clock may be wrong, never ahead of us."""
    now = clock.now()
    try:
        at = datetime.fromisoformat(raw or "")
    except ValueError:
        return now
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return now if at > now or at < now - timedelta(days=366) else at


def _prefill(form: CaptureForm, event) -> None:
    form.key.data = uuid.uuid4().hex
    form.municipalities.data = sorted(event.municipality_codes)
    form.country.data = event.country
    form.language.data = LANGUAGE_OF_COUNTRY.get(event.country or "")


def _messages() -> dict[str, str]:
    """What capture.js says, in the guide's language."""
    return {
        "leads_1": _("1 lead captured at this event so far."),
        "leads_n": _("%(n)s leads captured at this event so far.", n="{n}"),
        "waiting_0": _("No captures waiting to be sent."),
        "waiting_1": _("1 capture waiting to be sent."),
        "waiting_n": _("%(n)s captures waiting to be sent.", n="{n}"),
        "saved_offline": _("Saved on this phone. It is sent when the network is back."),
        "sent": _("Sent: %(n)s.", n="{n}"),
        "offline": _("No network: captures are kept on this phone."),
        "login": _("Your session has ended. Log in again to send the waiting captures."),
        "login_link": _("Log in"),
        "failed": _("Could not send now; trying again soon."),
        "need_contact": _("Give an e-mail address or a phone number."),
        "rejected": _("Not saved, please correct:"),
        "edit": _("Correct"),
        "discard": _("Discard"),
        "discard_confirm": _("Discard this capture for good?"),
    }


@bp.route("/<int:event_id>/capture", methods=["GET", "POST"])
@allow(*CAPTURE_ROLES)
def capture(event_id: int):
    """The capture page; its no-JavaScript POST stores one capture online."""
    event = get_event_or_404(event_id)
    form = CaptureForm()
    status = 200
    if request.method == "GET":
        _prefill(form, event)
    elif not capturable(event):
        flash(_("This event is cancelled: it takes no leads."), "error")
        status = 400
    elif form.validate_on_submit():
        outcome, _id = record_lead(event, form.lead(), by=current_user)
        db.session.commit()
        flash(
            _("Saved: %(name)s.", name=form.name.data)
            if outcome != Outcome.DUPLICATE
            else _("This capture was saved already."),
            "success",
        )
        return redirect(url_for("events.capture", event_id=event.id))
    else:
        status = 400
    return render_template(
        "events/capture.html",
        event=event,
        form=form,
        leads=leads_at(event),
        messages=_messages(),
        open_for_leads=capturable(event),
    ), status


def _form_for(item) -> CaptureForm:
    """The capture form filled from one JSON capture (the same checks as the page's)."""
    data = MultiDict()
    for name in ("key", "captured_at", "name", "email", "phone", "country", "language", "notes"):
        value = item.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            data[name] = str(value)
    for code in item.get("municipalities") or []:
        if isinstance(code, str):
            data.add("municipalities", code)
    for name in ("consent_contact", "consent_newsletter"):
        if item.get(name) is True:
            data[name] = "y"
    return CaptureForm(formdata=data, meta={"csrf": False})


def _has_control_characters(item: dict) -> bool:
    values = [v for v in item.values() if isinstance(v, str)]
    values += [v for v in item.get("municipalities") or [] if isinstance(v, str)]
    return any(CONTROL_CHARACTERS.search(v) for v in values)


def _check(item) -> tuple[str | None, Lead | dict]:
    """The capture's key, and its ``Lead`` or its errors ({field: [messages]})."""
    key = item.get("key") if isinstance(item, dict) else None
    key = key if isinstance(key, str) and KEY.match(key) else None
    if not isinstance(item, dict) or _has_control_characters(item):
        return key, {"": [_("Unreadable capture.")]}
    form = _form_for(item)
    if not form.validate():
        return key, {name: [str(e) for e in messages] for name, messages in form.errors.items()}
    return key, form.lead()


def _store_all(event, items: list) -> list[dict]:
    """Each capture answered on its own, in the order sent."""
    keys = [item.get("key") for item in items if isinstance(item, dict)]
    known = stored_keys([k for k in keys if isinstance(k, str) and KEY.match(k)])
    results: list[dict] = []
    leads: list[tuple[int, Lead]] = []
    for item in items:
        if isinstance(item, dict) and item.get("key") in known:
            results.append({"key": item["key"], "status": "duplicate"})
            continue
        key, checked = _check(item)
        if isinstance(checked, Lead):
            leads.append((len(results), checked))
            results.append({"key": key, "status": "stored"})
        else:
            results.append({"key": key, "status": "invalid", "errors": checked})
    stored = record_leads(event, [lead for _i, lead in leads], by=current_user)
    for (i, _lead), outcome in zip(leads, stored, strict=True):
        if isinstance(outcome, ValueError):
            current_app.logger.info("capture refused on event %s: %s", event.id, type(outcome))
            results[i] = {**results[i], "status": "invalid", "errors": {"": [str(outcome)]}}
        elif outcome[0] == Outcome.DUPLICATE:
            results[i]["status"] = "duplicate"
    return results


@bp.route("/<int:event_id>/captures", methods=["POST"])
@allow(*CAPTURE_ROLES)
def captures(event_id: int):
    """A batch of captures from the phone's queue, as JSON ``{"captures": [...]}``. Each is
    answered on its own: ``stored`` and ``duplicate`` keys may leave the phone, ``invalid``
    ones come back with their errors. A resend of a key is a ``duplicate``, never a second
    household."""
    event = get_event_or_404(event_id)
    payload = request.get_json(silent=True)
    items = payload.get("captures") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        return jsonify(error=_("Send a list of 1 to %(n)s captures.", n=MAX_BATCH)), 400
    if not capturable(event):
        return jsonify(error=_("This event is cancelled: it takes no leads.")), 409
    results = _store_all(event, items)
    db.session.commit()
    return jsonify(
        results=results,
        stored=sum(r["status"] == "stored" for r in results),
        leads=leads_at(event),
    )


@bp.route("/<int:event_id>/captures/token")
@allow(*CAPTURE_ROLES)
def capture_token(event_id: int):
    """A fresh CSRF token just before the queue is sent: the page's may be hours old, or
    from a session that has ended since."""
    get_event_or_404(event_id)
    return jsonify(csrf_token=generate_csrf())


@bp.route("/capture-sw.js")
@allow(PUBLIC)
def capture_worker():
    """The service worker. Served from here (not /static) so that its scope may reach the
    capture pages (a worker's scope is at most its own folder, /outreach/events/); it holds
    no data, so anyone may fetch it, like any static file."""
    response = Response(WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
