"""Things built once and reused across requests (statements, drawn markup, shared forms), in
bounded stores: a full store is emptied rather than kept in order, since what is in use is
built again at its next request and the rest is gone."""

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


def kept(store: dict, key: Hashable, build: Callable[[], T], limit: int) -> T:
    """``store[key]``, built by ``build()`` the first time; ``store`` holds at most ``limit``."""
    value = store.get(key)
    if value is None:
        if len(store) >= limit:
            store.clear()
        value = store[key] = build()
    return value
