"""The public page of an event (/events/<slug>): what, when, where, places left, and the
sign-up form (double opt-in, like /interest); the confirmation and cancel links."""

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from lotsen import clock
from lotsen.access import PUBLIC, allow
from lotsen.events import public_bp as bp
from lotsen.events.ics import description_for, place_text, when_text, zone_text
from lotsen.events.models import Event
from lotsen.events.optin import (
    CancelError,
    SignupClosed,
    cancel_signup,
    confirm_signup,
    confirmed_signup,
    may_cancel,
    signup_for_cancel,
    source_of,
    submit_signup,
)
from lotsen.events.public_forms import EventSignupForm
from lotsen.events.signups import places_left
from lotsen.events.vocab import EventStatus, SignupStatus
from lotsen.extensions import db, limiter
from lotsen.households.vocab import InterestStatus
from lotsen.interest.forms import started_token
from lotsen.interest.services import (
    PRIVACY_VERSION,
    ConfirmationError,
    ConfirmationExpired,
    submission_for,
)


def _lang() -> str:
    return str(get_locale())


def _rate_limit() -> str:
    return current_app.config["INTEREST_RATE_LIMIT"]


def _event_or_404(slug: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        abort(404)
    return event


def _shown(event: Event) -> dict:
    """The event as the page shows it, in the reader's language."""
    lang = _lang()
    return {
        "event": event,
        "when": when_text(event, lang),
        "zone": zone_text(event),
        "place": place_text(event, lang),
        "description": description_for(event, lang),
        "places_left": places_left(event) if event.status == EventStatus.OPEN else None,
    }


@bp.route("/<slug>", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(_rate_limit, methods=["POST"])
def page(slug: str):
    """The event, and while it is open for sign-up, the form."""
    if request.content_length and request.content_length > current_app.config["INTEREST_MAX_BYTES"]:
        abort(413)
    event = _event_or_404(slug)
    form = EventSignupForm() if event.status == EventStatus.OPEN else None
    if form is None:
        if request.method == "POST":
            return render_template("events/public.html", form=None, **_shown(event)), 409
    elif request.method == "GET":
        form.privacy_version.data = PRIVACY_VERSION
        form.started.data = started_token()
        form.language.data = _lang()
    elif form.validate_on_submit():
        if not form.is_bot():
            primary = event.municipalities[0].code if len(event.municipalities) == 1 else None
            data = form.submission_data(source_of(event), primary)
            submit_signup(event, data, locale=_lang(), now=clock.now())
            db.session.commit()
        return redirect(url_for("event_public.sent", slug=event.slug, lang=_lang()))
    else:
        form.started.data = form.started.data or started_token()
    status = 400 if form is not None and form.errors else 200
    return render_template(
        "events/public.html", form=form, version=PRIVACY_VERSION, **_shown(event)
    ), status


@bp.route("/<slug>/sent")
@allow(PUBLIC)
def sent(slug: str):
    return render_template("events/public_sent.html", event=_event_or_404(slug))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def confirm(token: str):
    """GET shows a button, POST confirms: link scanners in mail systems only ever GET."""
    try:
        submission = submission_for(token, event=True)
    except ConfirmationExpired:
        return render_template("events/public_invalid.html", expired=True), 410
    except ConfirmationError:
        return render_template("events/public_invalid.html", expired=False), 404
    event = db.session.get(Event, submission.event_id)
    if submission.status == InterestStatus.CONFIRMED:
        signup = confirmed_signup(submission)
        return render_template("events/public_thanks.html", again=True, signup=signup, event=event)
    if request.method == "POST":  # CSRFProtect has checked the token
        try:
            signup = confirm_signup(submission, clock.now())
        except SignupClosed:
            db.session.rollback()
            return render_template("events/public.html", form=None, **_shown(event)), 409
        db.session.commit()
        return render_template("events/public_thanks.html", again=False, signup=signup, event=event)
    return render_template("events/public_confirm.html", token=token, **_shown(event))


@bp.route("/cancel/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def cancel(token: str):
    """The cancel link of the participant mails: GET asks, POST cancels."""
    try:
        signup = signup_for_cancel(token)
    except CancelError:
        return render_template("events/public_invalid.html", expired=False), 404
    now = clock.now()
    shown = _shown(signup.event)
    if signup.status == SignupStatus.CANCELLED:
        return render_template("events/public_cancel.html", done=True, **shown)
    if not may_cancel(signup, now):
        return render_template("events/public_cancel.html", done=False, too_late=True, **shown)
    if request.method == "POST":
        cancel_signup(signup, now)
        db.session.commit()
        return render_template("events/public_cancel.html", done=True, **shown)
    waiting = signup.status == SignupStatus.WAITLISTED
    return render_template(
        "events/public_cancel.html", done=False, too_late=False, waiting=waiting, **shown
    )
