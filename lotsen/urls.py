"""URLs built from what a visitor sent: ids in paths, query strings kept on links, and
redirect targets, which must stay inside the app."""

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from werkzeug.routing import IntegerConverter

# Every id column is an INTEGER (32 bits on PostgreSQL): a larger number can name nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a database id, 1 to MAX_ID. Anything else is a 404
    instead of an overflow in the database driver."""

    def __init__(self, map, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, **kwargs)


def query_args(keys: Iterable[str], **overrides) -> dict:
    """The page's own query-string keys (a whitelist), with ``overrides`` applied. Nothing
    else a visitor puts in the query string reaches ``url_for``, where keys such as
    ``endpoint``, ``_external`` or ``_method`` would break link building."""
    sent = request.args  # once: each use of ``request`` is a context-local look-up
    args = {key: sent.getlist(key) for key in keys if key in sent}
    args.update(overrides)
    return {key: value for key, value in args.items() if value is not None}


def page_url(endpoint: str | None = None, keys: Iterable[str] = (), **overrides) -> str:
    """A link to ``endpoint`` (default: this page, with its path values) that carries over
    the whitelisted query-string ``keys`` of this request."""
    view_args = (request.view_args or {}) if endpoint is None else {}
    return url_for(endpoint or request.endpoint, **view_args, **query_args(keys, **overrides))


def is_safe_next(target: str | None) -> bool:
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def next_url(default_endpoint: str = "households.index") -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for(default_endpoint)


_ID_PLACEHOLDER = 1_999_990_000  # a valid id no database here reaches; + the key's position


def id_url(endpoint: str, **ids: int) -> str:
    """``url_for(endpoint, **ids)`` for an endpoint whose only values are ids, built by
    ``url_for`` once per app, endpoint and script root with placeholders that the ids
    replace: the household page links a dozen such URLs, and ``url_for`` costs as much
    as drawing a card."""
    keys = tuple(ids)
    for value in ids.values():
        if type(value) is not int or not 0 < value <= MAX_ID:
            return url_for(endpoint, **ids)
    kept = current_app.extensions.setdefault("lotsen_id_urls", {})
    cache_key = (endpoint, keys, request.script_root)
    pattern = kept.get(cache_key)
    if pattern is None:
        pattern = url_for(endpoint, **{k: _ID_PLACEHOLDER + n for n, k in enumerate(keys)})
        kept[cache_key] = pattern
    for n, key in enumerate(keys):
        pattern = pattern.replace(str(_ID_PLACEHOLDER + n), str(ids[key]))
    return pattern


def id_urls(endpoint: str, name: str) -> Callable[[int], str]:
    """``id_url(endpoint, name=id)`` as a function of the id, for a list with a link in every
    row: the pattern is looked up once, each row's link is one string."""
    before, _mark, after = id_url(endpoint, **{name: _ID_PLACEHOLDER}).partition(
        str(_ID_PLACEHOLDER)
    )
    return lambda id_: f"{before}{int(id_)}{after}"
