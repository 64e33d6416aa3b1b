"""Every e-mail Lotsen sends is composed here, from ``templates/email/<name>.txt``.

    send_mail("reminder", to=user.email, locale=user.locale, key=f"reminder:{f.id}:{stamp}",
              now=now, user_id=user.id, followup=f)

renders the template in the recipient's language and adds the result to the outbox (sent by
the ``dispatch-outbox`` job; a key already in the outbox is never sent again). A template
holds two blocks, ``subject`` and ``body``; texts go through ``_()`` like page templates, and
``link(endpoint, **values)`` gives an absolute link. Context processors do not run for mails
(no ``current_user``, no request): pass what the template needs.

``external_url`` is the one place absolute links are made (mails, the calendar feed): the
same as ``url_for(endpoint, _external=True)`` in a request to ``BASE_URL``, also outside a
request (scheduler jobs), and behind a proxy that rewrites the host.
"""

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, g
from flask_babel import force_locale, get_translations

from lotsen import clock
from lotsen.notifications.services import Mail, enqueue_many


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under ``BASE_URL`` for ``endpoint``."""
    base_url = current_app.config["BASE_URL"]
    bound = g.get("mail_url_adapter")
    if bound is None or bound[0] != base_url:  # one binding per job or request
        base = urlsplit(base_url)
        adapter = current_app.url_map.bind(
            base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
        )
        bound = g.mail_url_adapter = (base_url, adapter)
    current_app.inject_url_defaults(endpoint, values)
    return bound[1].build(endpoint, values, force_external=True)


def _texts(translations) -> dict:
    """``_``, ``gettext`` and ``ngettext`` bound to one language's catalog, as Jinja's
    new-style gettext calls them: a digest has hundreds of texts, and a look-up of the
    current locale per text is most of its rendering time."""

    def gettext(message: str, **variables) -> str:
        return translations.ugettext(message) % variables

    def ngettext(singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        return translations.ungettext(singular, plural, num) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def render_mail(template: str, locale: str, **context) -> tuple[str, str]:
    """The subject and body of ``templates/email/<template>.txt`` in ``locale``."""
    tmpl = current_app.jinja_env.get_template(f"email/{template}.txt")
    with force_locale(locale):
        texts = _texts(get_translations())
        ctx = tmpl.new_context({**texts, "link": external_url, "locale": locale, **context})
        subject = "".join(tmpl.blocks["subject"](ctx))
        body = "".join(tmpl.blocks["body"](ctx))
    return " ".join(subject.split()), body.strip()


def compose_mail(
    template: str,
    *,
    to: str,
    locale: str,
    key: str,
    user_id: int | None = None,
    kind: str | None = None,
    attachments: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> Mail:
    """A rendered mail, not yet queued (for ``send_mails``). ``kind`` defaults to the
    template's name; ``key`` is the deduplication key. ``attachments`` are text parts
    (``{"filename", "content_type", "content"}``, e.g. an .ics invitation) and ``headers``
    extra headers, both stored with the mail in the outbox."""
    subject, body = render_mail(template, locale, **context)
    return Mail(
        key=key,
        kind=kind or template,
        to=to,
        subject=subject,
        body=body,
        user_id=user_id,
        attachments=attachments,
        headers=headers,
    )


def send_mails(mails: Iterable[Mail], now: datetime | None = None) -> int:
    """Queue composed mails in one statement; returns how many were new."""
    return enqueue_many(list(mails), now or clock.now())


def send_mail(
    template: str,
    *,
    to: str,
    locale: str,
    key: str,
    now: datetime | None = None,
    user_id: int | None = None,
    kind: str | None = None,
    attachments: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> bool:
    """Render ``templates/email/<template>.txt`` for one recipient and queue it; False when
    a mail with the same ``key`` was queued before."""
    mail = compose_mail(
        template,
        to=to,
        locale=locale,
        key=key,
        user_id=user_id,
        kind=kind,
        attachments=attachments,
        headers=headers,
        **context,
    )
    return send_mails([mail], now) == 1
