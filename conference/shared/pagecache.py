"""Rendered pages kept by each worker until anything they could show changes.

A heavy page (a case file, a meeting) is rendered once and served again while nothing was written: its
key holds the URL, the login (account and login id: a new login, a password change or a revoked session
never meets an old page), the browser's CSRF token (the page carries it), the language, the city's day
and the ``PAGES`` data version, which every write but the access log raises (``conference.shared.freshness``).
Pages carrying a flashed message are neither served from the cache nor kept. Entries expire after
``PAGE_CACHE_SECONDS`` and the oldest go first beyond ``PAGE_CACHE_SIZE``; a size of 0 turns caching off.

The cache spares only the rendering: the view still loads what it checks permissions on and writes the
access record on every view. The pages live in the worker's memory only: never on disk, never in a shared cache.
"""
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from conference.core.formatting import today_local
from conference.shared import freshness

_STORE = "rendered_pages"
#: What a view keeps: the page, or the page with what its access record says of it.
Page = TypeVar("Page")


def _store() -> OrderedDict:
    return current_app.extensions.setdefault(_STORE, OrderedDict())


def rendered(render: Callable[[], Page]) -> Page:
    """What ``render`` makes for this request (the page, or the page with what the view's access record says of
    it): kept from an earlier identical view, or made now."""
    size = current_app.config["PAGE_CACHE_SIZE"]
    token = session.get("csrf_token")
    if not size or token is None or session.get("_flashes"):
        return render()
    key = (request.script_root, request.full_path, current_user.get_id(), token, str(get_locale()), today_local(),
           freshness.pages_version())  # read before the data the page shows
    store, now = _store(), time.monotonic()
    kept = store.get(key)
    if kept is not None and now - kept[0] < current_app.config["PAGE_CACHE_SECONDS"]:
        store.move_to_end(key)
        return kept[1]
    page = render()
    store[key] = (now, page)
    store.move_to_end(key)
    while len(store) > size:
        store.popitem(last=False)
    return page
