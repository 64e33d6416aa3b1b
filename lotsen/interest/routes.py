from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale

from lotsen import clock
from lotsen.access import PUBLIC, allow
from lotsen.extensions import db, limiter
from lotsen.households.vocab import InterestStatus
from lotsen.interest.forms import InterestForm, started_token
from lotsen.interest.services import (
    PRIVACY_VERSION,
    ConfirmationError,
    ConfirmationExpired,
    confirm,
    submission_for,
    submit,
)
from lotsen.regions.models import municipality_refs

bp = Blueprint("interest", __name__)


def _lang() -> str:
    return str(get_locale())


def _rate_limit() -> str:
    return current_app.config["INTEREST_RATE_LIMIT"]


@bp.route("/interest", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(_rate_limit, methods=["POST"])
def form():
    """The public form: shown, refused (too large), or accepted in named steps."""
    if request.content_length and request.content_length > current_app.config["INTEREST_MAX_BYTES"]:
        abort(413)
    municipalities = municipality_refs()
    form = InterestForm(municipalities=municipalities)
    if request.method == "GET":
        _prefill(form, {m.code for m in municipalities})
    elif form.validate_on_submit():
        return _accept(form)
    else:
        form.started.data = form.started.data or started_token()
    status = 400 if form.errors else 200
    return render_template("interest/form.html", form=form, version=PRIVACY_VERSION), status


def _prefill(form: InterestForm, codes: set[str]) -> None:
    """A municipality's website links with ?kommun=CODE; the start stamp times the visit."""
    if request.args.get("kommun") in codes:
        form.primary.data = request.args["kommun"]
    form.privacy_version.data = PRIVACY_VERSION
    form.started.data = started_token()


def _accept(form: InterestForm):
    """Store the submission (bots get the same answer and nothing is stored)."""
    if not form.is_bot():
        submit(form.submission_data(), locale=_lang(), now=clock.now())
        db.session.commit()
    return redirect(url_for("interest.sent", lang=_lang()))


@bp.route("/interest/sent")
@allow(PUBLIC)
def sent():
    return render_template("interest/sent.html")


@bp.route("/interest/confirm/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def confirm_page(token: str):
    """GET shows a button, POST confirms: link scanners in mail systems only ever GET."""
    try:
        submission = submission_for(token)
    except ConfirmationExpired:
        return render_template("interest/invalid.html", expired=True), 410
    except ConfirmationError:
        return render_template("interest/invalid.html", expired=False), 404
    if submission.status == InterestStatus.CONFIRMED:
        return render_template("interest/thanks.html", again=True)
    if request.method == "POST":  # CSRFProtect has checked the token
        confirm(submission, clock.now())
        db.session.commit()
        return render_template("interest/thanks.html", again=False)
    return render_template("interest/confirm.html", token=token)


@bp.route("/privacy")
@allow(PUBLIC)
def privacy():
    return render_template("interest/privacy.html", version=PRIVACY_VERSION)


@bp.route("/accessibility")
@allow(PUBLIC)
def accessibility():
    return render_template("interest/accessibility.html")
